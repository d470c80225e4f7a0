"""What the studio reads and writes: tables, pages of rows, single-row updates.

Every identifier comes from the catalog and is quoted with psycopg.sql;
values are always bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

PAGE_SIZE = 50
# Columns whose values the studio never shows (hashes and secrets stay out of screenshots and logs).
SENSITIVE = re.compile(r"password|secret|token|api_key", re.IGNORECASE)
HIDDEN = "••••••"

_TABLES = """
SELECT c.relname, c.relkind = 'p' AS partitioned,
       greatest(c.reltuples, 0)::bigint AS estimated_rows,
       pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
"""

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       coalesce(a.attnum = ANY(i.indkey), false) AS in_pk
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = 'public' AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    primary_key: bool


@dataclass(frozen=True)
class Page:
    table: str
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    page: int
    has_next: bool
    order: str
    descending: bool
    filter: tuple[str, str] | None


class UnknownTable(LookupError):
    pass


class BadRequest(ValueError):
    pass


def list_tables(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return [
        {"name": r[0], "partitioned": r[1], "estimated_rows": r[2], "bytes": r[3]}
        for r in conn.execute(_TABLES).fetchall()
    ]


def table_columns(conn: psycopg.Connection, table: str) -> list[Column]:
    columns = [Column(*row) for row in conn.execute(_COLUMNS, (table,)).fetchall()]
    if not columns:
        raise UnknownTable(table)
    return columns


def read_page(
    conn: psycopg.Connection,
    table: str,
    *,
    page: int = 1,
    order: str | None = None,
    descending: bool = False,
    filter_column: str | None = None,
    filter_value: str | None = None,
) -> Page:
    """One page of rows; order and filter columns must be real columns of the table."""
    columns = table_columns(conn, table)
    names = [c.name for c in columns]
    pk = [c.name for c in columns if c.primary_key] or names[:1]
    order = order or pk[0]
    if order not in names:
        raise BadRequest(f"unknown column {order!r}")
    where = sql.SQL("")
    params: list[Any] = []
    flt = None
    if filter_column:
        if filter_column not in names:
            raise BadRequest(f"unknown column {filter_column!r}")
        # compare as text so any column type can be filtered from a form field
        where = sql.SQL(" WHERE {}::text = %s").format(sql.Identifier(filter_column))
        params.append(filter_value or "")
        flt = (filter_column, filter_value or "")
    page = max(page, 1)
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY {} {} LIMIT %s OFFSET %s").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.Identifier(table),
        where,
        sql.Identifier(order),
        sql.SQL("DESC" if descending else "ASC"),
    )
    rows = conn.execute(query, [*params, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE]).fetchall()
    hidden = [i for i, name in enumerate(names) if SENSITIVE.search(name)]
    if hidden:
        rows = [tuple(HIDDEN if i in hidden and v is not None else v for i, v in enumerate(row)) for row in rows]
    return Page(table, columns, rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE, order, descending, flt)


def update_row(conn: psycopg.Connection, table: str, key: dict[str, str], values: dict[str, str | None]) -> int:
    """UPDATE one row identified by its primary key; returns the number of rows changed (0 or 1)."""
    columns = table_columns(conn, table)
    names = {c.name for c in columns}
    pk = {c.name for c in columns if c.primary_key}
    if not pk or set(key) != pk:
        raise BadRequest(f"{table}: rows are edited by their full primary key ({', '.join(sorted(pk)) or 'none'})")
    unknown = (set(values) - names) | (set(values) & pk)
    if unknown:
        raise BadRequest(f"cannot set {', '.join(sorted(unknown))}")
    if not values:
        return 0
    statement = sql.SQL("UPDATE {} SET {} WHERE {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(n)) for n in values),
        sql.SQL(" AND ").join(sql.SQL("{}::text = %s").format(sql.Identifier(n)) for n in key),
    )
    with conn.transaction():
        cursor = conn.execute(statement, [*values.values(), *key.values()])
        if cursor.rowcount > 1:
            raise BadRequest("the key matched more than one row; nothing changed")
        return cursor.rowcount
