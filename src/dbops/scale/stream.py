"""What goes down a COPY: table columns from the catalog, encoders, spools of rows made early, partition routing.

* ``table_columns`` reads a table's columns (types, NOT NULL, defaults) so the
  generators supply values by name and ``BinaryEncoder`` packs them;
* ``Spools`` keeps packed rows of a table generated during another table's pass
  (an appointment's audit trail, an order's lines) until that table's COPY;
* ``Router`` sends rows of a range-partitioned table to their partition on the
  client: PostgreSQL refuses ``COPY … FREEZE`` on a partitioned table but
  accepts it on each partition whose storage is new in the transaction, and
  the server is spared its per-row routing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from dbops.errors import OperationFailed
from dbops.partitions.ensure import TIME_TYPES, discover, partitions_of
from dbops.scale.binary import BinaryEncoder, Column, take, to_micros

if TYPE_CHECKING:
    import psycopg

CHUNK = 4 * 1024 * 1024  # bytes per write when a spool is replayed into COPY


def table_columns(conn: psycopg.Connection, table: str) -> list[Column]:
    """The table's columns from the catalog (empty when the table does not exist)."""
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, t.typtype = 'e',
               a.atthasdef OR a.attidentity <> ''
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum
        """,
        (f'public."{table}"',),
    ).fetchall()
    return [Column(*row) for row in rows]


def encoder_for(table: str, columns: list[Column], batch: dict[str, Any]) -> BinaryEncoder:
    """The encoder for the columns the generator fills; a NOT NULL column without default it misses is an error."""
    unknown = [c.name for c in columns if c.name not in batch and c.not_null and not c.has_default]
    if unknown:
        raise OperationFailed(
            f"seed: {table}.{', '.join(unknown)} is NOT NULL without a default and the generator has no value for it",
            hint="the schema changed: teach dbops.scale its new column(s)",
        )
    return BinaryEncoder([c for c in columns if c.name in batch])


def copy_sql(relation: str, encoder: BinaryEncoder, freeze: bool) -> str:
    """The COPY statement for ``relation``.

    >>> copy_sql("t", BinaryEncoder([Column("id", "bigint", True)]), True)
    'COPY "t" ("id") FROM STDIN (FORMAT binary, FREEZE)'
    """
    names = ", ".join(f'"{name}"' for name in encoder.names)
    return f'COPY "{relation}" ({names}) FROM STDIN (FORMAT binary{", FREEZE" if freeze else ""})'


class Spools:
    """Packed rows of tables generated during another table's pass, in temp files until their COPY,
    one file per partition when the table is range-partitioned (``Router``)."""

    MEMORY = 16 * 1024 * 1024  # per spool; beyond, the spool moves to disk

    def __init__(self, conn: psycopg.Connection, catalog: dict[str, list[Column]], tables: tuple[str, ...]) -> None:
        self.catalog = catalog
        self.encoders: dict[str, BinaryEncoder] = {}
        # read now: spill() runs while another table's COPY holds the connection
        self.routers = {table: Router.for_table(conn, table) for table in tables}
        self.files: dict[str, dict[str, Any]] = {table: {} for table in tables}  # table -> {relation: spool}
        self.counts: dict[str, int] = {}

    def spill(self, table: str, batch: dict[str, Any], complete_below: int | None = None) -> None:
        """Keep ``batch`` for ``table``'s COPY (``complete_below`` matters to the parallel load only)."""
        if table not in self.encoders:
            self.encoders[table] = encoder_for(table, self.catalog[table], batch)
        encoder, router = self.encoders[table], self.routers[table]
        parts = router.split(batch) if router else [(table, batch)]
        for relation, rows in parts:
            if relation not in self.files[table]:
                self.files[table][relation] = tempfile.SpooledTemporaryFile(max_size=self.MEMORY)  # noqa: SIM115 (closed by close())
            self.files[table][relation].write(encoder.pack(rows))
        self.counts[table] = self.counts.get(table, 0) + len(batch["id"])

    def relations(self, table: str) -> list[str]:
        """The relations (the table, or its partitions) that received rows, in name order."""
        return sorted(self.files.get(table, {}))

    def chunks(self, table: str, relation: str) -> Iterator[bytes]:
        """The packed rows of ``relation`` (no COPY header), in pieces of ``CHUNK`` bytes."""
        handle = self.files[table][relation]
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk

    def close(self) -> None:
        for spools in self.files.values():
            for handle in spools.values():
                handle.close()


class Router:
    """Sends rows of a range-partitioned table (time key, plain partitions) to their partition."""

    def __init__(self, key: str, names: list[str], lower: np.ndarray, upper: np.ndarray, default: str | None):
        self.key, self.names, self.lower, self.upper, self.default = key, names, lower, upper, default

    @classmethod
    def for_table(cls, conn: psycopg.Connection, table: str) -> Router | None:
        found = [t for t in discover(conn) if t.schema == "public" and t.name == table]
        if not found or not found[0].monthly_capable:
            return None
        parent = found[0]
        kinds: dict[str, str] = dict(conn.execute("SELECT c.relname, c.relkind FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                  "WHERE i.inhparent = %s", (parent.oid,)).fetchall())
        parts = sorted((p.lower, p.upper, p.name) for p in partitions_of(conn, parent)
                       if p.lower is not None and p.upper is not None)
        if any(kind != "r" for kind in kinds.values()) or parent.key_type not in TIME_TYPES[:2]:
            return None  # sub-partitioned, or a date key: let PostgreSQL route
        return cls(parent.time_key[0], [name for _, _, name in parts],
                   np.array([to_micros(lower) for lower, _, _ in parts], dtype=np.int64),
                   np.array([to_micros(upper) for _, upper, _ in parts], dtype=np.int64), parent.default)

    def complete(self, relation: str, floor: int | None) -> bool:
        """Whether no row with a key at least ``floor`` can fall into ``relation`` (not the default).

        >>> r = Router("t", ["p1", "p2"], np.array([0, 10]), np.array([10, 20]), "d")
        >>> r.complete("p1", 10), r.complete("p2", 10), r.complete("d", 99), r.complete("p1", None)
        (True, False, False, False)
        """
        if floor is None or relation not in self.names:
            return False
        return bool(self.upper[self.names.index(relation)] <= floor)

    def split(self, batch: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        key = np.asarray(batch[self.key], dtype=np.int64)
        slot = np.searchsorted(self.lower, key, side="right") - 1
        inside = (slot >= 0) & (key < self.upper[np.maximum(slot, 0)])
        slot = np.where(inside, slot, len(self.names))  # len(names): the default partition
        names = [*self.names, self.default or ""]
        out = []
        order = np.argsort(slot, kind="stable")
        bounds = np.searchsorted(slot[order], np.arange(len(names) + 1))
        for i, name in enumerate(names):
            rows = order[bounds[i]:bounds[i + 1]]
            if len(rows):
                if not name:
                    raise OperationFailed(f"seed: {len(rows)} rows fall outside every partition of the table",
                                          hint="create the partitions first: `dbops partitions ensure`")
                out.append((name, {column: take(value, rows) for column, value in batch.items()}))
        return out
