"""``Database``: the engine and pool, query logging, health checks and transactions (the guideline's PrismaService).

Every unit of work runs in ``transaction()`` (retried) or ``begin()`` (one
attempt). A transaction starts with one statement that sets, with
``set_config(..., true)`` — ``SET LOCAL``, so nothing outlives the
transaction and a transaction-pooling PgBouncer is safe — its
``statement_timeout`` and ``idle_in_transaction_session_timeout``, the
tenant (``app.tenant_id``) and the role (``platform_app``, which row-level
security confines to that tenant). A transaction that names no tenant runs
under the same role and sees no tenant's rows; ``privileged=True`` (platform
jobs, never request handling) keeps the connecting role.

``AsyncDatabase`` offers the same under asyncio (psycopg's async driver):
the unit of work is the same synchronous function, run with
``AsyncSession.run_sync``, so repositories and services have one
implementation.

Seams for what comes next, kept narrow on purpose: ``_bind_for(options)``
picks the engine of a transaction (replicas for ``read_only``, a shard per
tenant), the setup statement is the only session state a transaction
touches, and services publish events through ``platformdb.events`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from platformdb import errors
from platformdb.events import EventBus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

T = TypeVar("T")
Isolation = Literal["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"]

APP_ROLE = "platform_app"
TENANT_SETTING = "app.tenant_id"
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|hash|api_?key|credential", re.I)
_PASSWORD_IN_URL = re.compile(r"^(?P<head>[a-z][a-z0-9+.-]*://[^:@/]*):(?P<pw>[^@/]*)@", re.I)
_PASSWORD_IN_QUERY = re.compile(r"(?i)([?&]password=)[^&]*")

sql_logger = logging.getLogger("platformdb.sql")
logger = logging.getLogger("platformdb")


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``.

    >>> mask_url("postgresql://app:s3cret@db:5432/healthcare")
    'postgresql://app:***@db:5432/healthcare'
    """
    return _PASSWORD_IN_QUERY.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\g<head>:***@", url))


def _libpq_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def _sqlalchemy_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def mask_parameters(parameters: Any) -> Any:
    """Statement parameters with the values of secret-looking keys replaced by ``***``.

    >>> mask_parameters({"email": "a@b.c", "password_hash": "$2b$..."})
    {'email': 'a@b.c', 'password_hash': '***'}
    """
    if isinstance(parameters, Mapping):
        return {k: ("***" if _SECRET_KEY.search(str(k)) else v) for k, v in parameters.items()}
    if isinstance(parameters, list | tuple) and parameters and isinstance(parameters[0], Mapping):
        return [mask_parameters(p) for p in parameters]
    return parameters


# -- options -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransactionOptions:
    """How one transaction runs (``Database.transaction`` / ``begin`` keyword arguments)."""

    timeout: float = 5.0  # seconds: statement_timeout, idle-in-transaction timeout, and the whole transaction
    max_wait: float = 2.0  # seconds to wait for a pooled connection
    isolation: Isolation | None = None  # None: the server's default (READ COMMITTED)
    read_only: bool = False
    tenant: int | None = None
    privileged: bool = False  # keep the connecting role: row-level security does not apply
    retries: int = 3  # extra attempts after a serialization failure or deadlock (transaction() only)


@dataclass(frozen=True, slots=True)
class PoolStats:
    size: int
    checked_out: int
    checked_in: int
    overflow: int


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What a readiness endpoint shows: up or not, how fast, and the pool's state."""

    ok: bool
    latency_ms: float | None
    error: str | None
    pool: PoolStats | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "pool": None
            if self.pool is None
            else {
                "size": self.pool.size,
                "checked_out": self.pool.checked_out,
                "checked_in": self.pool.checked_in,
                "overflow": self.pool.overflow,
            },
        }


def _setup_statement(options: TransactionOptions, role: str | None) -> tuple[str, dict[str, str]]:
    """The one statement that starts a transaction: timeouts, tenant and role, all transaction-local."""
    timeout = f"{max(1, round(options.timeout * 1000))}ms"
    parts = [
        "set_config('statement_timeout', %(timeout)s, true)",
        "set_config('idle_in_transaction_session_timeout', %(timeout)s, true)",
    ]
    params = {"timeout": timeout}
    if options.tenant is not None or not options.privileged:
        parts.append(f"set_config('{TENANT_SETTING}', %(tenant)s, true)")
        params["tenant"] = "" if options.tenant is None else str(int(options.tenant))
    if role and not options.privileged:
        parts.append("set_config('role', %(role)s, true)")
        params["role"] = role
    return "SELECT " + ", ".join(parts), params


def violated_constraint(exc: BaseException) -> str | None:
    """The constraint an IntegrityError names (``appointments_doctor_id_appointment_date_time_key``), if any."""
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def translate(exc: BaseException, url: str) -> BaseException:
    """A driver/SQLAlchemy error as the platformdb error it means (other exceptions unchanged)."""
    if isinstance(exc, errors.PlatformDBError):
        return exc
    if isinstance(exc, sa_exc.TimeoutError):
        return errors.DatabaseBusy(f"no pooled connection became free in time ({_first_line(exc)})")
    if not isinstance(exc, sa_exc.DBAPIError):
        return exc
    state = _sqlstate(exc)
    message = _first_line(exc).replace(url, mask_url(url))
    if state in RETRYABLE_SQLSTATES:
        return errors.SerializationFailure(message)
    if state == "57014" or state == "25P03":  # query_canceled (statement_timeout), idle_in_transaction timeout
        return errors.TransactionTimeout(message)
    if state == "42501":
        if "row-level security" in message:
            return errors.TenantViolation(message)
        return errors.PermissionDenied(message)
    if state == "22023" and "role" in message:
        return errors.DatabaseError(f"{message} (run the migrations: they create the application role)")
    if state is not None and state.startswith("23"):
        return errors.ConstraintViolation(message, constraint=violated_constraint(exc))
    if isinstance(exc, sa_exc.OperationalError) and (state is None or state.startswith("08")):
        return errors.DatabaseUnavailable(f"cannot reach the database at {mask_url(url)}: {message}")
    return errors.DatabaseError(message)


def _backoff(attempt: int, base: float = 0.02, cap: float = 0.5) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base·2^attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))


# -- statements: one observation point for logging and counting -------------------------------------------------


class ExecutedStatement(NamedTuple):
    """One statement the server ran (or refused): what logging and statement counting observe."""

    sql: str
    parameters: Any
    duration_ms: float
    rows: int
    internal: bool = False  # a transaction's setup statement, a health check
    executemany: bool = False
    error: BaseException | None = None


class StatementHooks:
    """Callables told about every statement of a database: SQLAlchemy's cursor events feed them, and so
    does the precompiled fast path of hot statements (``fetch_rows``), which bypasses SQLAlchemy's
    execution machinery for speed but not the observers."""

    def __init__(self) -> None:
        self._hooks: list[Callable[[ExecutedStatement], None]] = []

    def add(self, hook: Callable[[ExecutedStatement], None]) -> Callable[[], None]:
        """Observe every statement; returns the function that stops it."""
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook) if hook in self._hooks else None

    def __call__(self, statement: ExecutedStatement) -> None:
        for hook in self._hooks:
            hook(statement)

    def install(self, engine: sa.Engine) -> None:
        """Feed the hooks from the engine's cursor events."""

        def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            conn.info["platformdb.started"] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            started = conn.info.pop("platformdb.started", None)
            if started is None or not self._hooks:
                return
            internal = context is not None and context.execution_options.get("platformdb_internal", False)
            self(
                ExecutedStatement(
                    statement,
                    parameters,
                    (time.perf_counter() - started) * 1000,
                    getattr(cursor, "rowcount", -1),
                    internal,
                    executemany,
                )
            )

        def error(context: Any) -> None:
            if context.connection is not None:
                context.connection.info.pop("platformdb.started", None)
            if self._hooks and context.statement is not None:
                internal = context.execution_context is not None and context.execution_context.execution_options.get(
                    "platformdb_internal", False
                )
                self(
                    ExecutedStatement(
                        context.statement, context.parameters, 0.0, -1, internal, error=context.original_exception
                    )
                )

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        event.listen(engine, "handle_error", error)


class QueryLog:
    """Statements → ``logging``: SQL, masked parameters, duration, rows; slow ones at WARNING, failures at INFO.

    Records carry ``extra`` fields (``db_statement``, ``db_parameters``,
    ``db_duration_ms``, ``db_rows``, ``db_slow``; ``db_error``/``db_sqlstate``
    on failures) for structured handlers (structlog, OpenTelemetry log bridges).
    """

    def __init__(self, hooks: StatementHooks, *, slow_ms: float, log: logging.Logger = sql_logger) -> None:
        self.slow_ms = slow_ms
        self.log = log
        hooks.add(self)

    def __call__(self, statement: ExecutedStatement) -> None:
        if statement.error is not None:
            if self.log.isEnabledFor(logging.INFO):
                self.log.info(
                    "query failed (%s): %s",
                    _first_line(statement.error),
                    statement.sql,
                    extra={
                        "db_statement": statement.sql,
                        "db_parameters": mask_parameters(statement.parameters),
                        "db_error": _first_line(statement.error),
                        "db_sqlstate": _sqlstate(statement.error),
                    },
                )
            return
        slow = statement.duration_ms >= self.slow_ms
        level = logging.WARNING if slow else logging.DEBUG
        if not self.log.isEnabledFor(level):
            return
        masked = mask_parameters(statement.parameters)
        self.log.log(
            level,
            "%s query (%.2f ms, %s rows): %s | %r",
            "slow" if slow else "sql",
            statement.duration_ms,
            statement.rows,
            statement.sql,
            masked,
            extra={
                "db_statement": statement.sql,
                "db_parameters": masked,
                "db_duration_ms": round(statement.duration_ms, 3),
                "db_rows": statement.rows,
                "db_slow": slow,
            },
        )


_HOOKS_KEY = "platformdb.hooks"
_DBAPI_KEY = "platformdb.dbapi"


def fetch_rows(session: Session, sql: str, parameters: Mapping[str, Any], *, internal: bool = False) -> Sequence[Any]:
    """Run a precompiled statement (driver SQL, ``%(name)s`` parameters) in the session's transaction; all rows.

    The fast path of hot statements: the DBAPI cursor of the session's
    connection directly, without SQLAlchemy's per-execution compile-cache
    lookup, execution context and result objects — several times their cost
    for a one-row primary-key read. The statement hooks (logging, statement
    counting) still see it, and driver errors are raised as SQLAlchemy's
    ``DBAPIError`` subclasses, as from ``Session.execute``.
    """
    info = session.info
    cached = info.get(_DBAPI_KEY)
    if cached is None or cached[0] is not session.get_transaction():
        # One cursor per transaction, reused: the connection cannot change within a transaction.
        connection = session.connection()
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None, "the session's connection is closed"
        cached = (session.get_transaction(), connection, dbapi_connection.cursor())
        info[_DBAPI_KEY] = cached
    _, connection, cursor = cached
    hooks: StatementHooks | None = info.get(_HOOKS_KEY)
    started = time.perf_counter()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as exc:
        wrapped = sa_exc.DBAPIError.instance(
            sql, parameters, exc, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        )
        if hooks is not None:
            hooks(ExecutedStatement(sql, parameters, 0.0, -1, internal, error=exc))
        raise wrapped from exc
    if hooks is not None:
        hooks(ExecutedStatement(sql, parameters, (time.perf_counter() - started) * 1000, len(rows), internal))
    return rows


# -- the database ------------------------------------------------------------------------------------------------


class _Base:
    """What the sync and async databases share: configuration, options, error translation."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int,
        max_overflow: int,
        max_wait: float,
        pool_recycle: float,
        pool_pre_ping: bool,
        timeout: float,
        connect_timeout: int,
        slow_query_ms: float,
        app_role: str | None,
        application_name: str,
        prepare_threshold: int | None,
    ) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.max_wait = max_wait
        self.app_role = app_role
        self.slow_query_ms = slow_query_ms
        self.defaults = TransactionOptions(timeout=timeout, max_wait=max_wait)
        self.events = EventBus()
        self.statement_hooks = StatementHooks()
        self._session_class: type[Session] = type("PlatformSession", (Session,), {})
        self.events.install(self._session_class)
        self._engine_kwargs: dict[str, Any] = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "pool_timeout": max_wait,
            "pool_recycle": pool_recycle,
            "pool_pre_ping": pool_pre_ping,
        }
        self._connect_kwargs: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "application_name": application_name,
            # None disables server-side prepared statements (PgBouncer in transaction mode before 1.21).
            "prepare_threshold": prepare_threshold,
        }
        self._gate_size = pool_size + max_overflow if max_overflow >= 0 else None

    def options(self, **overrides: Any) -> TransactionOptions:
        """The database's default transaction options with ``overrides`` (None values keep the default)."""
        unknown = set(overrides) - set(TransactionOptions.__slots__)
        if unknown:
            raise TypeError(f"unknown transaction option(s): {', '.join(sorted(unknown))}")
        return replace(self.defaults, **{k: v for k, v in overrides.items() if v is not None})

    def _execution_options(self, options: TransactionOptions) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if options.isolation is not None:
            out["isolation_level"] = options.isolation
        if options.read_only:
            out["postgresql_readonly"] = True
        return out

    def _translate(self, exc: BaseException) -> BaseException:
        return translate(exc, self.url)

    def _busy(self, options: TransactionOptions) -> errors.DatabaseBusy:
        return errors.DatabaseBusy(
            f"no database connection became free within {options.max_wait:g} s "
            f"(pool of {self.pool_size} + {self.max_overflow} overflow, all in use)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.masked_url!r})"


class Database(_Base):
    """One PostgreSQL database for a synchronous application: ``with Database(url) as db: …``."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        max_wait: float = 2.0,
        pool_recycle: float = 1800,
        pool_pre_ping: bool = True,
        timeout: float = 5.0,
        connect_timeout: int = 5,
        slow_query_ms: float = 200.0,
        app_role: str | None = APP_ROLE,
        application_name: str = "platformdb",
        prepare_threshold: int | None = 5,
        echo_pool: bool = False,
    ) -> None:
        super().__init__(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            max_wait=max_wait,
            pool_recycle=pool_recycle,
            pool_pre_ping=pool_pre_ping,
            timeout=timeout,
            connect_timeout=connect_timeout,
            slow_query_ms=slow_query_ms,
            app_role=app_role,
            application_name=application_name,
            prepare_threshold=prepare_threshold,
        )
        import psycopg

        libpq = _libpq_url(url)
        connect_kwargs = self._connect_kwargs
        self.engine: sa.Engine = sa.create_engine(
            _sqlalchemy_url(url),
            creator=lambda: psycopg.connect(libpq, **connect_kwargs),
            echo_pool=echo_pool,
            **self._engine_kwargs,
        )
        self.statement_hooks.install(self.engine)
        self.query_log = QueryLog(self.statement_hooks, slow_ms=slow_query_ms)
        self._gate = threading.BoundedSemaphore(self._gate_size) if self._gate_size else None
        self._closed = False

    @classmethod
    def from_environment(
        cls, schema: str, *, env: Mapping[str, str] | None = None, local: bool = False, **kwargs: Any
    ) -> Database:
        """The database of ``schema`` (``healthcare``/``fashion``) resolved as the dbops CLI resolves it.

        ``<SCHEMA>_DATABASE_URL``, then ``DATABASE_URL``; with ``local=True``
        and neither set, the dbops local database (``dbops db url SCHEMA``,
        started if needed) — for development only.
        """
        return cls(resolve_url(schema, env=env, local=local), **kwargs)

    # -- lifecycle --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every pooled connection; the database cannot be used afterwards."""
        self._closed = True
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pool_stats(self) -> PoolStats | None:
        pool = self.engine.pool
        if not isinstance(pool, sa.pool.QueuePool):
            return None
        return PoolStats(
            size=pool.size(), checked_out=pool.checkedout(), checked_in=pool.checkedin(), overflow=pool.overflow()
        )

    # -- health ----------------------------------------------------------------------------------------------

    def health_report(self, timeout: float = 1.0) -> HealthReport:
        """``SELECT 1`` within ``timeout`` seconds, and the pool's state; never raises."""
        start = time.perf_counter()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="platformdb-health")
        try:
            future = executor.submit(self._ping, timeout)
            future.result(timeout=timeout)
            return HealthReport(True, round((time.perf_counter() - start) * 1000, 3), None, self.pool_stats())
        except FutureTimeout:
            error = f"no answer within {timeout:g} s"
        except Exception as exc:  # a health check reports, it never raises
            error = str(self._translate(exc)) or type(exc).__name__
        finally:
            executor.shutdown(wait=False)
        logger.warning("database health check failed: %s", error)
        return HealthReport(False, None, error, self.pool_stats())

    def health_check(self, timeout: float = 1.0) -> bool:
        """True when the database answers ``SELECT 1`` within ``timeout`` seconds; never raises."""
        return self.health_report(timeout).ok

    def _ping(self, timeout: float) -> None:
        options = self.options(timeout=timeout, max_wait=timeout, privileged=True)
        with self._checkout(options), self.engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT set_config('statement_timeout', %(t)s, true)",
                {"t": f"{max(1, round(timeout * 1000))}ms"},
                execution_options={"platformdb_internal": True},
            )
            conn.exec_driver_sql("SELECT 1", execution_options={"platformdb_internal": True})
            conn.rollback()

    # -- transactions ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _checkout(self, options: TransactionOptions) -> Iterator[None]:
        if self._closed:
            raise errors.DatabaseError(f"{self!r} is closed")
        if self._gate is None:
            yield
            return
        if not self._gate.acquire(timeout=options.max_wait):
            raise self._busy(options)
        try:
            yield
        finally:
            self._gate.release()

    def _bind_for(self, options: TransactionOptions) -> sa.Engine:
        """The engine a transaction runs on (the seam for replicas and shards: the primary today)."""
        return self.engine

    @contextlib.contextmanager
    def begin(
        self,
        *,
        timeout: float | None = None,
        max_wait: float | None = None,
        isolation: Isolation | None = None,
        read_only: bool = False,
        tenant: int | None = None,
        privileged: bool = False,
    ) -> Iterator[Session]:
        """``with db.begin(tenant=7) as session:`` — one transaction, committed at the end, rolled back on error.

        No retries (a ``with`` body cannot be re-run): use ``transaction()``
        for work that may hit serialization failures or deadlocks.
        """
        options = self.options(
            timeout=timeout,
            max_wait=max_wait,
            isolation=isolation,
            read_only=read_only,
            tenant=tenant,
            privileged=privileged,
        )
        with self._session(options) as session:
            yield session

    @contextlib.contextmanager
    def _session(self, options: TransactionOptions) -> Iterator[Session]:
        deadline = time.monotonic() + options.timeout
        try:
            with self._checkout(options):
                session = self._session_class(
                    bind=self._bind_for(options),
                    expire_on_commit=False,
                    autoflush=False,
                    info={_HOOKS_KEY: self.statement_hooks},
                )
                try:
                    session.connection(execution_options=self._execution_options(options))
                    fetch_rows(session, *_setup_statement(options, self.app_role), internal=True)
                    yield session
                    if time.monotonic() > deadline:
                        raise errors.TransactionTimeout(
                            f"the transaction ran longer than its timeout of {options.timeout:g} s and was rolled back"
                        )
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    session.close()
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
            raise self._translate(exc) from exc

    def transaction(
        self,
        work: Callable[[Session], T],
        *,
        timeout: float | None = None,
        max_wait: float | None = None,
        isolation: Isolation | None = None,
        read_only: bool = False,
        tenant: int | None = None,
        privileged: bool = False,
        retries: int | None = None,
    ) -> T:
        """Run ``work(session)`` in a transaction and return its result (the guideline's ``$transaction``).

        Serialization failures and deadlocks (SQLSTATE 40001/40P01) are
        retried up to ``retries`` times with jittered backoff — ``work`` must
        therefore be safe to re-run (no side effects outside the session;
        record events with ``platformdb.events.record_event``).
        """
        options = self.options(
            timeout=timeout,
            max_wait=max_wait,
            isolation=isolation,
            read_only=read_only,
            tenant=tenant,
            privileged=privileged,
            retries=retries,
        )
        attempt = 0
        while True:
            try:
                with self._session(options) as session:
                    return work(session)
            except errors.SerializationFailure as exc:
                if attempt >= options.retries:
                    raise errors.RetriesExhausted(f"{exc} (after {attempt + 1} attempts)") from exc
                logger.info("retrying after %s (attempt %d of %d)", exc, attempt + 1, options.retries + 1)
                time.sleep(_backoff(attempt))
                attempt += 1


class AsyncDatabase(_Base):
    """The same database under asyncio: ``async with AsyncDatabase(url) as db: await db.transaction(work)``.

    ``work`` is the synchronous function a ``Database`` would run; it receives
    the ``Session`` behind the ``AsyncSession`` (``run_sync``), so the
    repositories and services are shared, not duplicated.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        max_wait: float = 2.0,
        pool_recycle: float = 1800,
        pool_pre_ping: bool = True,
        timeout: float = 5.0,
        connect_timeout: int = 5,
        slow_query_ms: float = 200.0,
        app_role: str | None = APP_ROLE,
        application_name: str = "platformdb",
        prepare_threshold: int | None = 5,
    ) -> None:
        super().__init__(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            max_wait=max_wait,
            pool_recycle=pool_recycle,
            pool_pre_ping=pool_pre_ping,
            timeout=timeout,
            connect_timeout=connect_timeout,
            slow_query_ms=slow_query_ms,
            app_role=app_role,
            application_name=application_name,
            prepare_threshold=prepare_threshold,
        )
        import psycopg
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        libpq = _libpq_url(url)
        connect_kwargs = self._connect_kwargs

        async def creator() -> psycopg.AsyncConnection:
            return await psycopg.AsyncConnection.connect(libpq, **connect_kwargs)

        self.engine: AsyncEngine = create_async_engine(
            _sqlalchemy_url(url), async_creator=creator, **self._engine_kwargs
        )
        self.statement_hooks.install(self.engine.sync_engine)
        self.query_log = QueryLog(self.statement_hooks, slow_ms=slow_query_ms)
        self._sessions = async_sessionmaker(
            sync_session_class=self._session_class, expire_on_commit=False, autoflush=False
        )
        self._gate: asyncio.Semaphore | None = asyncio.Semaphore(self._gate_size) if self._gate_size else None
        self._closed = False

    @classmethod
    def from_environment(
        cls, schema: str, *, env: Mapping[str, str] | None = None, local: bool = False, **kwargs: Any
    ) -> AsyncDatabase:
        """See ``Database.from_environment``."""
        return cls(resolve_url(schema, env=env, local=local), **kwargs)

    async def close(self) -> None:
        self._closed = True
        await self.engine.dispose()

    async def __aenter__(self) -> AsyncDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def pool_stats(self) -> PoolStats | None:
        pool = self.engine.sync_engine.pool
        if not isinstance(pool, sa.pool.QueuePool):
            return None
        return PoolStats(
            size=pool.size(), checked_out=pool.checkedout(), checked_in=pool.checkedin(), overflow=pool.overflow()
        )

    async def health_report(self, timeout: float = 1.0) -> HealthReport:
        """``SELECT 1`` within ``timeout`` seconds, and the pool's state; never raises."""
        start = time.perf_counter()
        try:
            await asyncio.wait_for(self._ping(timeout), timeout)
            return HealthReport(True, round((time.perf_counter() - start) * 1000, 3), None, self.pool_stats())
        except TimeoutError:
            error = f"no answer within {timeout:g} s"
        except Exception as exc:  # a health check reports, it never raises
            error = str(self._translate(exc)) or type(exc).__name__
        logger.warning("database health check failed: %s", error)
        return HealthReport(False, None, error, self.pool_stats())

    async def health_check(self, timeout: float = 1.0) -> bool:
        return (await self.health_report(timeout)).ok

    async def _ping(self, timeout: float) -> None:
        options = self.options(timeout=timeout, max_wait=timeout, privileged=True)
        async with self._checkout(options), self.engine.connect() as conn:
            await conn.exec_driver_sql(
                "SELECT set_config('statement_timeout', %(t)s, true)",
                {"t": f"{max(1, round(timeout * 1000))}ms"},
                execution_options={"platformdb_internal": True},
            )
            await conn.exec_driver_sql("SELECT 1", execution_options={"platformdb_internal": True})
            await conn.rollback()

    @contextlib.asynccontextmanager
    async def _checkout(self, options: TransactionOptions) -> AsyncIterator[None]:
        if self._closed:
            raise errors.DatabaseError(f"{self!r} is closed")
        if self._gate is None:
            yield
            return
        try:
            await asyncio.wait_for(self._gate.acquire(), options.max_wait)
        except TimeoutError:
            raise self._busy(options) from None
        try:
            yield
        finally:
            self._gate.release()

    def _bind_for(self, options: TransactionOptions) -> AsyncEngine:
        return self.engine

    @contextlib.asynccontextmanager
    async def begin(
        self,
        *,
        timeout: float | None = None,
        max_wait: float | None = None,
        isolation: Isolation | None = None,
        read_only: bool = False,
        tenant: int | None = None,
        privileged: bool = False,
    ) -> AsyncIterator[AsyncSession]:
        """``async with db.begin(tenant=7) as session:`` — one transaction (no retries)."""
        options = self.options(
            timeout=timeout,
            max_wait=max_wait,
            isolation=isolation,
            read_only=read_only,
            tenant=tenant,
            privileged=privileged,
        )
        async with self._session(options) as session:
            yield session

    @contextlib.asynccontextmanager
    async def _session(self, options: TransactionOptions) -> AsyncIterator[AsyncSession]:
        deadline = time.monotonic() + options.timeout
        try:
            async with self._checkout(options):
                session = self._sessions(bind=self._bind_for(options), info={_HOOKS_KEY: self.statement_hooks})
                try:
                    await session.connection(execution_options=self._execution_options(options))
                    sql, params = _setup_statement(options, self.app_role)
                    await session.run_sync(lambda sync: fetch_rows(sync, sql, params, internal=True))
                    yield session
                    if time.monotonic() > deadline:
                        raise errors.TransactionTimeout(
                            f"the transaction ran longer than its timeout of {options.timeout:g} s and was rolled back"
                        )
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
                finally:
                    await session.close()
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
            raise self._translate(exc) from exc

    async def transaction(
        self,
        work: Callable[[Session], T],
        *,
        timeout: float | None = None,
        max_wait: float | None = None,
        isolation: Isolation | None = None,
        read_only: bool = False,
        tenant: int | None = None,
        privileged: bool = False,
        retries: int | None = None,
    ) -> T:
        """Run the synchronous ``work(session)`` in a transaction under asyncio; see ``Database.transaction``."""
        options = self.options(
            timeout=timeout,
            max_wait=max_wait,
            isolation=isolation,
            read_only=read_only,
            tenant=tenant,
            privileged=privileged,
            retries=retries,
        )
        attempt = 0
        while True:
            try:
                async with self._session(options) as session:
                    return await session.run_sync(work)
            except errors.SerializationFailure as exc:
                if attempt >= options.retries:
                    raise errors.RetriesExhausted(f"{exc} (after {attempt + 1} attempts)") from exc
                logger.info("retrying after %s (attempt %d of %d)", exc, attempt + 1, options.retries + 1)
                await asyncio.sleep(_backoff(attempt))
                attempt += 1


# -- URL resolution ------------------------------------------------------------------------------------------------


def resolve_url(schema: str, *, env: Mapping[str, str] | None = None, local: bool = False) -> str:
    """A schema's URL in the dbops CLI's order: ``<SCHEMA>_DATABASE_URL``, ``DATABASE_URL``, then (``local``) dbops'.

    The local database is asked of the ``dbops`` command (``dbops db url
    SCHEMA``), not imported: the runtime layer never depends on the ops tool.
    """
    import os

    env = os.environ if env is None else env
    for name in (f"{schema.upper()}_DATABASE_URL", "DATABASE_URL"):
        if env.get(name):
            return env[name]
    if not local:
        raise errors.DatabaseUnavailable(
            f"no database URL for {schema!r}: set {schema.upper()}_DATABASE_URL (or DATABASE_URL), "
            "or pass local=True in development to use the dbops local database"
        )
    import shutil
    import subprocess

    dbops = shutil.which("dbops", path=env.get("PATH"))
    if dbops is None:
        raise errors.DatabaseUnavailable("local=True needs the dbops command on PATH (pip install dbops)")
    proc = subprocess.run(
        [dbops, "--quiet", "db", "url", schema], capture_output=True, text=True, env=dict(env), timeout=120, check=False
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise errors.DatabaseUnavailable(f"`dbops db url {schema}` failed: {detail}")
    return proc.stdout.strip().splitlines()[-1]
