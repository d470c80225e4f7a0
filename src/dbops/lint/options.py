"""The lint's options: everything besides the SQL text that decides the findings.

A light module (no parser imports): the warm path builds the cache key from it.

>>> Options(pg_version=16).pg_version
16
"""

from __future__ import annotations

from dataclasses import dataclass

# Comments by which common runners say "do not wrap this file in a transaction".
DEFAULT_NO_TRANSACTION_MARKERS = (
    "dbops: no-transaction",
    "prairielearn:migrations NO TRANSACTION",
    "+goose NO TRANSACTION",
    "transaction:false",
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

    def key(self) -> str:
        return repr(self)
