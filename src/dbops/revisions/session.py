"""Running a schema's revisions: one connection, the schema's advisory lock, Alembic on it.

``upgrade`` / ``downgrade`` are the primitives the workflows (and the test
harness) build on: Alembic runs on one connection that holds the schema's
advisory lock, each applied revision's checksum recorded in the revision's
own transaction (``RunHooks``, :mod:`dbops.revisions.env`).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings, mask_url
from dbops.db import create_engine, unavailable
from dbops.errors import DbopsError, OperationFailed, first_line
from dbops.revisions.checksums import CREATE_TABLE_SQL, RecordedChecksum, record_sql
from dbops.revisions.config import alembic_config
from dbops.revisions.env import RunHooks
from dbops.revisions.history import History, database_state, load_history

if TYPE_CHECKING:
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

Log = Callable[[str], None]

#: SQLSTATEs worth retrying a revision for: lock_not_available (lock_timeout) and deadlock_detected.
RETRYABLE_SQLSTATES = {"55P03": "lock_timeout", "40P01": "deadlock"}

# A migration session holds the schema's advisory lock and, while a revision runs, its locks
# (ACCESS EXCLUSIVE for most DDL). When dbops is killed mid-statement the server would only
# notice the dead client when the statement ends (up to statement_timeout) and readers queue
# behind those locks all that time. So the server checks the client socket every few seconds
# while a query runs (client_connection_check_interval, PostgreSQL 14+: a closed socket is seen
# at once) and probes an idle TCP peer with keepalives (a vanished host: about idle + interval
# x count seconds). Unix-socket connections ignore the keepalive settings.
CLIENT_CHECK_INTERVAL = "2s"
SERVER_KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
#: libpq's side of the same: the client notices a vanished server (TCP only).
CLIENT_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def _silent(_: str) -> None:
    pass


def advisory_lock_key(schema: str) -> int:
    """A stable 32-bit key for ``pg_advisory_lock`` per schema.

    >>> advisory_lock_key("healthcare") == advisory_lock_key("healthcare")
    True
    >>> 0 <= advisory_lock_key("fashion") < 2**32
    True
    """
    return zlib.crc32(f"dbops:migrate:{schema}".encode())


# -- the migration session: one connection, the advisory lock, Alembic on it --------------------


class MigrationSession:
    """One SQLAlchemy connection (NullPool) on which dbops locks and runs Alembic."""

    def __init__(self, url: str, application: str) -> None:
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        self.url = url
        self.engine = create_engine(url, poolclass=NullPool, connect_args=CLIENT_KEEPALIVES)
        try:
            self.conn = self.engine.connect()
            self._notice_dead_client()
        except sqlalchemy.exc.OperationalError as exc:
            self.engine.dispose()
            raise unavailable(url, exc.orig or exc) from None
        except BaseException:
            self.engine.dispose()
            raise
        self.application = application
        self.locked_key: int | None = None

    def _notice_dead_client(self) -> None:
        """Session settings that let the server notice within seconds that dbops died (see CLIENT_CHECK_INTERVAL)."""
        import sqlalchemy

        wanted = dict(SERVER_KEEPALIVES)
        if int(self.conn.exec_driver_sql("SHOW server_version_num").scalar_one()) >= 140000:
            wanted["client_connection_check_interval"] = CLIENT_CHECK_INTERVAL
        calls = ", ".join(f"set_config(:n{i}, :v{i}, false)" for i in range(len(wanted)))
        params = {}
        for i, (name, value) in enumerate(wanted.items()):
            params[f"n{i}"], params[f"v{i}"] = name, value
        self.conn.execute(sqlalchemy.text(f"SELECT {calls}"), params)
        self.conn.commit()  # session settings made inside a rolled-back transaction would be undone

    def close(self) -> None:
        """Close the connection: that releases the session-level advisory lock (NullPool: a real close)."""
        try:
            self.conn.close()
        finally:
            self.engine.dispose()

    def recover(self) -> None:
        """Leave any failed/open transaction (after an Alembic error)."""
        if self.conn.in_transaction():
            self.conn.rollback()

    def current(self) -> tuple[str, ...]:
        return self.state()[0]

    def state(self) -> tuple[tuple[str, ...], dict[str, RecordedChecksum]]:
        """:func:`database_state`, read in a transaction of its own."""
        self.recover()
        state = database_state(self.conn)
        self.conn.rollback()
        return state

    def record_unrecorded(self, history: History, current: tuple[str, ...], recorded: dict[str, RecordedChecksum],
                          root: Path | None) -> list[str]:
        """Record the checksums of applied revisions dbops has none for (applied by plain Alembic).

        They are trusted as the files are now; returns the revisions recorded.
        """
        unrecorded = [r for r in history.applied(current) if r not in recorded]
        if unrecorded:
            self.conn.exec_driver_sql(CREATE_TABLE_SQL)
            for rev in unrecorded:
                f = history.revisions[rev]
                for statement in record_sql(rev, str(f.path), f.sha256, upgrade=True, root=root):
                    self.conn.execute(statement)
            self.conn.commit()
        return unrecorded

    def lock(self, schema: str, wait_seconds: float, log: Log = _silent) -> float:
        """Take the schema's advisory lock, waiting at most ``wait_seconds``; returns the wait.

        Another holder past the deadline is an OperationFailed (exit 1) naming it.
        """
        import sqlalchemy

        key = advisory_lock_key(schema)
        started = time.monotonic()
        self.recover()
        # application_name: visible in pg_stat_activity and in the "another deploy holds the lock" message.
        got = self.conn.execute(sqlalchemy.text("SELECT set_config('application_name', :name, false), "
                                                f"pg_try_advisory_lock({key})"), {"name": self.application}).one()[1]
        if not got:
            holder = self._holder(key)
            log(f"{schema}: waiting up to {wait_seconds:g}s for the migration lock (held by {holder})")
            got = self._wait_lock(key, wait_seconds)
        self.conn.commit()
        if not got:
            raise OperationFailed(
                f"{schema}: another deploy holds the lock ({self._holder(key)}); gave up after {wait_seconds:g}s",
                hint="wait for it to finish and run again (tool.dbops.deploy.advisory_lock_wait_seconds sets the wait)",
            )
        self.locked_key = key
        return time.monotonic() - started

    def _wait_lock(self, key: int, wait_seconds: float) -> bool:
        import sqlalchemy

        if wait_seconds <= 0:
            return False
        # A blocking pg_advisory_lock bounded by lock_timeout: woken as soon as the holder releases.
        self.conn.exec_driver_sql(f"SET lock_timeout = '{int(wait_seconds * 1000)}ms'")
        try:
            self.conn.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
            got = True
        except sqlalchemy.exc.DBAPIError as exc:
            if sqlstate(exc) != "55P03":
                raise
            got = False
        self.conn.rollback()
        self.conn.exec_driver_sql("RESET lock_timeout")
        return got

    def _holder(self, key: int) -> str:
        row = self.conn.exec_driver_sql(
            "SELECT a.pid, coalesce(nullif(a.application_name, ''), 'unknown application'), "
            "coalesce(host(a.client_addr), 'local socket'), a.backend_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = {key} "
            "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        if row is None:
            return "a session that just released it"
        return f"pid {row[0]}, {row[1]}, from {row[2]}, connected {row[3]:%Y-%m-%d %H:%M:%S}"

    def run(self, config: Config, direction: str, target: str, hooks: RunHooks,
            script: ScriptDirectory | None = None) -> None:
        """``alembic upgrade/downgrade target`` on this connection.

        ``script``: an already loaded ScriptDirectory (``History.script``) to
        reuse instead of loading every revision file again.
        """
        from alembic import command

        self.recover()
        config.attributes["connection"] = self.conn
        config.attributes["dbops_hooks"] = hooks
        try:
            if script is None:
                getattr(command, direction)(config, target)
            else:
                _run_script(config, script, direction, target)
        finally:
            config.attributes.pop("connection", None)


def _run_script(config: Config, script: ScriptDirectory, direction: str, target: str) -> None:
    """What ``alembic.command.upgrade/downgrade`` do, on a given ScriptDirectory."""
    from alembic.runtime.environment import EnvironmentContext

    def steps(rev: Any, context: Any) -> Any:
        if direction == "upgrade":
            return script._upgrade_revs(target, rev)
        return script._downgrade_revs(target, rev)

    with EnvironmentContext(config, script, fn=steps, as_sql=False, destination_rev=target):
        script.run_env()


@contextmanager
def migration_session(url: str, application: str) -> Iterator[MigrationSession]:
    session = MigrationSession(url, application)
    try:
        yield session
    finally:
        session.close()


def sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE of a (wrapped) database error, if any."""
    seen = 0
    while exc is not None and seen < 10:
        state = getattr(exc, "sqlstate", None)
        if state:
            return state
        orig = getattr(exc, "orig", None)
        exc = orig if orig is not None and orig is not exc else exc.__cause__
        seen += 1
    return None


def error_detail(exc: BaseException) -> str:
    """One line describing a database (or other) error, no SQL dump, no URL password."""
    return mask_url(first_line(getattr(exc, "orig", None) or exc))


def revision_failed(schema: SchemaSettings, history: History, failing: str | None, current: tuple[str, ...],
                    exc: BaseException) -> OperationFailed:
    """The OperationFailed for a revision that raised (the database stays at ``current``)."""
    where = history.revisions[failing].file if failing in history.revisions else None
    state = sqlstate(exc)
    code = f" [SQLSTATE {state}]" if state else ""
    at = ", ".join(current) if current else "base (empty)"
    return OperationFailed(
        f"{schema.name}: revision {failing or '?'} failed: {error_detail(exc)}{code}; "
        f"rolled back, the database stays at {at}",
        location=where,
        hint="fix the revision (or what blocks it) and run again",
    )


# -- upgrade / downgrade (test harness, dev migrate, reset) ------------------------------------


def upgrade(settings: Settings, schema: SchemaSettings, url: str, revision: str = "heads", *,
            log: Log = _silent, history: History | None = None) -> list[str]:
    """Apply pending revisions up to ``revision`` under the schema's advisory lock.

    Each revision runs in its own transaction and its checksum is recorded in
    that transaction. Returns the revisions applied (empty when up to date).
    A broken history (or a database at a revision with no file) is an
    InputError before anything runs. ``history``: the schema's, when the caller already loaded it.
    """
    history = history or load_history(settings, schema)
    config = alembic_config(settings, schema, url)
    applied: list[str] = []
    hooks = RunHooks(on_step=lambda step: applied.append(step.revision) if step.is_upgrade else None)
    with migration_session(url, "dbops migrate") as session:
        session.lock(schema.name, settings.deploy.advisory_lock_wait_seconds, log)
        history.check_known(*session.state())
        try:
            session.run(config, "upgrade", _target(revision), hooks, script=history.script)
        except DbopsError:
            raise
        except Exception as exc:
            current = session.current()
            pending = history.pending(current)
            raise revision_failed(schema, history, pending[0] if pending else None, current, exc) from exc
    return applied


def downgrade(settings: Settings, schema: SchemaSettings, url: str, revision: str = "base", *,
              log: Log = _silent) -> list[str]:
    """Undo revisions down to ``revision`` (dev and tests); forgets their checksums. Returns them."""
    history = load_history(settings, schema)
    config = alembic_config(settings, schema, url)
    undone: list[str] = []
    hooks = RunHooks(on_step=lambda step: undone.append(step.revision) if not step.is_upgrade else None)
    with migration_session(url, "dbops migrate") as session:
        session.lock(schema.name, settings.deploy.advisory_lock_wait_seconds, log)
        history.check_known(*session.state())
        session.run(config, "downgrade", revision, hooks, script=history.script)
    return undone


def _target(revision: str) -> str:
    return "heads" if revision == "head" else revision
