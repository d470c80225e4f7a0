"""Migrations: one Alembic environment per schema, applied safely.

- ``upgrade`` / ``downgrade``: Alembic under the schema's advisory lock,
  checksums recorded (test harness, reset);
- ``migrate``: ``dbops migrate`` (dev: upgrade, then regenerate the types);
- ``create_revision``: ``dbops migrate create`` (autogenerate or blank, then lint);
- ``deploy``: ``dbops deploy`` (production: lock, lint, timeouts, retries, checksums);
- ``status``: ``dbops status``; ``reset``: ``dbops reset`` (with its guards).

dbops' bookkeeping tables in each database are named ``dbops_*``
(``is_bookkeeping_table``); comparisons against the models must skip them
(``make_include_name``).
"""

from dbops.migrate.api import (
    MigrateResult,
    advisory_lock_key,
    alembic_config,
    current_revision,
    downgrade,
    head_revisions,
    migrate,
    upgrade,
)
from dbops.migrate.checksums import EditedRevision
from dbops.migrate.create import CreatedRevision, create_revision
from dbops.migrate.deploy import DeployReport, EditedRevisionsError, LintRefused, deploy
from dbops.migrate.env import CHECKSUM_TABLE, is_bookkeeping_table, make_include_name
from dbops.migrate.reset import ResetResult, check_reset_allowed, reset
from dbops.migrate.status import SchemaStatus, status

__all__ = [
    "CHECKSUM_TABLE",
    "CreatedRevision",
    "DeployReport",
    "EditedRevision",
    "EditedRevisionsError",
    "LintRefused",
    "MigrateResult",
    "ResetResult",
    "SchemaStatus",
    "advisory_lock_key",
    "alembic_config",
    "check_reset_allowed",
    "create_revision",
    "current_revision",
    "deploy",
    "downgrade",
    "head_revisions",
    "is_bookkeeping_table",
    "make_include_name",
    "migrate",
    "reset",
    "status",
    "upgrade",
]
