"""Alembic environment: the shared dbops runner (see dbops.revisions.env)."""

from alembic import context

from dbops.revisions.env import run_environment

run_environment(context)
