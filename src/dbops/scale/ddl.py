"""The statements around a bulk load: fresh storage for COPY FREEZE, keys deferred and rebuilt, partitions, sequences.

Everything here runs inside the caller's transaction and is undone with it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from dbops.db import scalar
from dbops.errors import RefusedError
from dbops.partitions import add_months, discover, month_start, months_window, partition_name
from dbops.partitions.ensure import partitions_of
from dbops.partitions.months import MAX_IDENTIFIER, as_utc, bound_literal

if TYPE_CHECKING:
    import psycopg

_OWNED = """(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relname = ANY(%(tables)s) AND NOT c.relispartition)"""


def quote(name: str) -> str:
    """A quoted identifier.

    >>> quote('a"b')
    '"a""b"'
    """
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted string literal.

    >>> literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def refuse_filled(conn: psycopg.Connection, tables: list[str]) -> None:
    """RefusedError when one of ``tables`` holds a row (call it with the tables locked)."""
    filled = [t for t in tables if scalar(conn, f"SELECT EXISTS (SELECT 1 FROM {quote(t)})")]
    if filled:
        raise RefusedError(f"{', '.join(filled)} received rows while the seed was starting",
                           hint="run it again (it will refuse a non-empty schema), or pass --append")


def truncate_for_freeze(conn: psycopg.Connection, tables: list[str]) -> set[str]:
    """Lock the (empty) tables, make sure they are still empty, and TRUNCATE them in the load's
    transaction so that COPY may use FREEZE (pgbench -i does the same): rows are written frozen and
    all-visible, sparing the hint-bit writes and freezing work that would follow, and with
    ``wal_level = minimal`` they skip the WAL. Returns the relations COPY can freeze: the plain tables
    and the partitions (PostgreSQL refuses FREEZE on a partitioned parent)."""
    names = ", ".join(quote(t) for t in tables)
    conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
    refuse_filled(conn, tables)
    conn.execute(f"TRUNCATE {names}")
    return _plain_relations(conn, tables)


def referenced(conn: psycopg.Connection, table: str) -> bool:
    """Whether a foreign key (of any table, this one included) references ``table`` or one of its partitions."""
    relations = _plain_relations(conn, [table]) | {table}
    return bool(scalar(
        conn, "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = ANY(%s::regclass[]))",
        ([quote(r) for r in sorted(relations)],),
    ))


def fresh_storage(conn: psycopg.Connection, table: str, *, is_referenced: bool) -> set[str]:
    """Give ``table`` (locked, empty) new storage in the current transaction, so COPY may use FREEZE
    and skip the WAL, without touching any other table; return the relations that got it.

    ``TRUNCATE`` does it, but PostgreSQL refuses to truncate a table that a foreign key references
    unless the referencing table is truncated in the same statement, which would lock it too (the
    parallel load gives each table its own transaction). A referenced table is rewritten with
    ``CLUSTER`` instead (empty: a few milliseconds), which also gives it new storage; the index it
    marks as clustered is put back as it was. A relation without a clusterable index keeps its
    storage (loaded without FREEZE).
    """
    relations = _plain_relations(conn, [table])
    if not is_referenced:
        conn.execute(f"TRUNCATE {quote(table)}")
        return relations
    rows = conn.execute(
        """
        SELECT DISTINCT ON (i.indrelid) r.relname, x.relname, i.indisclustered
        FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class r ON r.oid = i.indrelid
        WHERE i.indrelid = ANY(%(rels)s::regclass[]) AND i.indisvalid AND i.indpred IS NULL
          AND pg_index_has_property(i.indexrelid, 'clusterable')
        ORDER BY i.indrelid, i.indisclustered DESC, i.indisprimary DESC, i.indexrelid
        """,
        {"rels": [quote(r) for r in sorted(relations)]},
    ).fetchall()
    fresh = set()
    for relation, index, clustered in rows:  # the clustered index comes first: then it is the one used
        conn.execute(f"CLUSTER {quote(relation)} USING {quote(index)}")
        if not clustered:
            conn.execute(f"ALTER TABLE {quote(relation)} SET WITHOUT CLUSTER")
        fresh.add(relation)
    return fresh


def _plain_relations(conn: psycopg.Connection, tables: list[str]) -> set[str]:
    """The plain tables among ``tables`` and the partitions of the partitioned ones (what holds rows)."""
    rows = conn.execute(
        """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND (c.relname = ANY(%(t)s) OR c.oid IN (SELECT i.inhrelid FROM pg_inherits i JOIN pg_class p
                                                   ON p.oid = i.inhparent WHERE p.relname = ANY(%(t)s)))
        """,
        {"t": tables},
    ).fetchall()
    return {name for (name,) in rows}


def defer_constraints(conn: psycopg.Connection, tables: list[str], *, keep_foreign_keys: bool,
                      keep_primary_keys: bool = True) -> list[tuple[str, str]]:
    """Drop the unique constraints and plain indexes of ``tables`` (unless ``keep_foreign_keys``, their
    foreign keys, and unless ``keep_primary_keys``, their primary keys) inside the load's transaction;
    return ``(name, statement)`` pairs that recreate them exactly, in order.

    A sorted build after the load costs a fraction of one B-tree insert per row at a random place
    (measured on products: 1.23 s with the keys in place vs 0.47 s load + builds). A primary key that
    a foreign key references stays: dropping it drops those foreign keys, and re-adding them validates
    every row (measured: slower than keeping the key, whose B-tree only grows at its right edge since
    ids arrive in order), besides locking the referencing tables. The parallel load drops the other
    primary keys too (``keep_primary_keys=False``): one sorted build beats an index insert per row.
    Foreign keys stay when their triggers are off (superuser, ``session_replication_role =
    replica``); otherwise they are re-added after the load, which makes PostgreSQL validate every row
    at once instead of one trigger query per row. An index marked for CLUSTER is marked again.
    """
    kinds = ["u"] + ([] if keep_foreign_keys else ["f"]) + ([] if keep_primary_keys else ["p"])
    rows = conn.execute(
        f"""
        SELECT con.contype, format('%%s', con.conrelid::regclass), quote_ident(con.conname),
               pg_get_constraintdef(con.oid), obj_description(con.oid, 'pg_constraint'),
               CASE WHEN ci.indisclustered THEN con.conindid::regclass::text END
        FROM pg_constraint con LEFT JOIN pg_index ci ON ci.indexrelid = con.conindid
        WHERE con.conparentid = 0 AND con.contype = ANY(%(kinds)s)
          AND (con.conrelid IN {_OWNED} OR (con.contype = 'f' AND con.confrelid IN {_OWNED}))
          AND NOT (con.contype = 'u' AND %(keep)s AND EXISTS (
                   SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = con.conindid))
        ORDER BY con.contype = 'f' DESC, con.contype = 'p' DESC, 2, 3
        """,
        {"tables": tables, "kinds": kinds, "keep": keep_foreign_keys},
    ).fetchall()
    indexes = conn.execute(
        f"""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class'),
               CASE WHEN i.indisclustered THEN i.indrelid::regclass::text END
        FROM pg_index i
        WHERE i.indrelid IN {_OWNED}
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        {"tables": tables},
    ).fetchall()
    foreign: list[tuple[str, str]] = []
    keys: list[tuple[str, str]] = []
    for kind, table, name, definition, comment, clustered in rows:  # foreign keys first: they depend on the keys
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        statements = [(name, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")]
        if comment is not None:
            statements.append((name, f"COMMENT ON CONSTRAINT {name} ON {table} IS {literal(comment)}"))
        if clustered is not None:  # the index CLUSTER uses: mark it again
            statements.append((name, f"ALTER TABLE {table} CLUSTER ON {clustered}"))
        (foreign if kind == "f" else keys).extend(statements)
    plain = []
    for name, definition, comment, clustered_table in indexes:
        conn.execute(f"DROP INDEX {name}")
        # A partitioned table's index shows as "ON ONLY parent": recreate it on the partitions too.
        plain.append((name, definition.replace(" ON ONLY ", " ON ", 1)))
        if comment is not None:
            plain.append((name, f"COMMENT ON INDEX {name} IS {literal(comment)}"))
        if clustered_table is not None:
            plain.append((name, f"ALTER TABLE {clustered_table} CLUSTER ON {name}"))
    return keys + plain + foreign


def set_sequence(conn: psycopg.Connection, table: str) -> None:
    """Move the identity/serial sequence of ``table.id`` past the ids now in the table."""
    conn.execute(
        "SELECT setval(s, GREATEST(m, 1), m IS NOT NULL) FROM pg_get_serial_sequence(%s, 'id') AS s, "
        f"(SELECT max(id) AS m FROM {quote(table)}) AS t WHERE s IS NOT NULL",
        (quote(table),),
    )


def create_history_partitions(conn: psycopg.Connection, tables: tuple[str, ...], today: date, *,
                              months_back: int, months_ahead: int) -> list[str]:
    """Create the missing monthly partitions of the range-partitioned ``tables`` from ``months_back``
    months ago to ``months_ahead`` months ahead, in the caller's transaction; return their names.

    For an empty schema only: ``CREATE TABLE … PARTITION OF`` (one short transaction, which the
    seed's exclusive locks make harmless) instead of ``dbops partitions ensure``'s lock-friendly
    CREATE + ATTACH with a commit per partition, which exists for live tables. A month that an
    existing partition already covers, even partly, or whose name is taken is left alone (its rows go
    to the default partition), as ``dbops partitions ensure`` would.
    """

    created = []
    for table in discover(conn):
        if table.schema != "public" or table.name not in tables or not table.monthly_capable:
            continue
        existing = partitions_of(conn, table)
        key_type = table.time_key[1]
        for month in months_window(add_months(month_start(today), -months_back), months_ahead + months_back):
            lo, hi = as_utc(month), as_utc(add_months(month, 1))
            name = partition_name(table.name, month)
            if any(p.overlaps(lo, hi) for p in existing) or len(name) > MAX_IDENTIFIER:
                continue
            if scalar(conn, "SELECT to_regclass(%s) IS NOT NULL", (f"{quote(table.schema)}.{quote(name)}",)):
                continue
            conn.execute(
                f"CREATE TABLE {quote(table.schema)}.{quote(name)} PARTITION OF {quote(table.schema)}.{quote(table.name)} "
                f"FOR VALUES FROM ({literal(bound_literal(month, key_type))}) "
                f"TO ({literal(bound_literal(add_months(month, 1), key_type))})"
            )
            created.append(name)
    return created
