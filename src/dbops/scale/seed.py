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

from dbops.config import SchemaSettings, Settings, display_path, line_in_traceback
from dbops.db import connection, scalar
from dbops.errors import DbopsError, InputError, Interrupted, OperationFailed, RefusedError, UsageError, first_line
from dbops.localdb.target import LocalGuard, require_local
from dbops.partitions import ensure_partitions
from dbops.scale import runs
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
    guard = require_local(url, action=f"seed {schema_settings.name} --scale", force=force, settings=settings)
    run = _Run(schema_settings.name, scale, seed, url)
    try:
        return _seed(settings, schema_settings, url, run, guard, generator_class, append=append, progress=progress,
                     today=today or datetime.now(UTC).date(), timings=timings)
    except KeyboardInterrupt:
        raise run.interrupted() from None
    except DbopsError:
        raise
    except Exception as exc:
        if run.load is not None and run.load.left_behind:
            raise run.failed_with_leftovers(exc) from exc
        failed = _generator_failure(settings, schema_settings, generator_class, exc)
        if failed is None:  # the project's generator failed (the load was undone): say where, not a traceback
            raise
        raise failed from exc


class _Run:
    """What one ``seed_at_scale`` call has done so far, to say it when it is interrupted or fails."""

    def __init__(self, schema: str, scale: int, seed: int, url: str) -> None:
        self.schema, self.scale, self.seed, self.url = schema, scale, seed, url
        self.started = time.perf_counter()
        self.stage = "setup"
        self.serial = False
        self.load: ParallelLoad | None = None
        self.run_id: int | None = None

    def _rerun(self) -> str:
        return f"`dbops seed {self.schema} --scale {self.scale}`"

    def _reset(self) -> str:
        return f"run `dbops reset {self.schema} --no-seed`, then seed again"

    def interrupted(self) -> Interrupted:
        """What Ctrl-C left: what was loaded, what was rolled back, what to do."""
        seconds = time.perf_counter() - self.started
        head = f"{self.schema}: seed --scale {self.scale} stopped after {seconds:.1f}s"
        load = self.load
        if self.stage in ("analyze", "done"):  # the rows are committed: only the statistics may lag
            return Interrupted(f"{head}, after every row was loaded and committed: the data is complete",
                               hint="its statistics may be stale: run ANALYZE on its tables (vacuumdb --analyze-only)")
        if load is None or self.serial:
            if self.stage == "loading":  # load_serial: one transaction
                what = "the load is one transaction and was rolled back: no row was written"
            else:
                what = f"during {self.stage}, before any row was loaded: nothing was written"
            return Interrupted(f"{head} {what} (monthly partitions it created stay, empty)",
                               hint=f"run {self._rerun()} again")
        committed = load.left_behind or load.emptied or []
        loaded = ", ".join(f"{t} ({load.counts.get(t, 0):,} rows)" for t in committed)
        parts = []
        if load.left_behind:
            if self.run_id is not None:
                runs.close_run_at(self.url, self.run_id, "partial")
            parts.append(f"loaded {loaded}, but emptying them again was interrupted: they still hold synthetic rows")
        elif committed:
            parts.append(f"loaded {loaded} and emptied them again")
        if load.in_flight:
            parts.append(f"rolled back the unfinished load of {', '.join(load.in_flight)}")
        if load.left_behind:
            return Interrupted(f"{head}: {'; '.join(parts)}", hint=self._reset())
        if self.run_id is not None:
            runs.close_run_at(self.url, self.run_id, "rolled back")
        done = "; ".join(parts) or "nothing had been loaded yet"
        return Interrupted(f"{head}: {done}; every table is empty as before (the monthly partitions it created stay, "
                           "empty)", hint=f"run {self._rerun()} again")

    def failed_with_leftovers(self, exc: BaseException) -> OperationFailed:
        """A failure whose cleanup failed too: the loaded tables still hold rows."""
        assert self.load is not None
        if self.run_id is not None:
            runs.close_run_at(self.url, self.run_id, "partial")
        return OperationFailed(
            f"{self.schema}: the seed failed ({type(exc).__name__}: {first_line(exc)}) and emptying the tables it "
            f"had loaded failed too: {', '.join(self.load.left_behind)} still hold synthetic rows",
            hint=self._reset(),
        )


def _seed(settings: Settings, schema_settings: SchemaSettings, url: str, run: _Run, guard: LocalGuard,
          generator_class: type[SchemaData], *, append: bool, progress: Progress | None, today: date,
          timings: dict[str, float] | None) -> dict[str, int]:
    timed = Timings(timings)
    name = schema_settings.name
    with connection(url, guard=guard, application_name=runs.APPLICATION_NAME) as conn:
        with timed("setup"):
            catalog = {t: table_columns(conn, t) for t in generator_class.tables}
            missing = [t for t, cols in catalog.items() if not cols]
            if missing:
                raise OperationFailed(
                    f"{name}: table(s) {', '.join(missing)} do not exist in the database",
                    hint=f"run `dbops migrate {name}` first",
                )
            filled = [t for t in generator_class.tables
                      if scalar(conn, f'SELECT EXISTS (SELECT 1 FROM "{t}")')]
            superuser = scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            _refuse_unfinished(conn, name, generator_class.tables, filled)
            conn.rollback()
        if filled and not append:
            raise RefusedError(
                f"{name}: {', '.join(filled)} already hold rows; the bulk seed loads into an empty schema",
                hint=f"pass --append to add the synthetic data after the existing rows, or run "
                f"`dbops reset {name} --no-seed` first to empty the schema",
            )
        months_ahead = max(settings.partitions.months_ahead, 3)
        run.stage = "partitions"
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
            conn.rollback()
            run.run_id = runs.start_run(conn, name, run.scale, run.seed)
        else:
            spools = Spools(conn, catalog, generator_class.spilled)  # reads the partitions for the routing
        conn.rollback()
    workers = loader_workers(settings.scale.workers, len(generator_class.tables))
    run.stage = "loading"
    if parallel:
        load = run.load = ParallelLoad(url, catalog, routers, progress=progress, timings=timed, workers=workers,
                                       guard=guard)
        try:
            counts = load.run(generator_class(run.scale, run.seed, today, offsets, spill=load.spill))
        except BaseException:
            if run.run_id is not None and not load.left_behind:
                runs.close_run_at(url, run.run_id, "rolled back")
            raise
        run.stage = "done"
        if run.run_id is not None:
            with connection(url) as conn:
                runs.close_run(conn, run.run_id, "done")
    else:
        run.serial = True
        try:
            data = generator_class(run.scale, run.seed, today, offsets, spill=spools.spill)
            with connection(url, guard=guard) as conn:
                counts = load_serial(conn, data, spools, catalog, fresh=not filled, superuser=superuser,
                                     progress=progress, timings=timed)
                with timed("commit"):
                    conn.commit()
        finally:
            spools.close()
        run.stage = "analyze"
        with timed("analyze"):
            _analyze(url, generator_class.tables, counts, workers)
    timed.add("total", time.perf_counter() - run.started)
    return counts


def _refuse_unfinished(conn: psycopg.Connection, schema: str, tables: tuple[str, ...], filled: list[str]) -> None:
    """Refuse a schema an earlier, killed parallel load left half-loaded (``runs``); forget one that left nothing."""
    previous = runs.unfinished_run(conn)
    if previous is None:
        return
    when = f"{previous.started_at:%Y-%m-%d %H:%M %Z}".strip()
    if previous.alive:
        raise RefusedError(
            f"{schema}: a `dbops seed {schema} --scale {previous.scale}` started {when} is still loading "
            f"(backend pid(s) {', '.join(map(str, previous.loader_pids))})",
            hint="wait for it to finish; if its process was killed, PostgreSQL ends those backends once it notices",
        )
    if not filled:  # killed before any table committed: nothing to clean
        runs.close_run(conn, previous.id, "abandoned")
        return
    empty = [t for t in tables if t not in filled]
    raise RefusedError(
        f"{schema}: an earlier `dbops seed {schema} --scale {previous.scale}` (started {when}) was killed before it "
        f"finished and left a partial dataset: {', '.join(filled)} hold rows"
        + (f", {', '.join(empty)} are empty" if empty else "")
        + "; it cannot be completed or appended to",
        hint=f"run `dbops reset {schema} --no-seed` to empty the schema, then seed again",
    )


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
