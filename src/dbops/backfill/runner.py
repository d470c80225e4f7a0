"""Online batched backfill: the "migrate" step of expand → migrate → contract.

The table's integer key is walked in ranges (keyset: ``key > last AND key <=
upper`` where ``upper`` is the ``batch_size``-th key after ``last``), so each
batch touches at most ``batch_size`` rows whatever ``--where`` filters out.
Each batch is its own short transaction under ``lock_timeout``: the UPDATE
and the progress row in ``dbops_backfill_progress`` commit together, so an
interrupted run (Ctrl-C, SIGKILL, a lost connection) resumes exactly after
the last committed batch, and no lock (row locks included) is held longer
than one batch. A batch that hits ``lock_timeout`` is rolled back and
retried after a backoff; a session advisory lock keeps two runs of the same
job apart.

``--set``/``--where`` may be any SQL expression (``%``, ``mod()``, ``LIKE
'a%'``): the batch statements are composed with psycopg's ``sql`` module and
sent without client-side placeholders, so nothing in them is read as one.

A job is defined by its table, ``--set`` and ``--where``: a rerun with other
arguments is refused once a batch has committed (it would mix two
backfills), but a job that failed before its first batch takes the corrected
arguments; ``restart=True`` starts a job over. ``backfill_status`` lists the
jobs of a database and how far each got.
"""

from __future__ import annotations

import contextlib
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dbops.backfill.validate import assignments, condition
from dbops.db import connection, one_row, scalar
from dbops.errors import InputError, OperationFailed, RefusedError, UsageError, first_line

if TYPE_CHECKING:
    import psycopg

PROGRESS_TABLE = "dbops_backfill_progress"
_INTEGER_TYPES = ("smallint", "integer", "bigint")
_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_TABLE_NAME = re.compile(rf"^(?:(?P<schema>{_IDENT})\.)?(?P<name>{_IDENT})$")

PROGRESS_DDL = f"""
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
    job text PRIMARY KEY,
    table_name text NOT NULL,
    key_column text NOT NULL,
    set_sql text NOT NULL,
    where_sql text,
    last_id bigint,
    rows_done bigint NOT NULL DEFAULT 0,
    batches bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
)
"""


@dataclass(frozen=True)
class BackfillProgress:
    """Handed to ``progress`` after every committed batch (and once at the start)."""

    job: str
    rows_done: int  # all runs of the job
    rows_this_run: int
    batches_this_run: int
    last_id: int
    first_id: int
    max_id: int
    elapsed: float
    lock_retries: int

    @property
    def fraction(self) -> float:
        """Share of the key range walked (the keys are the unit of the ETA)."""
        span = self.max_id - self.first_id
        return 1.0 if span <= 0 else min(1.0, max(0.0, (self.last_id - self.first_id) / span))


@dataclass
class BackfillReport:
    """The outcome of one ``backfill`` call."""

    job: str
    table: str
    key: str
    set_sql: str
    where_sql: str | None
    batch_size: int
    rows_updated: int = 0  # this run
    rows_done: int = 0  # all runs
    batches: int = 0  # this run
    last_id: int | None = None
    max_id: int | None = None
    finished: bool = False
    resumed: bool = False
    restarted: bool = False  # --restart, or corrected arguments before the first batch
    already_finished: bool = False
    lock_retries: int = 0
    longest_batch_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_updated / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows_per_second"] = round(self.rows_per_second, 1)
        return data


@dataclass(frozen=True)
class _Target:
    schema: str
    name: str
    columns: tuple[str, ...]
    key: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def backfill(
    url: str,
    table: str,
    set_expr: str,
    *,
    where: str | None = None,
    batch_size: int = 1000,
    sleep_ms: int = 0,
    lock_timeout: str = "1s",
    job_name: str | None = None,
    progress: Callable[[BackfillProgress], None] | None = None,
    stop_after_batches: int | None = None,
    max_retries: int = 20,
    restart: bool = False,
) -> BackfillReport:
    """Run (or resume) the backfill ``UPDATE table SET set_expr [WHERE where]`` in key-range batches.

    ``job_name`` (default ``<schema.table>:<columns set>``) names the progress
    row; rerunning the same job resumes it, and a finished job is a no-op.
    ``stop_after_batches`` stops early (as an interruption would), leaving the
    job resumable. Bad ``--set``/``--where`` raise InputError before any change.
    ``restart``: forget the job's progress and walk the table again.
    """
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, not {batch_size}")
    if sleep_ms < 0:
        raise UsageError(f"--sleep must be 0 or more milliseconds, not {sleep_ms}")

    with connection(url, autocommit=True) as conn:
        target = _resolve(conn, table)
        pairs = assignments(set_expr, target.columns, key=target.key, table=target.name)
        where_sql = condition(where, target.columns, table=target.name) if where else None
        set_sql = ", ".join(f'"{col.replace(chr(34), chr(34) * 2)}" = {expr}' for col, expr in pairs)
        job = job_name or f"{target.qualified}:{','.join(col for col, _ in pairs)}"
        _explain(conn, target, set_sql, where_sql)
        _ensure_progress_table(conn)
        if not scalar(conn, "SELECT pg_try_advisory_lock(%s)", (_lock_key(job),)):
            raise RefusedError(f"backfill job {job!r} is already running in another session",
                               hint="wait for it to finish, or give this run another --job name")
        try:
            return _run(conn, target, job, set_sql, where_sql, batch_size, sleep_ms, lock_timeout,
                        progress, stop_after_batches, max_retries, restart)
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_lock_key(job),))


def _run(
    conn: psycopg.Connection, target: _Target, job: str, set_sql: str, where_sql: str | None, batch_size: int,
    sleep_ms: int, lock_timeout: str, progress: Callable[[BackfillProgress], None] | None,
    stop_after_batches: int | None, max_retries: int, restart: bool,
) -> BackfillReport:
    import psycopg
    from psycopg import sql

    report = BackfillReport(job, target.qualified, target.key, set_sql, where_sql, batch_size)
    state = _load_job(conn, job, target, set_sql, where_sql, restart=restart)
    report.restarted = state["restarted"]
    report.rows_done = state["rows_done"]
    if state["finished_at"] is not None:
        report.already_finished = report.finished = True
        report.last_id = state["last_id"]
        return report
    report.resumed = state["last_id"] is not None
    rel, key = sql.Identifier(target.schema, target.name), sql.Identifier(target.key)
    first_id, max_id = one_row(conn, sql.SQL("SELECT min({k}), max({k}) FROM {t}").format(k=key, t=rel))
    last = state["last_id"] if state["last_id"] is not None else (first_id - 1 if first_id is not None else 0)
    start_from = last
    report.max_id = max_id
    find_upper = sql.SQL(
        "SELECT max({k}) FROM (SELECT {k} FROM {t} WHERE {k} > %s ORDER BY {k} LIMIT %s) AS batch"
    ).format(k=key, t=rel)
    # The user's SQL goes in as sql.SQL and the bounds as literals: the statement is sent without parameters,
    # so a `%` in --set/--where (LIKE 'a%', mod() rendered as a % b) is never taken for a placeholder.
    update = sql.SQL("UPDATE {t} SET {s} WHERE {k} > {lo} AND {k} <= {hi}{w}")
    user_sql = {"t": rel, "s": sql.SQL(set_sql), "k": key, "w": sql.SQL(f" AND ({where_sql})" if where_sql else "")}
    record = sql.SQL(
        "UPDATE {p} SET last_id = %s, rows_done = rows_done + %s, batches = batches + 1, updated_at = now() "
        "WHERE job = %s").format(p=sql.Identifier(PROGRESS_TABLE))
    started = time.monotonic()

    def tick() -> None:
        if progress is not None:
            progress(BackfillProgress(
                job, report.rows_done, report.rows_updated, report.batches, last,
                start_from, max(max_id or last, last), time.monotonic() - started, report.lock_retries,
            ))

    tick()
    while True:
        if stop_after_batches is not None and report.batches >= stop_after_batches:
            break
        upper = scalar(conn, find_upper, (last, batch_size))
        if upper is None:
            conn.execute(sql.SQL("UPDATE {p} SET finished_at = now(), updated_at = now() WHERE job = %s").format(
                p=sql.Identifier(PROGRESS_TABLE)), (job,))
            report.finished = True
            break
        attempt = 0
        while True:
            batch_started = time.monotonic()
            try:
                with conn.transaction():
                    conn.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
                    rows = conn.execute(update.format(lo=sql.Literal(last), hi=sql.Literal(upper), **user_sql)).rowcount
                    conn.execute(record, (upper, rows, job))
                break
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
                attempt += 1
                report.lock_retries += 1
                if attempt > max_retries:
                    raise OperationFailed(
                        f"backfill {job!r}: batch after {target.key}={last} could not get its locks "
                        f"{max_retries} times ({first_line(exc)})",
                        hint="progress is saved: rerun the same command later to resume",
                    ) from None
                time.sleep(min(0.05 * 2 ** attempt, 2.0))
            except psycopg.Error as exc:
                first = report.batches == 0 and not report.resumed
                raise OperationFailed(
                    f"backfill {job!r}: the batch after {target.key}={last} failed: {first_line(exc)}",
                    location="--set/--where",
                    hint="nothing of that batch was written; fix the expression and rerun"
                    + (" (the job has no batch yet: it takes the corrected arguments)" if first else
                       " with --restart, or resume with the same arguments once the data is fixed"),
                ) from None
        report.longest_batch_seconds = max(report.longest_batch_seconds, time.monotonic() - batch_started)
        last = upper
        report.batches += 1
        report.rows_updated += rows
        report.rows_done += rows
        if max_id is not None and upper > max_id:
            max_id = upper  # rows inserted since the start: walked too
        tick()
        if sleep_ms:
            time.sleep(sleep_ms / 1000)
    report.last_id = last
    report.max_id = max_id
    report.elapsed_seconds = time.monotonic() - started
    return report


def _resolve(conn: psycopg.Connection, table: str) -> _Target:
    """The table (``name`` or ``schema.name``), its columns and its integer key column."""
    match = _TABLE_NAME.match(table.strip())
    if not match:
        raise InputError(f"{table!r} is not a table name", location="TABLE", hint="give `table` or `schema.table`")
    schema = _unquote(match["schema"]) if match["schema"] else scalar(conn, "SELECT current_schema()")
    name = _unquote(match["name"])
    row = conn.execute(
        """
        SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')
        """,
        (schema, name),
    ).fetchone()
    if row is None:
        raise InputError(f"table {schema}.{name} does not exist", location="TABLE",
                         hint="check the name (and the schema's database URL)")
    oid = row[0]
    columns = tuple(r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (oid,)))
    key = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = %s AND i.indisprimary
        """,
        (oid,),
    ).fetchone()
    if key is None or key[1] not in _INTEGER_TYPES:
        raise InputError(
            f"{schema}.{name} has no primary key starting with an integer column to walk",
            location="TABLE", hint="backfill needs an integer primary key (e.g. id bigint)",
        )
    return _Target(schema, name, columns, key[0])


def _unquote(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident.lower()


def _explain(conn: psycopg.Connection, target: _Target, set_sql: str, where_sql: str | None) -> None:
    """Let PostgreSQL plan one batch (nothing runs): types, functions, subqueries are checked."""
    import psycopg
    from psycopg import sql

    statement = sql.SQL("EXPLAIN UPDATE {t} SET {s} WHERE {k} > 0 AND {k} <= 0{w}").format(
        t=sql.Identifier(target.schema, target.name), s=sql.SQL(set_sql), k=sql.Identifier(target.key),
        w=sql.SQL(f" AND ({where_sql})" if where_sql else ""))
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(statement)
    except psycopg.Error as exc:
        detail = first_line(exc)
        raise InputError(f"PostgreSQL rejects the backfill: {detail}", location="--set/--where",
                         hint="fix the expression (types, function names, subqueries)") from None


def _ensure_progress_table(conn: psycopg.Connection) -> None:
    import psycopg

    with contextlib.suppress(psycopg.errors.UniqueViolation):  # two first runs at once: the other created it
        conn.execute(PROGRESS_DDL)


def _load_job(conn: psycopg.Connection, job: str, target: _Target, set_sql: str, where_sql: str | None, *,
              restart: bool = False) -> dict[str, Any]:
    conn.execute(
        f"INSERT INTO {PROGRESS_TABLE} (job, table_name, key_column, set_sql, where_sql) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (job) DO NOTHING",
        (job, target.qualified, target.key, set_sql, where_sql),
    )
    row = one_row(
        conn,
        f"SELECT table_name, key_column, set_sql, where_sql, last_id, rows_done, finished_at, batches "
        f"FROM {PROGRESS_TABLE} WHERE job = %s",
        (job,),
    )
    table_name, key_column, old_set, old_where, last_id, rows_done, finished_at, batches = row
    changed = (table_name, key_column, old_set, old_where) != (target.qualified, target.key, set_sql, where_sql)
    if changed and not restart and batches:
        raise RefusedError(
            f"backfill job {job!r} was started as `UPDATE {table_name} SET {old_set}"
            f"{' WHERE ' + old_where if old_where else ''}` and has {batches:,} batch(es) done; this run differs",
            hint="rerun it with the same --set/--where to resume, --restart to start it over with these, "
            "or give another --job name",
        )
    if restart or changed:  # started over, or corrected before its first batch committed
        conn.execute(
            f"UPDATE {PROGRESS_TABLE} SET table_name = %s, key_column = %s, set_sql = %s, where_sql = %s, "
            "last_id = NULL, rows_done = 0, batches = 0, started_at = now(), updated_at = now(), finished_at = NULL "
            "WHERE job = %s",
            (target.qualified, target.key, set_sql, where_sql, job),
        )
        return {"last_id": None, "rows_done": 0, "finished_at": None, "restarted": bool(batches or finished_at)}
    return {"last_id": last_id, "rows_done": rows_done, "finished_at": finished_at, "restarted": False}


@dataclass(frozen=True)
class JobStatus:
    """One row of ``dbops backfill --status``."""

    job: str
    table: str
    statement: str
    rows_done: int
    batches: int
    last_id: int | None
    max_id: int | None  # the table's largest key now (None: the table is gone or empty)
    state: str  # "finished", "running", "stopped" (resumable) or "not started"
    started_at: Any
    updated_at: Any
    finished_at: Any

    @property
    def fraction(self) -> float | None:
        """Share of the key range walked (None when unknown)."""
        if self.state == "finished":
            return 1.0
        if self.last_id is None:
            return 0.0
        if not self.max_id:
            return None
        return min(1.0, max(0.0, self.last_id / self.max_id))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fraction"] = self.fraction
        return data


def backfill_status(url: str) -> list[JobStatus]:
    """Every backfill job recorded in the database at ``url`` (empty when none ever ran), newest first."""
    from psycopg import sql

    with connection(url, autocommit=True) as conn:
        conn.read_only = True
        if scalar(conn, "SELECT to_regclass(%s)", (PROGRESS_TABLE,)) is None:
            return []
        rows = conn.execute(
            f"SELECT job, table_name, key_column, set_sql, where_sql, last_id, rows_done, batches, started_at, "
            f"updated_at, finished_at FROM {PROGRESS_TABLE} ORDER BY updated_at DESC, job"
        ).fetchall()
        held = {r[0] for r in conn.execute(
            "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )}
        out = []
        for job, table, key, set_sql, where_sql, last_id, rows_done, batches, started, updated, finished in rows:
            max_id = None
            if scalar(conn, "SELECT to_regclass(%s)", (table,)) is not None:
                schema, _, name = table.partition(".")
                max_id = scalar(conn, sql.SQL("SELECT max({}) FROM {}").format(
                    sql.Identifier(key), sql.Identifier(schema, name)))
            if finished is not None:
                state = "finished"
            elif _lock_key(job) & 0xFFFFFFFFFFFFFFFF in held or _lock_key(job) in held:
                state = "running"
            else:
                state = "stopped" if batches else "not started"
            statement = f"UPDATE {table} SET {set_sql}" + (f" WHERE {where_sql}" if where_sql else "")
            out.append(JobStatus(job, table, statement, rows_done, batches, last_id, max_id, state, started,
                                 updated, finished))
    return out


def _lock_key(job: str) -> int:
    """A stable signed 32-bit advisory lock key for a job.

    >>> _lock_key("public.users:email_lower") == _lock_key("public.users:email_lower")
    True
    """
    return zlib.crc32(f"dbops:backfill:{job}".encode()) - 2**31
