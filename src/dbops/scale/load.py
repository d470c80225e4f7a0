"""Two ways to load the generated rows: one transaction, or one transaction per table on two connections.

``load_serial`` — everything in the caller's transaction (``--append``, and a
role that is not superuser): an interrupted load leaves nothing behind.

``ParallelLoad`` — the fresh load as superuser, where the time goes (2 cores):
the client generates and packs rows in the calling thread while two loader
threads, each with its own connection, take the tables in load order. Each
table is one transaction on one connection: lock it, check it is still empty,
drop its unique constraints and plain indexes, give it new storage
(``ddl.fresh_storage``), ``COPY … FREEZE`` the rows as they are generated,
rebuild the keys and indexes, move its sequence, commit, then ANALYZE it. So
while one connection builds the indexes of ``appointments`` the other is
already loading the audit log, and the client generates the next table.

Atomicity, per table instead of per schema: a table is either loaded
completely, keys, indexes and all, or not at all, and the schema's DDL is
never left changed (each table's drops and rebuilds commit together). When
anything fails (an error, Ctrl-C) the loaders stop, their open transactions
roll back, and the tables already committed are emptied again with one
``TRUNCATE`` of all the seeded tables (the seed only starts on an empty
schema), so a failed run leaves the schema as it found it. Only a killed
client process (no chance to clean up) can leave some tables loaded; the next
run then refuses the non-empty schema and says to run ``dbops reset``. A single
transaction across connections would need two-phase commit
(``max_prepared_transactions`` > 0, off by default), hence this scheme.

Foreign keys are not checked during the load (``session_replication_role =
replica``, superuser only, as ``pg_restore --disable-triggers``): the rows are
consistent by construction, which the tests check with anti-joins. That is
also why the tables can load in any order and in parallel.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dbops.scale.binary import HEADER, TRAILER, BinaryEncoder, Column
from dbops.scale.ddl import (
    defer_constraints,
    fresh_storage,
    quote,
    refuse_filled,
    set_sequence,
    truncate_for_freeze,
)
from dbops.scale.stream import Spools, copy_sql, encoder_for

if TYPE_CHECKING:
    import psycopg

Progress = Callable[..., None]  # progress(table, rows_done, rows_expected)

MAINTENANCE_WORK_MEM = "256MB"  # per connection: sorts for the index builds stay in memory
WORKERS = 2  # loader connections: this is a 2-core machine, and the client needs some CPU too
QUEUE_DEPTH = 4  # packed batches waiting per table (~5 MB each): bounds memory, keeps the COPY fed
PROGRESS_EVERY = 0.1  # seconds between progress calls of one table


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
    """One table's rows on their way to a loader: a bounded queue of packed batches, or spools."""

    def __init__(self, table: str, encoder: BinaryEncoder | None, expected: int | None,
                 spools: Spools | None = None) -> None:
        self.table = table
        self.encoder = encoder
        self.expected = expected
        self.spools = spools
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_DEPTH)


class ParallelLoad:
    """The fresh load as superuser: one transaction per table, ``workers`` connections (module docstring)."""

    def __init__(self, url: str, catalog: dict[str, list[Column]], *, progress: Progress | None,
                 timings: Timings, workers: int = WORKERS) -> None:
        self.url = url
        self.catalog = catalog
        self.user_progress = progress
        self.timings = timings
        self.workers = max(1, workers)
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        self.failed = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.connections: list[psycopg.Connection] = []
        self.committed: list[str] = []
        self.counts: dict[str, int] = {}

    def run(self, data: Any, spools: Spools) -> dict[str, int]:
        """Generate in this thread, load in the loader threads; on any failure undo and re-raise."""
        threads = [threading.Thread(target=self._loader, name=f"dbops-seed-loader-{i}", daemon=True)
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            self._generate(data, spools)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 (KeyboardInterrupt too: the loaders must stop and undo)
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
        if self.error is not None:
            self._cleanup()
            raise self.error
        return {table: self.counts.get(table, 0) for table in self.catalog}

    # -- the generating thread ------------------------------------------------

    def _generate(self, data: Any, spools: Spools) -> None:
        started = time.thread_time()
        try:
            for table, batches in data.stages():
                if self.failed.is_set():
                    raise _Aborted
                if batches is None:
                    if spools.counts.get(table):
                        self.jobs.put(_Job(table, None, spools.counts[table], spools))
                    else:
                        self._progress(table, 0, 0)
                    continue
                first = next(batches, None)
                if first is None:
                    self._progress(table, 0, 0)
                    continue
                encoder = encoder_for(table, self.catalog[table], first)
                job = _Job(table, encoder, data.expected.get(table))
                self.jobs.put(job)
                batch: dict[str, Any] | None = first
                while batch is not None:
                    self._put(job, (encoder.pack(batch), len(batch["id"])))
                    batch = next(batches, None)
                self._put(job, _END)
        finally:
            self.timings.add("generate + pack (client CPU)", time.thread_time() - started)

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
        from dbops.db import connect

        conn = None
        try:
            conn = connect(self.url, application_name="dbops seed")
            with self.lock:
                self.connections.append(conn)
            while (job := self.jobs.get()) is not None and not self.failed.is_set():
                self._load_table(conn, job)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 (reported by run() in the calling thread)
            self._fail(exc)
        finally:
            if conn is not None:
                try:
                    conn.rollback()
                finally:
                    conn.close()

    def _load_table(self, conn: psycopg.Connection, job: _Job) -> None:
        table, timed = job.table, self.timings
        with timed(f"prepare {table}"):
            session_settings(conn, replica=True)
            conn.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
            refuse_filled(conn, [table])
            rebuild = defer_constraints(conn, [table], keep_foreign_keys=True)
            frozen = fresh_storage(conn, table)
        with timed(f"copy {table}"):
            rows = self._copy_spooled(conn, job, frozen) if job.spools else self._copy_stream(conn, job, frozen)
        for name, statement in rebuild:
            with timed(f"build {table}.{name}"):
                conn.execute(statement)
        set_sequence(conn, table)
        with timed(f"commit {table}"):
            conn.commit()
        with self.lock:
            self.committed.append(table)
            self.counts[table] = rows
        with timed(f"analyze {table}"):
            conn.execute(f"ANALYZE {quote(table)}")
            conn.commit()

    def _copy_stream(self, conn: psycopg.Connection, job: _Job, frozen: set[str]) -> int:
        assert job.encoder is not None
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

    def _copy_spooled(self, conn: psycopg.Connection, job: _Job, frozen: set[str]) -> int:
        spools = job.spools
        assert spools is not None
        for relation in spools.relations(job.table):
            if self.failed.is_set():
                raise _Aborted
            with conn.cursor().copy(copy_sql(relation, spools.encoders[job.table], relation in frozen)) as copy:
                copy.write(HEADER)
                for chunk in spools.chunks(job.table, relation):
                    copy.write(chunk)
                copy.write(TRAILER)
        count = spools.counts[job.table]
        self._progress(job.table, count, count)
        return count

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
            try:
                conn.cancel_safe()
            except Exception:  # noqa: BLE001, S110 (best effort: the connection may be closing)
                pass

    def _cleanup(self) -> None:
        """Empty the tables again after a failure (all of them: they were empty when the seed started)."""
        from dbops.db import connection
        from dbops.errors import OperationFailed

        if not self.committed:
            return
        with self.timings("cleanup after failure"):
            try:
                with connection(self.url) as conn:
                    conn.execute(f"TRUNCATE {', '.join(quote(t) for t in self.catalog)}")
            except Exception as exc:
                raise OperationFailed(
                    f"the seed failed ({self.error}) and emptying the tables it had loaded failed too ({exc}): "
                    f"{', '.join(self.committed)} still hold synthetic rows",
                    hint="run `dbops reset` for this schema",
                ) from self.error
