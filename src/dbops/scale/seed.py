"""``seed_at_scale``: bulk synthetic data through binary COPY, in one transaction.

How it stays fast and safe:

* the column list and types of every table come from the catalog (the
  migrated database), the generator supplies values by column name; a NOT
  NULL column without default that the generator does not know is an error
  before anything is written;
* rows stream in batches through ``COPY … FROM STDIN (FORMAT binary)``
  (``dbops.scale.binary``), ids given explicitly so foreign keys and the
  tenant key are consistent by construction;
* the whole load is one transaction: an interrupted seed leaves nothing
  behind (but the empty monthly partitions created first), so rerunning is
  always safe;
* as a superuser the load runs with ``session_replication_role = replica``
  (what ``pg_restore --disable-triggers`` does): foreign-key triggers do not
  fire per row, the data being consistent by construction (the tests check
  it with anti-joins);
* on an empty schema, unique constraints and plain indexes are dropped for
  the load and recreated from their exact ``pg_get_constraintdef`` /
  ``pg_get_indexdef`` in the same transaction (pg_restore's order): a sorted
  build is much cheaper than one B-tree insert per row at a random place.
  Primary keys stay (ids arrive in order). Without superuser rights the
  foreign keys are dropped and re-added too, so PostgreSQL validates all
  rows at once instead of one trigger query per row;
* on an empty schema the tables are also locked, checked empty again and
  TRUNCATEd in the load's transaction, so every COPY runs with FREEZE (as
  ``pgbench -i`` does): rows land frozen and all-visible, no hint-bit
  rewrite or freezing pass follows. Rows of a partitioned table are routed
  to their partition by the client and COPY-ed into it (FREEZE is refused
  on a partitioned parent);
* with ``append`` every constraint and index stays in place;
* the monthly partitions the history needs are created first (with
  ``dbops.partitions``), so audit rows do not pile up in the default
  partition;
* afterwards identity sequences are ``setval``-ed past the new ids, and every
  table is ANALYZEd.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from dbops.errors import OperationFailed, RefusedError, UsageError
from dbops.scale.binary import HEADER, TRAILER, BinaryEncoder, Column, take

if TYPE_CHECKING:
    import psycopg

    from dbops.config import SchemaSettings, Settings

Progress = Callable[..., None]  # progress(table, rows_done, rows_expected)

HISTORY_MONTHS = 25  # appointments/fittings/orders go back two years


def _generators() -> dict[str, type]:
    from dbops.scale.fashion import FashionData
    from dbops.scale.healthcare import HealthcareData

    return {"healthcare": HealthcareData, "fashion": FashionData}


def seed_at_scale(
    settings: Settings,
    schema_settings: SchemaSettings,
    url: str,
    *,
    scale: int,
    seed: int = 0,
    append: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
) -> dict[str, int]:
    """Load synthetic data for ``scale`` users (healthcare) / clients (fashion); return rows per table.

    Deterministic for ``(scale, seed, today)``. Refuses (RefusedError, exit 2)
    a schema whose tables hold rows unless ``append`` (new ids continue after
    the current maximum), and a database that is not on this machine (unix
    socket or loopback) unless ``force``.
    """
    from dbops.config import is_local_url, mask_url
    from dbops.db import connection

    if scale < 10:
        raise UsageError(f"--scale must be at least 10, not {scale}")
    generators = _generators()
    if schema_settings.name not in generators:
        raise UsageError(f"no synthetic data generator for schema {schema_settings.name!r}",
                         hint=f"--scale works for {', '.join(generators)}")
    if not force and not is_local_url(url):
        raise RefusedError(
            f"{schema_settings.name}: refusing to bulk-load synthetic data into {mask_url(url)}, "
            "which is not a local database",
            hint="point it at a local database, or pass --force if you really mean it",
        )
    today = today or datetime.now(UTC).date()
    generator_class = generators[schema_settings.name]
    with connection(url) as conn:
        catalog = {t: _columns(conn, t) for t in generator_class.tables}
        missing = [t for t, cols in catalog.items() if not cols]
        if missing:
            raise OperationFailed(
                f"{schema_settings.name}: table(s) {', '.join(missing)} do not exist in the database",
                hint=f"run `dbops migrate {schema_settings.name}` first",
            )
        filled = [t for t in generator_class.tables if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]
        conn.rollback()
    if filled and not append:
        raise RefusedError(
            f"{schema_settings.name}: {', '.join(filled)} already hold rows; the bulk seed loads into an empty schema",
            hint="pass --append to add the synthetic data after the existing rows, or `dbops reset` first",
        )
    _ensure_history_partitions(settings, schema_settings, url, today)
    with connection(url) as conn:
        offsets = {t: _max_id(conn, t) for t in generator_class.tables} if filled else {}
        counts = _load(conn, generator_class, (scale, seed, today, offsets), catalog, fresh=not filled,
                       progress=progress)
        conn.commit()
    _analyze(url, generator_class.tables, counts)
    return counts


def _analyze(url: str, tables: tuple[str, ...], counts: dict[str, int], workers: int = 2) -> None:
    """ANALYZE every table, the biggest first, on ``workers`` connections at once (it is CPU-bound)."""
    from concurrent.futures import ThreadPoolExecutor

    from dbops.db import connection

    queue = sorted(tables, key=lambda t: -counts.get(t, 0))

    def work(mine: list[str]) -> None:
        with connection(url, autocommit=True) as conn:
            for table in mine:
                conn.execute(f'ANALYZE "{table}"')

    # the biggest table alone on one connection, the rest on the other(s): balances the usual shape
    shares = [queue[i::workers] for i in range(workers)] if len(queue) > workers else [[t] for t in queue]
    if len(queue) > workers and counts.get(queue[0], 0) >= sum(counts.get(t, 0) for t in queue[1:]):
        shares = [[queue[0]], queue[1:]]
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for future in [pool.submit(work, share) for share in shares]:
            future.result()


def _load(
    conn: psycopg.Connection, data_class: type, args: tuple, catalog: dict[str, list[Column]], *,
    fresh: bool, progress: Progress | None,
) -> dict[str, int]:
    superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    if superuser:
        conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    frozen: set[str] = set()
    dropped: list[str] = []
    if fresh:
        frozen = _truncate_for_freeze(conn, list(catalog))
        dropped = _defer_constraints(conn, list(catalog), keep_foreign_keys=superuser)
    spools = _Spools(conn, catalog, frozen, data_class.spilled)
    data = data_class(*args, spill=spools.spill)
    counts: dict[str, int] = {}
    try:
        for table, batches in data.stages():
            expected = data.expected.get(table)
            if batches is None:
                counts[table] = spools.copy(conn, table, progress)
            else:
                counts[table] = _copy_table(conn, table, catalog[table], batches, expected, progress,
                                            freeze=table in frozen)
    finally:
        spools.close()
    for definition in dropped:
        conn.execute(definition)
    for table in catalog:
        conn.execute(
            "SELECT setval(s, GREATEST(m, 1), m IS NOT NULL) FROM pg_get_serial_sequence(%s, 'id') AS s, "
            f'(SELECT max(id) AS m FROM "{table}") AS t WHERE s IS NOT NULL',
            (f'"{table}"',),
        )
    return counts


def _encoder(table: str, columns: list[Column], batch: dict[str, list]) -> BinaryEncoder:
    """The encoder for the columns the generator fills; a NOT NULL column without default it misses is an error."""
    unknown = [c.name for c in columns if c.name not in batch and c.not_null and not c.has_default]
    if unknown:
        raise OperationFailed(
            f"seed: {table}.{', '.join(unknown)} is NOT NULL without a default and the generator has no value for it",
            hint="the schema changed: teach dbops.scale its new column(s)",
        )
    return BinaryEncoder([c for c in columns if c.name in batch])


def _copy_sql(table: str, encoder: BinaryEncoder, freeze: bool) -> str:
    names = ", ".join(f'"{name}"' for name in encoder.names)
    return f'COPY "{table}" ({names}) FROM STDIN (FORMAT binary{", FREEZE" if freeze else ""})'


def _copy_table(
    conn: psycopg.Connection, table: str, columns: list[Column], batches: Iterator[dict[str, list]],
    expected: int | None, progress: Progress | None, *, freeze: bool = False,
) -> int:
    first = next(batches, None)
    if first is None:
        if progress:
            progress(table, 0, 0)
        return 0
    encoder = _encoder(table, columns, first)
    done = 0
    last_report = 0.0
    with conn.cursor().copy(_copy_sql(table, encoder, freeze)) as copy:
        copy.write(HEADER)
        batch: dict[str, list] | None = first
        while batch is not None:
            copy.write(encoder.pack(batch))
            done += len(batch["id"])
            if progress and time.monotonic() - last_report > 0.1:
                progress(table, done, max(done, expected or done))
                last_report = time.monotonic()
            batch = next(batches, None)
        copy.write(TRAILER)
    if progress:
        progress(table, done, done)
    return done


class _Spools:
    """Rows of tables generated during another table's pass, packed into temp files until their COPY.

    Rows of a range-partitioned table are routed here to their partition (``_Router``) and COPY-ed
    into it directly: PostgreSQL refuses COPY FREEZE on a partitioned table but accepts it on each
    partition truncated in the transaction, and skips its own per-row routing.
    """

    MEMORY = 16 * 1024 * 1024  # per spool; beyond, the spool moves to disk

    def __init__(self, conn: psycopg.Connection, catalog: dict[str, list[Column]], frozen: set[str],
                 tables: tuple[str, ...]) -> None:
        self.catalog = catalog
        self.frozen = frozen
        self.encoders: dict[str, BinaryEncoder] = {}
        # read now: spill() runs while another table's COPY holds the connection
        self.routers = {table: _Router.for_table(conn, table) for table in tables}
        self.files: dict[str, dict[str, Any]] = {table: {} for table in tables}  # table -> {relation: spool}
        self.counts: dict[str, int] = {}

    def spill(self, table: str, batch: dict[str, Any]) -> None:
        if table not in self.encoders:
            self.encoders[table] = _encoder(table, self.catalog[table], batch)
        encoder, router = self.encoders[table], self.routers[table]
        parts = router.split(batch) if router else [(table, batch)]
        for relation, rows in parts:
            if relation not in self.files[table]:
                self.files[table][relation] = tempfile.SpooledTemporaryFile(max_size=self.MEMORY)  # noqa: SIM115 (closed by close())
            self.files[table][relation].write(encoder.pack(rows))
        self.counts[table] = self.counts.get(table, 0) + len(batch["id"])

    def copy(self, conn: psycopg.Connection, table: str, progress: Progress | None) -> int:
        count = self.counts.get(table, 0)
        for relation, handle in sorted(self.files.get(table, {}).items()):
            handle.seek(0)
            with conn.cursor().copy(_copy_sql(relation, self.encoders[table], relation in self.frozen)) as copy:
                copy.write(HEADER)
                while chunk := handle.read(4 * 1024 * 1024):
                    copy.write(chunk)
                copy.write(TRAILER)
        if progress:
            progress(table, count, count)
        return count

    def close(self) -> None:
        for spools in self.files.values():
            for handle in spools.values():
                handle.close()


class _Router:
    """Sends rows of a range-partitioned table (time key, plain partitions) to their partition."""

    def __init__(self, key: str, names: list[str], lower: np.ndarray, upper: np.ndarray, default: str | None):
        self.key, self.names, self.lower, self.upper, self.default = key, names, lower, upper, default

    @classmethod
    def for_table(cls, conn: psycopg.Connection, table: str) -> _Router | None:
        from dbops.partitions.ensure import TIME_TYPES, discover, partitions_of
        from dbops.scale.binary import to_micros

        found = [t for t in discover(conn) if t.schema == "public" and t.name == table]
        if not found or not found[0].monthly_capable:
            return None
        parent = found[0]
        kinds = dict(conn.execute("SELECT c.relname, c.relkind FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                  "WHERE i.inhparent = %s", (parent.oid,)).fetchall())
        parts = sorted((p for p in partitions_of(conn, parent) if p.lower and p.upper), key=lambda p: p.lower)
        if any(kind != "r" for kind in kinds.values()) or parent.key_type not in TIME_TYPES[:2]:
            return None  # sub-partitioned, or a date key: let PostgreSQL route
        return cls(parent.key, [p.name for p in parts], np.array([to_micros(p.lower) for p in parts], dtype=np.int64),
                   np.array([to_micros(p.upper) for p in parts], dtype=np.int64), parent.default)

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


def _columns(conn: psycopg.Connection, table: str) -> list[Column]:
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


def _truncate_for_freeze(conn: psycopg.Connection, tables: list[str]) -> set[str]:
    """Lock the (empty) tables, make sure they are still empty, and TRUNCATE them in the load's
    transaction so that COPY may use FREEZE (pgbench -i does the same): rows are written frozen and
    all-visible, sparing the hint-bit writes and freezing work that would follow. Returns the relations
    COPY can freeze: the plain tables and the partitions (PostgreSQL refuses FREEZE on a partitioned
    parent; ``_Spools`` routes its rows to the partitions)."""
    names = ", ".join(f'"{t}"' for t in tables)
    conn.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
    filled = [t for t in tables if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]
    if filled:
        raise RefusedError(f"{', '.join(filled)} received rows while the seed was starting",
                           hint="run it again (it will refuse a non-empty schema), or pass --append")
    conn.execute(f"TRUNCATE {names}")
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


def _defer_constraints(conn: psycopg.Connection, tables: list[str], *, keep_foreign_keys: bool) -> list[str]:
    """Drop the unique constraints and plain indexes of ``tables`` (and, unless ``keep_foreign_keys``,
    their foreign keys) inside the load's transaction; return the statements that recreate them exactly.

    A sorted build after the load costs a fraction of one B-tree insert per row at a random place
    (measured on products: 1.23 s with the keys in place vs 0.47 s load + builds). Primary keys stay:
    ids arrive in order, so their B-tree only grows at its right edge, and foreign keys need them.
    Foreign keys stay when their triggers are off (superuser, ``session_replication_role = replica``);
    otherwise they are re-added after the load, which makes PostgreSQL validate every row at once
    instead of one trigger query per row.
    """
    owned = """(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relname = ANY(%(tables)s) AND NOT c.relispartition)"""
    kinds = ["u"] if keep_foreign_keys else ["u", "f"]
    rows = conn.execute(
        f"""
        SELECT con.contype, format('%%s', con.conrelid::regclass), quote_ident(con.conname),
               pg_get_constraintdef(con.oid), obj_description(con.oid, 'pg_constraint')
        FROM pg_constraint con
        WHERE con.conparentid = 0 AND con.contype = ANY(%(kinds)s)
          AND (con.conrelid IN {owned} OR (con.contype = 'f' AND con.confrelid IN {owned}))
          AND NOT (con.contype = 'u' AND %(keep)s AND EXISTS (
                   SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = con.conindid))
        ORDER BY con.contype = 'f' DESC, 2, 3
        """,
        {"tables": tables, "kinds": kinds, "keep": keep_foreign_keys},
    ).fetchall()
    indexes = conn.execute(
        f"""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), obj_description(i.indexrelid, 'pg_class')
        FROM pg_index i
        WHERE i.indrelid IN {owned}
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        {"tables": tables},
    ).fetchall()
    foreign, keys = [], []
    for kind, table, name, definition, comment in rows:  # foreign keys first: they depend on the keys
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        statements = [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"]
        if comment is not None:
            statements.append(f"COMMENT ON CONSTRAINT {name} ON {table} IS {_literal(comment)}")
        (foreign if kind == "f" else keys).extend(statements)
    plain = []
    for name, definition, comment in indexes:
        conn.execute(f"DROP INDEX {name}")
        # A partitioned table's index shows as "ON ONLY parent": recreate it on the partitions too.
        plain.append(definition.replace(" ON ONLY ", " ON ", 1))
        if comment is not None:
            plain.append(f"COMMENT ON INDEX {name} IS {_literal(comment)}")
    return keys + plain + foreign


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _max_id(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]


def _ensure_history_partitions(settings: Settings, schema_settings: SchemaSettings, url: str, today: date) -> None:
    from dbops.partitions import ensure_partitions

    ensure_partitions(settings, schema_settings, url, months_ahead=max(settings.partitions.months_ahead, 3),
                      months_back=HISTORY_MONTHS, today=today)
