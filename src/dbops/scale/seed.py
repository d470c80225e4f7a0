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
  loads the tables on several connections (one per CPU but one, at least two;
  ``[tool.dbops.scale] workers``), one transaction per table, while this
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

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dbops.config import SchemaSettings, Settings, display_path, is_local_url, line_in_traceback, mask_url
from dbops.db import connection, scalar
from dbops.errors import DbopsError, InputError, OperationFailed, RefusedError, UsageError, first_line
from dbops.partitions import ensure_partitions
from dbops.scale.common import SchemaData
from dbops.scale.ddl import create_history_partitions
from dbops.scale.generators import load_generator
from dbops.scale.load import ParallelLoad, Timings, load_serial, loader_workers
from dbops.scale.stream import Router, Spools, table_columns

if TYPE_CHECKING:
    import psycopg

Progress = Callable[..., None]  # progress(table, rows_done, rows_expected)


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
    """Load synthetic data for ``scale`` units (users, clients: the generator's ``n``); return rows per table.

    The schema's generator is the class its ``scale`` setting names (``dbops.scale.generators``).

    Deterministic for ``(scale, seed, today)``. Refuses (RefusedError, exit 2)
    a schema whose tables hold rows unless ``append`` (new ids continue after
    the current maximum), and a database that is not on this machine (unix
    socket or loopback) unless ``force``. ``progress(table, done, expected)``
    may be called from the loader threads (never two calls at once).
    """
    if scale < 10:
        raise UsageError(f"--scale must be at least 10, not {scale}")
    generator_class = load_generator(settings, schema_settings)
    if not force and not is_local_url(url):
        raise RefusedError(
            f"{schema_settings.name}: refusing to bulk-load synthetic data into {mask_url(url)}, "
            "which is not a local database",
            hint="point it at a local database, or pass --force if you really mean it",
        )
    today = today or datetime.now(UTC).date()
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
                      if scalar(conn, f'SELECT EXISTS (SELECT 1 FROM "{t}")')]
            superuser = scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            conn.rollback()
        if filled and not append:
            raise RefusedError(
                f"{schema_settings.name}: {', '.join(filled)} already hold rows; the bulk seed loads into an empty schema",
                hint="pass --append to add the synthetic data after the existing rows, or `dbops reset` first",
            )
        months_ahead = max(settings.partitions.months_ahead, 3)
        with timed("partitions"):
            if filled:  # rows may sit in a default partition: the full, lock-friendly logic
                _ensure_history_partitions(settings, schema_settings, url, today, months_ahead,
                                           generator_class.history_months)
            else:
                create_history_partitions(conn, generator_class.tables, today,
                                          months_back=generator_class.history_months, months_ahead=months_ahead)
                conn.commit()
        offsets = {t: _max_id(conn, t) for t in generator_class.tables} if filled else {}
        parallel = superuser and not filled
        if parallel:
            routers = {t: Router.for_table(conn, t) for t in generator_class.tables}
        else:
            spools = Spools(conn, catalog, generator_class.spilled)  # reads the partitions for the routing
        conn.rollback()
    workers = loader_workers(settings.scale.workers, len(generator_class.tables))
    try:
        if parallel:
            load = ParallelLoad(url, catalog, routers, progress=progress, timings=timed, workers=workers)
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
    except DbopsError:
        raise
    except Exception as exc:  # the project's generator failed (the load was undone): say where, not a traceback
        failed = _generator_failure(settings, schema_settings, generator_class, exc)
        if failed is None:
            raise
        raise failed from exc
    if not parallel:
        with timed("analyze"):
            _analyze(url, generator_class.tables, counts, workers)
    timed.add("total", time.perf_counter() - started)
    return counts


def _generator_failure(settings: Settings, schema_settings: SchemaSettings, generator_class: type[SchemaData],
                       exc: BaseException) -> InputError | None:
    """An InputError at the generator's file:line when ``exc`` was raised in the generator's code."""
    module = sys.modules.get(generator_class.__module__)
    path: str | None = getattr(module, "__file__", None)
    line = line_in_traceback(exc, Path(path)) if path else None
    if path is None or line is None:
        return None
    return InputError(
        f"{schema_settings.name}: the synthetic data generator failed: {type(exc).__name__}: {first_line(exc)}; "
        "nothing was loaded", location=f"{display_path(path, settings.root)}:{line}",
        hint="fix the generator (the loaded tables were emptied again)",
    )


def _analyze(url: str, tables: tuple[str, ...], counts: dict[str, int], workers: int) -> None:
    """ANALYZE every table, the biggest first, on ``workers`` connections at once (it is CPU-bound)."""
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
    return int(scalar(conn, f'SELECT coalesce(max(id), 0) FROM "{table}"'))


def _ensure_history_partitions(settings: Settings, schema_settings: SchemaSettings, url: str, today: date,
                               months_ahead: int, months_back: int) -> None:
    ensure_partitions(settings, schema_settings, url, months_ahead=months_ahead, months_back=months_back,
                      today=today)
