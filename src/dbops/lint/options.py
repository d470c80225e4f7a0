"""The lint's options: everything besides the SQL text that decides the findings.

A light module (no parser imports): the warm path builds the cache key from it.

>>> Options(pg_version=16).pg_version
16
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Comments by which common runners say "do not wrap this file in a transaction".
DEFAULT_NO_TRANSACTION_MARKERS = (
    "dbops: no-transaction",
    "prairielearn:migrations NO TRANSACTION",
    "+goose NO TRANSACTION",
    "transaction:false",
)


# The migration runners' own tables: writing them is bookkeeping, never a backfill of user data.
DEFAULT_BOOKKEEPING_TABLES = (
    "alembic_version", "dbops_revision_checksums", "schema_migrations", "ar_internal_metadata",
    "flyway_schema_history", "goose_db_version", "knex_migrations", "knex_migrations_lock", "_prisma_migrations",
    "django_migrations", "__diesel_schema_migrations", "_sqlx_migrations", "seaql_migrations", "databasechangelog",
    "databasechangeloglock", "schema_version",
)


@dataclass(frozen=True)
class Options:
    """Everything besides the SQL text that decides the findings (part of the cache key)."""

    pg_version: int = 15
    assume_in_transaction: bool = False
    phase: str | None = None
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    unanalysed_severity: str = "info"
    partitioned_tables: tuple[str, ...] = ()
    no_transaction_markers: tuple[str, ...] = DEFAULT_NO_TRANSACTION_MARKERS
    bookkeeping_tables: tuple[str, ...] = DEFAULT_BOOKKEEPING_TABLES
    # What the engine derives from the options, computed once per run (not part of the key).
    _derived: dict[object, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def key(self) -> str:
        return repr(self)

    def derived(self, name: object, compute: Callable[[], Any]) -> Any:
        """``compute()``, once for these options (every file of a run shares them)."""
        try:
            return self._derived[name]
        except KeyError:
            value = self._derived[name] = compute()
            return value
