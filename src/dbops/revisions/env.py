"""The shared body of every schema's Alembic ``env.py``.

``migrations/<schema>/env.py`` is two lines that call ``run_environment``;
keeping the logic here means both schemas run their migrations the same way.

dbops passes what it needs through ``config.attributes``:

- ``connection``: a SQLAlchemy connection to run on (dbops holds the
  advisory lock on it);
- ``dbops_hooks``: a :class:`RunHooks` — record each applied revision's
  checksum in the same transaction as the revision, reset the session's
  timeouts after each revision, and report progress.

Run by plain ``alembic`` (no attributes), the environment behaves like a
standard one: one transaction per revision, nothing recorded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.db import create_engine
from dbops.revisions.checksums import CREATE_TABLE_SQL, file_checksum, record_sql

#: Tables dbops keeps in each database for its own bookkeeping: never part of
#: the models, ignored by autogenerate (and by the drift comparison).
BOOKKEEPING_PREFIX = "dbops_"


def load_metadata(models_module: str) -> Any:
    """``Base.metadata`` of the schema's models module (None when not configured)."""
    if not models_module:
        return None
    module = importlib.import_module(models_module)
    base = getattr(module, "Base", None)
    return getattr(module, "metadata", None) or (base.metadata if base is not None else None)


def is_bookkeeping_table(name: str | None) -> bool:
    """Tables that belong to dbops or Alembic, not to the schema's models.

    >>> is_bookkeeping_table("dbops_revision_checksums"), is_bookkeeping_table("alembic_version")
    (True, True)
    >>> is_bookkeeping_table("users")
    False
    """
    return name is not None and (name.startswith(BOOKKEEPING_PREFIX) or name == "alembic_version")


def make_include_name(excluded_tables: frozenset[str] | Callable[[], frozenset[str]] = frozenset()) -> Callable[..., bool]:
    """An Alembic ``include_name`` hook that skips bookkeeping tables and ``excluded_tables``.

    ``excluded_tables`` may be a function, called once on first use (the
    hook only runs during autogenerate: upgrades do not pay for the lookup).

    Use it in any comparison of the database against the models
    (``compare_metadata``), so that dbops' own tables and the partitions of
    partitioned tables are not reported as drift.

    >>> include = make_include_name(frozenset({"audit_p202601"}))
    >>> include("dbops_revision_checksums", "table", {}), include("audit_p202601", "table", {})
    (False, False)
    >>> include("users", "table", {}), include("users_email_idx", "index", {})
    (True, True)
    """

    cache: list[frozenset[str]] = []

    def excluded() -> frozenset[str]:
        if not cache:
            cache.append(excluded_tables() if callable(excluded_tables) else excluded_tables)
        return cache[0]

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        skip = excluded()
        if type_ == "table":
            return not (is_bookkeeping_table(name) or name in skip)
        if type_ in ("index", "unique_constraint", "foreign_key_constraint", "column"):
            table = (parent_names or {}).get("table_name")
            return not (is_bookkeeping_table(table) or table in skip)
        return True

    return include_name


def partition_names(connection: Any) -> frozenset[str]:
    """Names of the tables in ``public`` that are partitions of another table.

    Models declare the partitioned parent only; the partitions are created by
    migrations and maintenance, so they must not look like drift.
    """
    rows = connection.exec_driver_sql(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relispartition"
    ).fetchall()
    return frozenset(r[0] for r in rows)


@dataclass
class AppliedStep:
    """One revision step Alembic just ran (reported through ``RunHooks.on_step``)."""

    revision: str
    is_upgrade: bool
    path: str | None
    checksum: str | None


@dataclass
class RunHooks:
    """What dbops asks of the environment on top of running the revisions."""

    record_checksums: bool = True
    #: SQL run at the end of each revision's transaction (resets session timeouts the revision changed).
    after_each: list[str] = field(default_factory=list)
    on_step: Callable[[AppliedStep], None] | None = None
    #: SQL run before the revisions, committed (session timeouts); printed first offline.
    preamble: list[str] = field(default_factory=list)
    #: Set once the checksum table is known to exist in this run (created in the first revision's transaction).
    table_ready: bool = False


def _version_apply_callback(hooks: RunHooks) -> Callable[..., None]:
    def on_version_apply(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        if step.is_upgrade:
            revision = step.up_revision_id
            script = step.up_revision
            path = getattr(script, "path", None)
        else:
            revision = step.up_revision_id
            path = None
        checksum = file_checksum(path) if path else None
        if hooks.record_checksums:
            if not hooks.table_ready:
                ctx.execute(CREATE_TABLE_SQL)
                hooks.table_ready = True
            for statement in record_sql(revision, path, checksum, upgrade=step.is_upgrade,
                                        root=_root(ctx)):
                ctx.execute(statement)
        for setting in hooks.after_each:
            ctx.execute(setting)
        if hooks.on_step is not None:
            hooks.on_step(AppliedStep(revision, step.is_upgrade, path, checksum))

    return on_version_apply


def _root(ctx: Any) -> Path | None:
    settings = ctx.config.attributes.get("dbops_settings") if ctx.config is not None else None
    return settings.root if settings is not None else None


def run_environment(context: Any) -> None:
    """Run migrations offline (SQL rendering) or online (on the given connection or URL)."""
    config = context.config
    schema = config.attributes.get("dbops_schema")
    hooks: RunHooks | None = config.attributes.get("dbops_hooks")
    target_metadata = load_metadata(schema.models) if schema is not None else None
    options: dict[str, Any] = {
        "target_metadata": target_metadata,
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": True,
    }
    if hooks is not None:
        hooks.table_ready = False  # a new run (a retry): the table may have been rolled back with a revision
        options["on_version_apply"] = _version_apply_callback(hooks)
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url") or "postgresql://", literal_binds=True,
                          dialect_name="postgresql", include_name=make_include_name(), **options)
        if hooks is not None:
            for statement in hooks.preamble:
                context.execute(statement)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_online(context, connection, options, hooks)
        return

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _run_online(context, conn, options, hooks)
            conn.commit()
    finally:
        engine.dispose()


def _run_online(context: Any, connection: Any, options: dict[str, Any], hooks: RunHooks | None) -> None:
    external = connection.in_transaction()
    for statement in hooks.preamble if hooks is not None else ():
        connection.exec_driver_sql(statement)
    if not external and connection.in_transaction():
        connection.commit()  # what we just ran must not look like an external transaction to Alembic
    context.configure(connection=connection, include_name=make_include_name(lambda: partition_names(connection)),
                      **options)
    with context.begin_transaction():
        context.run_migrations()
