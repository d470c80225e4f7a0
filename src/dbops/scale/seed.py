"""``seed_at_scale``: bulk synthetic data through binary COPY, as fast as the machine allows.

How it stays fast and safe:

* the column list and types of every table come from the catalog (the
  migrated database), the generator supplies values by column name; a NOT
  NULL column without default that the generator does not know is an error
  before anything is written;
* rows stream in batches through ``COPY … FROM STDIN (FORMAT binary)``
  (``dbops.scale.binary``), ids given explicitly so foreign keys and the
  tenant key are consistent by construction;
* it refuses a schema whose tables hold rows unless ``append``, and a
  database that is not local unless ``force``;
* on an empty schema as superuser (the local database), ``load.ParallelLoad``
  loads the tables on two connections, one transaction per table, while this
  thread generates the next rows: unique constraints, plain indexes (and the
  primary key when no foreign key references it) are dropped and rebuilt in
  the table's transaction (a sorted build is much cheaper than one B-tree
  insert per row), its storage is new in the transaction so COPY runs with
  FREEZE and, with ``wal_level = minimal``, skips the WAL (as ``pgbench
  -i``), foreign-key triggers are off (``session_replication_role =
  replica``, as ``pg_restore --disable-triggers``), and the committed tables
  are ANALYZEd by whichever connection has nothing else to do. A failure
  empties the loaded tables again (see ``load``);
* with ``append``, or without superuser rights, everything is one transaction
  (``load.load_serial``): without superuser rights the foreign keys are
  dropped and re-added too (validated at once, not one trigger query per
  row); with ``append`` every constraint and index stays in place;
* the monthly partitions the history needs exist before the load (created in
  one transaction on an empty schema, with ``dbops partitions ensure``'s
  logic when appending), so audit rows do not pile up in the default
  partition; rows of a partitioned table are routed to their partition by the
  client (``stream.Router``) and COPY-ed into it directly;
* identity sequences are ``setval``-ed past the new ids, and every loaded
  table is ANALYZEd.

``timings`` (a dict) receives the seconds of each step: ``setup``,
``partitions``, ``generate + pack (client CPU)``, and per table ``prepare``,
``copy``, ``build TABLE.INDEX``, ``commit``, ``analyze`` (the parallel steps
overlap: they add up to more than the wall time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from dbops.errors import OperationFailed, RefusedError, UsageError
from dbops.scale.ddl import create_history_partitions
from dbops.scale.load import ParallelLoad, Timings, load_serial
from dbops.scale.stream import Router, Spools, table_columns

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
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Load synthetic data for ``scale`` users (healthcare) / clients (fashion); return rows per table.

    Deterministic for ``(scale, seed, today)``. Refuses (RefusedError, exit 2)
    a schema whose tables hold rows unless ``append`` (new ids continue after
    the current maximum), and a database that is not on this machine (unix
    socket or loopback) unless ``force``. ``progress(table, done, expected)``
    may be called from the loader threads (never two calls at once).
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
    timed = Timings(timings)
    started = time.perf_counter()
    with connection(url) as conn:
        with timed("setup"):
            catalog = {t: table_columns(conn, t) for t in generator_class.tables}
            missing = [t for t, cols in catalog.items() if not cols]
            if missing:
                raise OperationFailed(
                    f"{schema_settings.name}: table(s) {', '.join(missing)} do not exist in the database",
                    hint=f"run `dbops migrate {schema_settings.name}` first",
                )
            filled = [t for t in generator_class.tables
                      if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]
            superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            conn.rollback()
        if filled and not append:
            raise RefusedError(
                f"{schema_settings.name}: {', '.join(filled)} already hold rows; the bulk seed loads into an empty schema",
                hint="pass --append to add the synthetic data after the existing rows, or `dbops reset` first",
            )
        months_ahead = max(settings.partitions.months_ahead, 3)
        with timed("partitions"):
            if filled:  # rows may sit in a default partition: the full, lock-friendly logic
                _ensure_history_partitions(settings, schema_settings, url, today, months_ahead)
            else:
                create_history_partitions(conn, generator_class.tables, today, months_back=HISTORY_MONTHS,
                                          months_ahead=months_ahead)
                conn.commit()
        offsets = {t: _max_id(conn, t) for t in generator_class.tables} if filled else {}
        parallel = superuser and not filled
        if parallel:
            routers = {t: Router.for_table(conn, t) for t in generator_class.tables}
        else:
            spools = Spools(conn, catalog, generator_class.spilled)  # reads the partitions for the routing
        conn.rollback()
    if parallel:
        load = ParallelLoad(url, catalog, routers, progress=progress, timings=timed)
        counts = load.run(generator_class(scale, seed, today, offsets, spill=load.spill))
    else:
        try:
            data = generator_class(scale, seed, today, offsets, spill=spools.spill)
            with connection(url) as conn:
                counts = load_serial(conn, data, spools, catalog, fresh=not filled, superuser=superuser,
                                     progress=progress, timings=timed)
                with timed("commit"):
                    conn.commit()
        finally:
            spools.close()
        with timed("analyze"):
            _analyze(url, generator_class.tables, counts)
    timed.add("total", time.perf_counter() - started)
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


def _max_id(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]


def _ensure_history_partitions(settings: Settings, schema_settings: SchemaSettings, url: str, today: date,
                               months_ahead: int) -> None:
    from dbops.partitions import ensure_partitions

    ensure_partitions(settings, schema_settings, url, months_ahead=months_ahead, months_back=HISTORY_MONTHS,
                      today=today)
