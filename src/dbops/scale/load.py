"""Two ways to load the generated rows: one transaction, or one transaction per table on several connections.

``load_serial`` — everything in the caller's transaction (``--append``, and a
role that is not superuser): an interrupted load leaves nothing behind.

``ParallelLoad`` — the fresh load as superuser, built for where the time goes
(everything is CPU-bound): the client generates and packs rows in the calling
thread while the loader threads (``loader_workers``: one per CPU but one, at
least two), each with its own connection, take the tables in load order. Each table is one transaction on one
connection: lock it, check it is still empty, drop its unique constraints and
plain indexes (and its primary key when no foreign key references it), give it
new storage (``ddl.fresh_storage``), ``COPY … FREEZE`` the rows as they are
generated, rebuild the keys and indexes, move its sequence, commit. So while
one connection builds the indexes of ``appointments`` the other loads the
audit log, and the client generates the next table. Rows spilled during
another table's pass load at the same time as that table (orders and their
lines); a partitioned table's partitions load as soon as the generator says
no later row can fall into them (``complete_below``), so the audit log loads
while the appointments are still being generated. A loader with no table
waiting ANALYZEs the committed ones, biggest first; index builds get parallel
workers only when nothing else runs (otherwise they would only compete).

Atomicity, per table instead of per schema: a table is either loaded
completely, keys, indexes and all, or not at all, and the schema's DDL is
never left changed (each table's drops and rebuilds commit together). When
anything fails (an error, Ctrl-C) the loaders stop, their open transactions
roll back, and the tables already committed are emptied again with one
``TRUNCATE`` of all the seeded tables (the seed only starts on an empty
schema), so a failed run leaves the schema as it found it. Only a killed
client process (no chance to clean up) can leave some tables loaded; the next
run finds the run still marked ``running`` in ``dbops_seed_runs`` (``runs``), refuses
the partial dataset (``--append`` too) and says to run ``dbops reset SCHEMA --no-seed``. The
monthly partitions created before the load stay, empty (as ``dbops partitions
ensure`` would have made them). A single transaction across connections would
need two-phase commit (``max_prepared_transactions`` > 0, off by default),
hence this scheme.

Foreign keys are not checked during the load (``session_replication_role =
replica``, superuser only, as ``pg_restore --disable-triggers``): the rows are
consistent by construction, which the tests check with anti-joins. That is
also why the tables can load in any order and in parallel.
"""

from __future__ import annotations

import contextlib
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dbops.db import connect, connection
from dbops.errors import OperationFailed
from dbops.scale.binary import HEADER, TRAILER, BinaryEncoder, Column
from dbops.scale.ddl import (
    defer_constraints,
    fresh_storage,
    quote,
    referenced,
    refuse_filled,
    set_sequence,
    truncate_for_freeze,
)
from dbops.scale.stream import CHUNK, Router, Spools, copy_sql, encoder_for

if TYPE_CHECKING:
    import psycopg

    from dbops.localdb.target import LocalGuard

Progress = Callable[..., None]  # progress(table, rows_done, rows_expected)

MAINTENANCE_WORK_MEM = "256MB"  # per connection: sorts for the index builds stay in memory
QUEUE_DEPTH = 12  # packed batches waiting per table (~5 MB each): the generator may run ahead, within bounds
PROGRESS_EVERY = 0.1  # seconds between progress calls of one table
SPOOL_MEMORY = 16 * 1024 * 1024  # per partition spool; beyond, it moves to a temp file


def loader_workers(configured: int = 0, tables: int | None = None) -> int:
    """How many loader connections a parallel load uses.

    ``configured`` (``[tool.dbops.scale] workers``) when set, else one per CPU but one (the
    client generates and packs rows on that one); never more than there are tables, never
    fewer than two (the generator may feed two tables at once: a table and the rows it spills).

    >>> loader_workers(3), loader_workers(1), loader_workers(16, tables=7)
    (3, 2, 7)
    >>> loader_workers() >= 2
    True
    """
    import os

    count = configured or (os.cpu_count() or 2) - 1
    if tables is not None:
        count = min(count, tables)
    return max(2, count)


class Timings:
    """Seconds per step, added into the caller's dict (thread-safe; a repeated step adds up)."""

    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink = sink
        self.lock = threading.Lock()

    def add(self, key: str, seconds: float) -> None:
        if self.sink is not None:
            with self.lock:
                self.sink[key] = self.sink.get(key, 0.0) + seconds

    @contextmanager
    def __call__(self, key: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(key, time.perf_counter() - started)


def session_settings(conn: psycopg.Connection, *, replica: bool) -> None:
    """SET LOCAL what a bulk load wants for the current transaction."""
    if replica:
        conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")


def load_serial(
    conn: psycopg.Connection, data: Any, spools: Spools, catalog: dict[str, list[Column]], *,
    fresh: bool, superuser: bool, progress: Progress | None, timings: Timings,
) -> dict[str, int]:
    """Load every table in the caller's transaction (the caller commits); return rows per table.

    On an empty schema the tables are TRUNCATEd first so COPY can FREEZE, and unique constraints and
    plain indexes (and, without superuser rights, foreign keys) are dropped and rebuilt after the load.
    """
    session_settings(conn, replica=superuser)
    frozen: set[str] = set()
    rebuild: list[tuple[str, str]] = []
    if fresh:
        with timings("prepare (lock, truncate, drop keys)"):
            frozen = truncate_for_freeze(conn, list(catalog))
            rebuild = defer_constraints(conn, list(catalog), keep_foreign_keys=superuser)
    counts: dict[str, int] = {}
    for table, batches in data.stages():
        with timings(f"copy {table}"):
            if batches is None:
                counts[table] = _copy_spooled(conn, spools, table, frozen, progress)
            else:
                counts[table] = _copy_stream(conn, table, catalog[table], batches, data.expected.get(table),
                                             progress, frozen)
    for name, statement in rebuild:
        with timings(f"build {name}"):
            conn.execute(statement)
    for table in catalog:
        set_sequence(conn, table)
    return counts


def _copy_stream(
    conn: psycopg.Connection, table: str, columns: list[Column], batches: Iterator[dict[str, Any]],
    expected: int | None, progress: Progress | None, frozen: set[str],
) -> int:
    first = next(batches, None)
    if first is None:
        if progress:
            progress(table, 0, 0)
        return 0
    encoder = encoder_for(table, columns, first)
    done = 0
    last_report = 0.0
    with conn.cursor().copy(copy_sql(table, encoder, table in frozen)) as copy:
        copy.write(HEADER)
        batch: dict[str, Any] | None = first
        while batch is not None:
            copy.write(encoder.pack(batch))
            done += len(batch["id"])
            if progress and time.monotonic() - last_report > PROGRESS_EVERY:
                progress(table, done, max(done, expected or done))
                last_report = time.monotonic()
            batch = next(batches, None)
        copy.write(TRAILER)
    if progress:
        progress(table, done, done)
    return done


def _copy_spooled(conn: psycopg.Connection, spools: Spools, table: str, frozen: set[str],
                  progress: Progress | None) -> int:
    for relation in spools.relations(table):
        with conn.cursor().copy(copy_sql(relation, spools.encoders[table], relation in frozen)) as copy:
            copy.write(HEADER)
            for chunk in spools.chunks(table, relation):
                copy.write(chunk)
            copy.write(TRAILER)
    count = spools.counts.get(table, 0)
    if progress:
        progress(table, count, count)
    return count


class _Aborted(Exception):
    """Another thread failed: stop quietly (the first error is the one reported)."""


_END = object()


class _Job:
    """One table on its way to a loader; the generating thread feeds it, one loader takes it.

    A plain table's packed batches wait in a bounded queue and its COPY streams them as they come (also
    when they are spilled while another table is generated: orders and their lines load at the same
    time). A range-partitioned table's rows are routed to one spool per partition, and a partition is
    COPY-ed as soon as the generator has promised that no later row falls into it (``complete_below``),
    so the audit trail loads while the appointments are still being generated.
    """

    def __init__(self, table: str, encoder: BinaryEncoder, expected: int | None, router: Router | None) -> None:
        self.table = table
        self.encoder = encoder
        self.expected = expected
        self.router = router
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_DEPTH)
        self.spools: dict[str, Any] = {}  # partition -> spooled packed rows
        self.spooled: dict[str, int] = {}  # partition -> rows
        self.taken: set[str] = set()  # partitions handed to the loader
        self.floor: int | None = None  # every row still to come has a partition key >= floor
        self.ended = False
        self.changed = threading.Condition()

    # -- the generating thread (partitioned tables) --

    def spool(self, batch: dict[str, Any], complete_below: int | None) -> None:
        assert self.router is not None
        for relation, rows in self.router.split(batch):
            if relation in self.taken:
                raise OperationFailed(f"seed: rows of {relation} arrived after the generator said it was complete",
                                      hint="a generator bug (complete_below too high): report it")
            handle = self.spools.get(relation)
            if handle is None:
                handle = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (closed by close())
            handle.write(self.encoder.pack(rows))
            with self.changed:
                self.spools[relation] = handle
                self.spooled[relation] = self.spooled.get(relation, 0) + len(rows["id"])
        with self.changed:
            if complete_below is not None:
                self.floor = complete_below if self.floor is None else max(self.floor, complete_below)
            self.changed.notify_all()

    def end(self) -> None:
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    # -- the loader (partitioned tables) --

    def complete(self, failed: threading.Event) -> list[str] | None:
        """Wait for partitions no later row can reach; None once every partition has been handed out."""
        assert self.router is not None
        with self.changed:
            while True:
                ready = sorted(r for r in self.spools if r not in self.taken
                               and (self.ended or self.router.complete(r, self.floor)))
                if ready:
                    self.taken.update(ready)
                    return ready
                if self.ended:
                    return None
                self.changed.wait(0.1)
                if failed.is_set():
                    raise _Aborted

    def close(self) -> None:
        for handle in self.spools.values():
            handle.close()


class ParallelLoad:
    """The fresh load as superuser: one transaction per table, ``workers`` connections (module docstring).

    ``spill`` is the generator's ``spill`` callback; ``run(data)`` generates and loads.
    """

    def __init__(self, url: str, catalog: dict[str, list[Column]], routers: dict[str, Router | None], *,
                 progress: Progress | None, timings: Timings, workers: int | None = None,
                 guard: LocalGuard | None = None) -> None:
        self.url = url
        self.guard = guard
        self.catalog = catalog
        self.routers = routers
        self.user_progress = progress
        self.timings = timings
        # at least two: the generator feeds up to two tables at once (a table and the rows it spills), each
        # COPY waits for its rows, so with one loader the other table's full queue would block everything
        self.workers = max(2, workers or loader_workers())
        self.expected: dict[str, int] = {}
        self.feeding: dict[str, _Job] = {}  # table -> its job, while the generator feeds it
        self.all_jobs: list[_Job] = []
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.failed = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.connections: list[psycopg.Connection] = []
        self.committed: list[str] = []
        self.to_analyze: list[str] = []  # committed, not analyzed yet
        self.counts: dict[str, int] = {}
        self.busy = 0  # loaders inside a table's work
        self.generating = True
        self.emptied: list[str] | None = None  # after a failure: committed tables emptied again
        self.left_behind: list[str] = []  # after a failure: committed tables that could not be emptied
        self.cleanup_error: BaseException | None = None

    def run(self, data: Any) -> dict[str, int]:
        """Generate in this thread, load in the loader threads; on any failure undo and re-raise."""
        self.expected = dict(data.expected)
        threads = [threading.Thread(target=self._loader, name=f"dbops-seed-loader-{i}", daemon=True)
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            self._generate(data)
        except _Aborted:
            pass
        except BaseException as exc:  # KeyboardInterrupt too: the loaders must stop and undo
            self._fail(exc)
        finally:
            for _ in threads:
                self.jobs.put(None)
            for thread in threads:
                while thread.is_alive():
                    try:
                        thread.join()
                    except KeyboardInterrupt as exc:
                        self._fail(exc)
            for job in self.all_jobs:
                job.close()
        if self.error is not None:
            self._cleanup()
            raise self.error
        return {table: self.counts.get(table, 0) for table in self.catalog}

    # -- the generating thread ------------------------------------------------

    def spill(self, table: str, batch: dict[str, Any], complete_below: int | None = None) -> None:
        """Rows of ``table`` generated during another table's pass; ``complete_below``: every row of
        ``table`` spilled later has a partition key (PostgreSQL-epoch microseconds) at least this."""
        if self.failed.is_set():
            raise _Aborted
        self._feed(table, batch, complete_below)

    def _generate(self, data: Any) -> None:
        started = time.thread_time()
        try:
            for table, batches in data.stages():
                for batch in batches or ():
                    if self.failed.is_set():
                        raise _Aborted
                    self._feed(table, batch, None)
                job = self.feeding.pop(table, None)
                if job is None:
                    self._progress(table, 0, 0)  # no rows
                elif job.router is None:
                    self._put(job, _END)
                else:
                    job.end()
        finally:
            self.generating = False
            self.timings.add("generate + pack (client CPU)", time.thread_time() - started)

    def _feed(self, table: str, batch: dict[str, Any], complete_below: int | None) -> None:
        job = self.feeding.get(table)
        if job is None:
            job = _Job(table, encoder_for(table, self.catalog[table], batch), self.expected.get(table),
                       self.routers.get(table))
            self.feeding[table] = job
            self.all_jobs.append(job)
            self.jobs.put(job)
        if job.router is None:
            self._put(job, (job.encoder.pack(batch), len(batch["id"])))
        else:
            job.spool(batch, complete_below)

    def _put(self, job: _Job, item: Any) -> None:
        while True:
            try:
                job.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                if self.failed.is_set():
                    raise _Aborted from None

    # -- the loader threads -----------------------------------------------------

    def _loader(self) -> None:
        conn = None
        try:
            conn = connect(self.url, application_name="dbops seed", guard=self.guard)
            with self.lock:
                self.connections.append(conn)
            while (job := self._next_job(conn)) is not None:
                with self.lock:
                    self.busy += 1
                try:
                    self._load_table(conn, job)
                finally:
                    with self.lock:
                        self.busy -= 1
            while not self.failed.is_set() and self._analyze_one(conn):
                pass
        except _Aborted:
            pass
        except BaseException as exc:  # reported by run() in the calling thread
            self._fail(exc)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):  # a cancelled or broken connection: closing is enough
                    conn.rollback()
                conn.close()

    def _next_job(self, conn: psycopg.Connection) -> _Job | None:
        """The next table to load; while none is waiting, ANALYZE the tables already loaded (they are
        analyzed when there is nothing else to do: loading the next table comes first)."""
        while not self.failed.is_set():
            try:
                return self.jobs.get_nowait()
            except queue.Empty:
                if not self._analyze_one(conn):
                    return self.jobs.get()
        return None

    def _analyze_one(self, conn: psycopg.Connection) -> bool:
        with self.lock:
            if not self.to_analyze:
                return False
            table = max(self.to_analyze, key=lambda t: self.counts.get(t, 0))  # the longest first
            self.to_analyze.remove(table)
        with self.timings(f"analyze {table}"):
            conn.execute(f"ANALYZE {quote(table)}")
            conn.commit()
        return True

    def _load_table(self, conn: psycopg.Connection, job: _Job) -> None:
        table, timed = job.table, self.timings
        with timed(f"prepare {table}"):
            session_settings(conn, replica=True)
            conn.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
            refuse_filled(conn, [table])
            is_referenced = referenced(conn, table)
            rebuild = defer_constraints(conn, [table], keep_foreign_keys=True, keep_primary_keys=is_referenced)
            frozen = fresh_storage(conn, table, is_referenced=is_referenced)
        with timed(f"copy {table}"):
            rows = self._copy_partitions(conn, job, frozen) if job.router else self._copy_stream(conn, job, frozen)
        for name, statement in rebuild:
            with timed(f"build {table}.{name}"):
                self._parallel_builds(conn)
                conn.execute(statement)
        set_sequence(conn, table)
        with timed(f"commit {table}"):
            conn.commit()
        with self.lock:
            self.committed.append(table)
            self.counts[table] = rows
            self.to_analyze.append(table)

    def _parallel_builds(self, conn: psycopg.Connection) -> None:
        """Parallel workers for an index build only when this loader is the last one working: while the
        other loader or the generator keep the cores busy they would only compete with them."""
        alone = self.busy <= 1 and not self.generating
        conn.execute("SET LOCAL max_parallel_maintenance_workers " + ("TO DEFAULT" if alone else "= 0"))

    def _copy_stream(self, conn: psycopg.Connection, job: _Job, frozen: set[str]) -> int:
        done = 0
        last_report = 0.0
        with conn.cursor().copy(copy_sql(job.table, job.encoder, job.table in frozen)) as copy:
            copy.write(HEADER)
            while (item := self._get(job)) is not _END:
                chunk, rows = item
                copy.write(chunk)
                done += rows
                if time.monotonic() - last_report > PROGRESS_EVERY:
                    self._progress(job.table, done, max(done, job.expected or done))
                    last_report = time.monotonic()
            copy.write(TRAILER)
        self._progress(job.table, done, done)
        return done

    def _copy_partitions(self, conn: psycopg.Connection, job: _Job, frozen: set[str]) -> int:
        done = 0
        while (ready := job.complete(self.failed)) is not None:
            for relation in ready:
                handle = job.spools[relation]
                handle.seek(0)
                with conn.cursor().copy(copy_sql(relation, job.encoder, relation in frozen)) as copy:
                    copy.write(HEADER)
                    while chunk := handle.read(CHUNK):
                        copy.write(chunk)
                    copy.write(TRAILER)
                done += job.spooled[relation]
                self._progress(job.table, done, max(done, job.expected or done))
        self._progress(job.table, done, done)
        return done

    def _get(self, job: _Job) -> Any:
        while True:
            try:
                return job.chunks.get(timeout=0.1)
            except queue.Empty:
                if self.failed.is_set():
                    raise _Aborted from None

    # -- shared -------------------------------------------------------------------

    def _progress(self, table: str, done: int, expected: int) -> None:
        if self.user_progress is not None:
            with self.lock:
                self.user_progress(table, done, expected)

    def _fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exc
            first = not self.failed.is_set()
            self.failed.set()
            connections = list(self.connections) if first else []
        for conn in connections:  # interrupt a long COPY or index build on the other connection
            with contextlib.suppress(Exception):  # best effort: the connection may be closing
                getattr(conn, "cancel_safe", conn.cancel)()  # cancel_safe: psycopg >= 3.2

    def _cleanup(self) -> None:
        """Empty the tables again after a failure (all of them: they were empty when the seed started).

        Sets ``emptied`` (the committed tables, now empty again) or, when emptying them failed or was
        interrupted (a second Ctrl-C), ``left_behind`` (the tables still holding synthetic rows).
        """
        if not self.committed:
            self.emptied = []
            return
        with self.timings("cleanup after failure"):
            try:
                with connection(self.url, application_name="dbops seed") as conn:
                    conn.execute(f"TRUNCATE {', '.join(quote(t) for t in self.catalog)}")
            except BaseException as exc:  # KeyboardInterrupt too: say what is left, then report the first error
                self.left_behind = list(self.committed)
                self.cleanup_error = exc
                return
        self.emptied = list(self.committed)

    @property
    def in_flight(self) -> list[str]:
        """Tables whose load had started but not committed (rolled back with their transaction)."""
        return [job.table for job in self.all_jobs if job.table not in self.committed]
