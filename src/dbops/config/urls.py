"""Database URLs: where each schema's URL comes from, and masking passwords.

>>> mask_url("postgresql://app:s3cret@db.example:5432/healthcare")
'postgresql://app:***@db.example:5432/healthcare'
>>> mask_url("postgresql://app@db/x")
'postgresql://app@db/x'
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from dbops.config.settings import SchemaSettings, Settings
from dbops.errors import ConfigError

_PASSWORD_IN_NETLOC = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/]*):(?P<pw>[^@/]*)@", re.I)
_PASSWORD_IN_QUERY = re.compile(r"(?i)([?&]password=)[^&]*")


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (netloc and ``?password=``)."""
    masked = _PASSWORD_IN_NETLOC.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)
    return _PASSWORD_IN_QUERY.sub(r"\1***", masked)


@dataclass(frozen=True)
class ResolvedUrl:
    """A schema's URL and where it came from (``--database-url``, ``env:NAME``, ``config``, ``local``)."""

    schema: str
    url: str | None
    source: str

    @property
    def is_local(self) -> bool:
        return self.source == "local"

    @property
    def masked(self) -> str:
        return mask_url(self.url) if self.url else "local database"

    def describe(self) -> str:
        if self.url is None:
            return f"{self.schema}: using the local database (no URL in --database-url, env or config)"
        return f"{self.schema}: {self.masked} (from {self.source})"


def resolve_url(
    settings: Settings,
    schema: SchemaSettings,
    *,
    cli_url: str | None = None,
    single_schema: bool = False,
    env: Mapping[str, str],
) -> ResolvedUrl:
    """Resolve a schema's URL in the documented order.

    ``--database-url`` (only with a single schema), ``<SCHEMA>_DATABASE_URL``,
    ``DATABASE_URL`` (only when one schema is named), ``[tool.dbops.schemas.X].url``,
    then the local database (``url=None``, ``source='local'``).
    """
    if cli_url:
        if not single_schema and len(settings.schemas) > 1:
            raise ConfigError(
                "--database-url needs a single SCHEMA", hint="name the schema: e.g. `dbops status healthcare --database-url …`"
            )
        return ResolvedUrl(schema.name, validate_url(cli_url, "--database-url"), "--database-url")
    if schema.url_env and env.get(schema.url_env):
        return ResolvedUrl(schema.name, validate_url(env[schema.url_env], schema.url_env), f"env:{schema.url_env}")
    if single_schema and env.get("DATABASE_URL"):
        return ResolvedUrl(schema.name, validate_url(env["DATABASE_URL"], "DATABASE_URL"), "env:DATABASE_URL")
    if schema.url:
        return ResolvedUrl(schema.name, validate_url(schema.url, f"tool.dbops.schemas.{schema.name}.url"), "config")
    return ResolvedUrl(schema.name, None, "local")


def validate_url(url: str, origin: str) -> str:
    """Accept ``postgresql://`` / ``postgres://`` / ``postgresql+psycopg://`` URLs only."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ConfigError(
            f"{origin}: {mask_url(url)!r} is not a PostgreSQL URL",
            hint="use postgresql://user:password@host:port/database",
        )
    return url


def libpq_url(url: str) -> str:
    """The URL as libpq/psql want it (no SQLAlchemy driver suffix).

    >>> libpq_url("postgresql+psycopg://u@h/db")
    'postgresql://u@h/db'
    """
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def sqlalchemy_url(url: str) -> str:
    """The URL for SQLAlchemy with the psycopg 3 driver.

    >>> sqlalchemy_url("postgresql://u@/db?host=/tmp/s")
    'postgresql+psycopg://u@/db?host=/tmp/s'
    """
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def url_endpoint(url: str) -> str:
    """``host:port`` (or the socket directory) a URL points at, for error messages.

    >>> url_endpoint("postgresql://u:p@db.example:6543/x")
    'db.example:6543'
    >>> url_endpoint("postgresql://u@/x?host=/run/pg&port=5999")
    '/run/pg:5999'
    """
    parts = urlsplit(libpq_url(url))
    query = dict(parse_qsl(parts.query))
    host = unquote(parts.hostname or "") or query.get("host") or "localhost"
    port = (parts.port if parts.hostname else None) or query.get("port") or 5432
    return f"{host}:{port}"


def database_name(url: str) -> str:
    """The database a URL names (``''`` when none).

    >>> database_name("postgresql://u@h:5432/healthcare?sslmode=disable")
    'healthcare'
    """
    return unquote(urlsplit(url).path.lstrip("/"))


def url_with_database(url: str, database: str) -> str:
    """The same server URL naming another database.

    >>> url_with_database("postgresql://postgres@/postgres?host=/run/pg&port=5999", "healthcare")
    'postgresql://postgres@/healthcare?host=/run/pg&port=5999'
    """
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(database)))


def is_local_url(url: str) -> bool:
    """True when every host of the URL is a unix socket, ``localhost`` or a loopback address.

    >>> is_local_url("postgresql://u@/db?host=/tmp/sock&port=5999"), is_local_url("postgresql:///db")
    (True, True)
    >>> is_local_url("postgresql://u:p@localhost:5432/db"), is_local_url("postgresql://u@127.0.0.2/db")
    (True, True)
    >>> is_local_url("postgresql://u@[::1]:5432/db")
    True
    >>> is_local_url("postgresql://u@db.example.com/db"), is_local_url("postgresql://u@10.0.0.5/db")
    (False, False)
    >>> is_local_url("postgresql://u@/db?host=localhost,db.example.com")
    False
    """
    parts = urlsplit(libpq_url(url))
    query = dict(parse_qsl(parts.query))
    netloc_hosts = parts.netloc.rsplit("@", 1)[-1]
    hosts: list[str] = []
    for item in netloc_hosts.split(","):
        host = item.strip()
        if host.startswith("["):
            host = host[1:].split("]", 1)[0]
        elif ":" in host:
            host = host.rsplit(":", 1)[0]
        if host:
            hosts.append(unquote(host))
    hosts += [h for h in query.get("host", "").split(",") if h] + [h for h in query.get("hostaddr", "").split(",") if h]
    if not hosts:
        return True  # libpq's default: the unix socket
    return all(_is_local_host(h) for h in hosts)


def _is_local_host(host: str) -> bool:
    if host.startswith("/") or host.startswith("@") or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
