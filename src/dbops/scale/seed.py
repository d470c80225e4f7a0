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
  behind, so rerunning is always safe;
* as a superuser the load runs with ``session_replication_role = replica``
  (what ``pg_restore --disable-triggers`` does): foreign-key triggers do not
  fire per row, the data being consistent by construction — the tests check
  it with anti-joins. Without superuser rights the checks run as usual;
* on an empty schema, plain secondary indexes (not those backing a primary
  key or unique constraint) are dropped for the load and rebuilt from their
  exact ``pg_get_indexdef`` in the same transaction: one sorted build is much
  cheaper than a B-tree insert per row (pg_restore's order too);
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

from dbops.errors import OperationFailed, RefusedError, UsageError
from dbops.scale.binary import HEADER, TRAILER, BinaryEncoder, Column

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
        counts = _load(conn, generator_class, (scale, seed, today, offsets), catalog, rebuild_indexes=not filled,
                       progress=progress)
        conn.commit()
    with connection(url, autocommit=True) as conn:
        for table in generator_class.tables:
            conn.execute(f'ANALYZE "{table}"')
    return counts


def _load(
    conn: psycopg.Connection, data_class: type, args: tuple, catalog: dict[str, list[Column]], *,
    rebuild_indexes: bool, progress: Progress | None,
) -> dict[str, int]:
    superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    if superuser:
        conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    dropped = _drop_secondary_indexes(conn, list(catalog)) if rebuild_indexes else []
    spools = _Spools(catalog)
    data = data_class(*args, spill=spools.spill)
    counts: dict[str, int] = {}
    try:
        for table, batches in data.stages():
            expected = data.expected.get(table)
            if batches is None:
                counts[table] = spools.copy(conn, table, progress)
            else:
                counts[table] = _copy_table(conn, table, catalog[table], batches, expected, progress)
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


def _copy_sql(table: str, encoder: BinaryEncoder) -> str:
    names = ", ".join(f'"{name}"' for name in encoder.names)
    return f'COPY "{table}" ({names}) FROM STDIN (FORMAT binary)'


def _copy_table(
    conn: psycopg.Connection, table: str, columns: list[Column], batches: Iterator[dict[str, list]],
    expected: int | None, progress: Progress | None,
) -> int:
    first = next(batches, None)
    if first is None:
        if progress:
            progress(table, 0, 0)
        return 0
    encoder = _encoder(table, columns, first)
    done = 0
    last_report = 0.0
    with conn.cursor().copy(_copy_sql(table, encoder)) as copy:
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
    """Rows of tables generated during another table's pass, packed into temp files until their COPY."""

    MEMORY = 64 * 1024 * 1024  # then the spool moves to disk

    def __init__(self, catalog: dict[str, list[Column]]) -> None:
        self.catalog = catalog
        self.files: dict[str, tuple[BinaryEncoder, Any, list[int]]] = {}

    def spill(self, table: str, batch: dict[str, list]) -> None:
        if table not in self.files:
            self.files[table] = (_encoder(table, self.catalog[table], batch),
                                 tempfile.SpooledTemporaryFile(max_size=self.MEMORY), [0])
        encoder, handle, count = self.files[table]
        handle.write(encoder.pack(batch))
        count[0] += len(batch["id"])

    def copy(self, conn: psycopg.Connection, table: str, progress: Progress | None) -> int:
        if table not in self.files:
            if progress:
                progress(table, 0, 0)
            return 0
        encoder, handle, (count,) = self.files[table]
        handle.seek(0)
        with conn.cursor().copy(_copy_sql(table, encoder)) as copy:
            copy.write(HEADER)
            while chunk := handle.read(4 * 1024 * 1024):
                copy.write(chunk)
            copy.write(TRAILER)
        if progress:
            progress(table, count, count)
        return count

    def close(self) -> None:
        for _, handle, _ in self.files.values():
            handle.close()


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


def _drop_secondary_indexes(conn: psycopg.Connection, tables: list[str]) -> list[str]:
    """Drop plain indexes (no constraint behind them) of the top-level tables; return their definitions."""
    rows = conn.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND t.relname = ANY(%s) AND NOT t.relispartition
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        (tables,),
    ).fetchall()
    definitions = []
    for name, definition in rows:
        conn.execute(f"DROP INDEX {name}")
        # A partitioned table's index is shown as "ON ONLY parent"; recreate it on the partitions too.
        definitions.append(definition.replace(" ON ONLY ", " ON ", 1))
    return definitions


def _max_id(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]


def _ensure_history_partitions(settings: Settings, schema_settings: SchemaSettings, url: str, today: date) -> None:
    from dbops.partitions import ensure_partitions

    ensure_partitions(settings, schema_settings, url, months_ahead=max(settings.partitions.months_ahead, 3),
                      months_back=HISTORY_MONTHS, today=today)
