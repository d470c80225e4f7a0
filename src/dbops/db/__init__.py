"""Connections to PostgreSQL with errors mapped to ``DatabaseUnavailable`` (exit 3).

psycopg and SQLAlchemy are imported inside the functions: importing this
module is free, so the CLI can import it at startup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from dbops.config.conninfo import redact
from dbops.config.urls import URL_FORM_HINT, libpq_url, mask_url, sqlalchemy_url, url_endpoint, validate_url
from dbops.errors import ConfigError, DatabaseUnavailable, OperationFailed

if TYPE_CHECKING:
    import psycopg
    import sqlalchemy
    from psycopg.abc import Params
    from psycopg.abc import QueryNoTemplate as Query


class ConnectionCheck(Protocol):
    """Something that vets a new connection (``dbops.localdb.target.LocalGuard``: is it this machine's?)."""

    def confirm(self, conn: psycopg.Connection[Any]) -> None: ...


def connect(
    url: str,
    *,
    autocommit: bool = False,
    connect_timeout: int = 10,
    application_name: str = "dbops",
    guard: ConnectionCheck | None = None,
    **kwargs: Any,
) -> psycopg.Connection:
    """Open a psycopg connection; an unreachable/refusing server raises DatabaseUnavailable.

    The URL is validated first (a malformed one is a ConfigError naming the position, exit 2);
    ``guard`` (from ``dbops.localdb.target.require_local``) confirms the connection is local, or closes it and raises.
    """
    import psycopg

    conninfo = validate_url(libpq_url(url), "database URL")
    try:
        conn = psycopg.connect(
            conninfo,
            autocommit=autocommit,
            connect_timeout=connect_timeout,
            application_name=application_name,
            **kwargs,
        )
    except psycopg.OperationalError as exc:
        raise unavailable(url, exc) from None
    except (psycopg.ProgrammingError, ValueError) as exc:  # libpq rejected a value the parser let through
        raise ConfigError(
            f"invalid database URL {mask_url(url)}: {first_line(exc, 'malformed')}", hint=URL_FORM_HINT
        ) from None
    if guard is not None:
        guard.confirm(conn)
    return conn


@contextmanager
def connection(url: str, *, autocommit: bool = False, **kwargs: Any) -> Iterator[psycopg.Connection]:
    """``with connection(url) as conn:`` — closes the connection at the end."""
    conn = connect(url, autocommit=autocommit, **kwargs)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def create_engine(url: str, *, application_name: str = "dbops", connect_args: dict[str, Any] | None = None,
                  **kwargs: Any) -> sqlalchemy.Engine:
    """A SQLAlchemy engine on the psycopg 3 driver.

    Connections are opened by ``connect`` (with ``connect_args``, e.g. libpq
    keepalive parameters) so that an unreachable server or a malformed URL
    raises the same dbops errors (exit 3 / exit 2) as elsewhere.
    """
    import sqlalchemy

    extra = dict(connect_args or {})
    return sqlalchemy.create_engine(
        sqlalchemy_url(url), creator=lambda: connect(url, application_name=application_name, **extra), **kwargs
    )


def first_line(exc: BaseException, default: str = "") -> str:
    """The first line of an exception's message, secrets redacted (``default`` when it has none)."""
    text = str(exc).strip()
    return redact(text.splitlines()[0]) if text else default or type(exc).__name__


def unavailable(url: str, exc: BaseException) -> DatabaseUnavailable:
    """A DatabaseUnavailable for ``url`` that never shows its password."""
    detail = first_line(exc).replace(url, mask_url(url))
    return DatabaseUnavailable(
        f"cannot connect to {url_endpoint(url)} ({mask_url(url)}): {detail}",
        hint="check that the server runs and the URL is right, or unset it to use the local database",
    )


def one_row(conn: psycopg.Connection[Any], query: Query, params: Params | None = None) -> tuple[Any, ...]:
    """The one row a query returns (an aggregate, ``EXISTS``, a setting): no ``fetchone()[0]`` on a maybe-None."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise OperationFailed("the database returned no row where one was expected",
                              hint="rerun with --debug and report it")
    return tuple(row)


def scalar(conn: psycopg.Connection[Any], query: Query, params: Params | None = None) -> Any:
    """The first column of the one row a query returns."""
    return one_row(conn, query, params)[0]
