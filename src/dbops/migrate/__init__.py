"""Applying migrations: one Alembic environment per schema.

``upgrade(settings, schema, url)`` is what ``dbops migrate`` and the test
harness call; the CLI only parses and renders.
"""

from dbops.migrate.api import alembic_config, current_revision, head_revisions, upgrade

__all__ = ["alembic_config", "current_revision", "head_revisions", "upgrade"]
