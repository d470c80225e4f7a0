"""Small helpers shared by rule modules (not a rule)."""

from __future__ import annotations

import re
from functools import lru_cache

from dbops.lint import locks as L
from dbops.lint.facts.model import Stmt

CONTRACT_SQL = "-- dbops: phase=contract"
CONTRACT_ALEMBIC = 'phase = "contract"  # at module level'


def name(stmt: Stmt) -> str:
    """The statement's table as written (schema-qualified, quoted)."""
    return stmt.display or stmt.table or "?"


def lock_phrase(mode: int) -> str:
    return f"{L.mode_name(mode)} lock ({L.what_it_blocks(mode)})"


def constraint_name(table: str, columns: list[str], suffix: str) -> str:
    """PostgreSQL's own naming: ``<table>_<col>_<col>_<suffix>``, 63 bytes at most.

    >>> constraint_name("appointments", ["doctor_id"], "fkey")
    'appointments_doctor_id_fkey'
    """
    cols = "_".join(re.sub(r"\W+", "_", c).strip("_") for c in columns)
    tail = f"_{cols}_{suffix}" if cols else f"_{suffix}"
    return (table[: 63 - len(tail)] + tail)[:63]


def key_columns(text: str, after: str) -> list[str]:
    """The column list in parentheses after the words ``after`` (``FOREIGN KEY``, ``UNIQUE``…).

    >>> key_columns("ADD CONSTRAINT c FOREIGN KEY (a, \\"B\\") REFERENCES u (id)", "FOREIGN KEY")
    ['a', '"B"']
    """
    found = _key_list(after).search(text)
    if not found:
        return []
    return [c.strip() for c in found.group(1).split(",") if c.strip()]


@lru_cache(maxsize=16)
def _key_list(after: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(map(re.escape, after.split())) + r"\s*\(([^()]*)\)", re.I)


def placeholder_default(type_sql: str | None) -> str:
    """A constant default to show in a fix, by type (a placeholder when there is no obvious one).

    >>> placeholder_default("text"), placeholder_default("int8"), placeholder_default("uuid")
    ("''", '0', '<constant>')
    """
    base = (type_sql or "").split("(")[0]
    if base in ("text", "varchar", "bpchar", "citext"):
        return "''"
    if base in ("int2", "int4", "int8", "numeric", "float4", "float8"):
        return "0"
    if base == "bool":
        return "false"
    if base in ("jsonb", "json"):
        return "'{}'"
    if base in ("timestamptz", "timestamp", "date"):
        return "now()"
    return "<constant>"
