"""The Alembic adapter: one Alembic environment per schema, read and run the dbops way.

- ``alembic_config`` / ``script_directory``: a schema's environment (no alembic.ini);
- ``load_history`` → ``History``: the revision graph as plain data (heads,
  applied, pending, walking); a broken graph is an InputError naming the file;
- ``database_state`` / ``current_revision``: where a database stands;
- the checksums table (``dbops_revision_checksums``, owned by ``checksums``):
  applied revision files that were edited since;
- ``upgrade`` / ``downgrade`` / ``migration_session``: Alembic on one connection
  under the schema's advisory lock, checksums recorded per revision;
- ``render_history`` / ``render_revision``: revisions as offline SQL for the
  lint (``RenderedRevision``), ``upgrade_sql`` for ``deploy --dry-run``;
- ``env.run_environment``: the body of every schema's ``env.py``.

dbops' bookkeeping tables in each database are named ``dbops_*``
(``is_bookkeeping_table``); comparisons against the models must skip them
(``make_include_name``).

Importing the package is light: Alembic and SQLAlchemy load when a function needs them.
"""

from dbops.revisions.checksums import CHECKSUM_TABLE, EditedRevision, RecordedChecksum, compare
from dbops.revisions.config import alembic_config, script_directory
from dbops.revisions.env import (
    AppliedStep,
    RunHooks,
    is_bookkeeping_table,
    load_metadata,
    make_include_name,
    partition_names,
)
from dbops.revisions.history import (
    History,
    RevisionFile,
    current_revision,
    database_state,
    head_revisions,
    load_history,
)
from dbops.revisions.render import RenderedRevision, render_history, render_revision, upgrade_sql
from dbops.revisions.session import (
    RETRYABLE_SQLSTATES,
    MigrationSession,
    advisory_lock_key,
    downgrade,
    error_detail,
    migration_session,
    revision_failed,
    sqlstate,
    upgrade,
)

__all__ = [
    "CHECKSUM_TABLE",
    "RETRYABLE_SQLSTATES",
    "AppliedStep",
    "EditedRevision",
    "History",
    "MigrationSession",
    "RecordedChecksum",
    "RenderedRevision",
    "RevisionFile",
    "RunHooks",
    "advisory_lock_key",
    "alembic_config",
    "compare",
    "current_revision",
    "database_state",
    "downgrade",
    "error_detail",
    "head_revisions",
    "is_bookkeeping_table",
    "load_history",
    "load_metadata",
    "make_include_name",
    "migration_session",
    "partition_names",
    "render_history",
    "render_revision",
    "revision_failed",
    "script_directory",
    "sqlstate",
    "upgrade",
    "upgrade_sql",
]
