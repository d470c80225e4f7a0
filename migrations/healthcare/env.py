"""Alembic environment: the shared dbops runner (see dbops.migrate.env)."""

from alembic import context

from dbops.migrate.env import run_environment

run_environment(context)
