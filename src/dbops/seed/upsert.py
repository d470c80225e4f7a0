"""``upsert``: the idempotent INSERT seed scripts are written with.

A second seed run must change no row (same ``xmin``): the UPDATE branch only
fires when the stored row differs from the wanted one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg


def upsert(
    conn: psycopg.Connection,
    table: str,
    key: Sequence[str],
    values: Mapping[str, Any],
    *,
    keep_existing: Iterable[str] = (),
) -> int:
    """INSERT … ON CONFLICT (key) DO UPDATE only when the row differs; return the row's id.

    ``keep_existing`` columns are only filled when NULL (never overwritten).
    """
    from psycopg import sql  # here, not at the top: dbops.seed stays light to import

    keep = set(keep_existing)
    columns = list(values)
    others = [c for c in columns if c not in key]
    target = sql.Identifier(table)

    def new(column: str) -> sql.Composable:
        excluded = sql.SQL("EXCLUDED.{}").format(sql.Identifier(column))
        if column in keep:
            return sql.SQL("COALESCE(t.{}, {})").format(sql.Identifier(column), excluded)
        return excluded

    current = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in others)
    wanted = sql.SQL(", ").join(new(c) for c in others)
    query = sql.SQL(
        "INSERT INTO {table} AS t ({columns}) VALUES ({params}) ON CONFLICT ({key}) "
        "DO UPDATE SET {assignments} WHERE ({current}) IS DISTINCT FROM ({wanted}) RETURNING t.id"
    ).format(
        table=target,
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        params=sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        assignments=sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), new(c)) for c in others),
        current=current,
        wanted=wanted,
    )
    row = conn.execute(query, values).fetchone()
    if row is not None:
        return int(row[0])
    lookup = sql.SQL("SELECT id FROM {table} WHERE {cond}").format(
        table=target,
        cond=sql.SQL(" AND ").join(
            sql.SQL("{} IS NOT DISTINCT FROM {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in key
        ),
    )
    found = conn.execute(lookup, {c: values[c] for c in key}).fetchone()
    if found is None:  # pragma: no cover - the upsert guarantees the row exists
        raise RuntimeError(f"seed row vanished from {table}: {[values[c] for c in key]}")
    return int(found[0])
