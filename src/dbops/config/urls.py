"""Database URLs: where each schema's URL comes from, validated and canonical, passwords masked.

Every URL dbops is given (``--database-url``, ``<SCHEMA>_DATABASE_URL``, ``DATABASE_URL``,
``url =`` in config) is parsed as libpq parses it (``dbops.config.conninfo``), in either of
libpq's forms (a ``postgresql://`` URL or ``host=… dbname=…`` keywords), and passed around
as one canonical ``postgresql://`` URL. A malformed one is a ConfigError (exit 2) that names
where it came from, the character position and what is wrong — never the text itself.

>>> mask_url("postgresql://app:s3cret@db.example:5432/healthcare")
'postgresql://app:***@db.example:5432/healthcare'
>>> mask_url("postgresql://app:a/b#c?d@db/x"), mask_url("host=db password=hunter2 dbname=x")
('postgresql://app:***@db/x', 'host=db password=*** dbname=x')
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dbops.config.conninfo import ConnInfoError, is_url, mask_conninfo, parse_conninfo, to_url
from dbops.config.settings import SchemaSettings, Settings
from dbops.errors import ConfigError, UsageError

URL_FORM_HINT = "use postgresql://user:password@host:port/database (percent-encode / @ % in the password)"


def mask_url(url: str) -> str:
    """The URL (or keyword DSN, or anything else) with every password replaced by ``***``."""
    return mask_conninfo(url)


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
    command: str = "dbops COMMAND",
) -> ResolvedUrl:
    """Resolve a schema's URL in the documented order; the URL returned is canonical (``to_url``).

    ``--database-url`` (only with a single schema), ``<SCHEMA>_DATABASE_URL``,
    ``DATABASE_URL`` (only when one schema is named), ``[tool.dbops.schemas.X].url``,
    then the local database (``url=None``, ``source='local'``). A URL that cannot be
    attributed to one schema (``--database-url`` or ``DATABASE_URL`` with several schemas)
    is refused (UsageError, exit 2) rather than ignored: ``command`` (what the user ran)
    goes into the hint.
    """
    several = not single_schema and len(settings.schemas) > 1
    if cli_url is not None and not cli_url.strip():
        raise UsageError("--database-url is empty", hint="give a URL (postgresql://…), or leave the option out")
    if cli_url:
        if several:
            raise UsageError(
                "--database-url needs a single SCHEMA: dbops cannot tell which schema's database it is",
                hint=f"name the schema: `{command_with_schema(command, schema.name)}`",
            )
        return ResolvedUrl(schema.name, validate_url(cli_url, "--database-url"), "--database-url")
    if schema.url_env and env.get(schema.url_env):
        return ResolvedUrl(schema.name, validate_url(env[schema.url_env], schema.url_env), f"env:{schema.url_env}")
    if env.get("DATABASE_URL"):
        if several:
            raise UsageError(
                "DATABASE_URL is set but no SCHEMA is named: dbops cannot tell which schema's database it is",
                hint=f"name the schema (`{command_with_schema(command, schema.name)}`), or set "
                + " / ".join(s.url_env for s in settings.schemas.values() if s.url_env)
                + " instead",
            )
        return ResolvedUrl(schema.name, validate_url(env["DATABASE_URL"], "DATABASE_URL"), "env:DATABASE_URL")
    if schema.url:
        origin = f"tool.dbops.schemas.{schema.name}.url"
        location = settings.location_of(f"tool.dbops.schemas.{schema.name}", "url")
        return ResolvedUrl(schema.name, validate_url(schema.url, origin, location=location), "config")
    return ResolvedUrl(schema.name, None, "local")


def command_with_schema(command: str, schema: str) -> str:
    """The command line ``command`` with ``schema`` put after its command words (for hints).

    >>> command_with_schema("dbops seed --scale 100 --database-url …", "fashion")
    'dbops seed fashion --scale 100 --database-url …'
    >>> command_with_schema("dbops check indexes", "healthcare")
    'dbops check indexes healthcare'
    """
    words = command.split(" ")
    at = 1
    groups = {"check", "db", "partitions"}
    if len(words) > 1 and words[1] in groups:
        at = 3
    elif len(words) > 1:
        at = 2
    return " ".join([*words[:at], schema, *words[at:]])


def validate_url(url: str, origin: str, *, location: str | None = None) -> str:
    """The canonical ``postgresql://`` URL of ``url`` (URL or keyword DSN), or a ConfigError naming ``origin``."""
    try:
        params = parse_conninfo(url)
    except ConnInfoError as exc:
        raise ConfigError(
            f"{origin}: not a valid database URL: {exc}",
            hint=exc.hint or URL_FORM_HINT,
            location=location,
        ) from None
    return to_url(params)


def _params(url: str) -> dict[str, str]:
    try:
        return parse_conninfo(url)
    except ConnInfoError as exc:
        raise ConfigError(f"not a valid database URL: {exc}", hint=exc.hint or URL_FORM_HINT) from None


def libpq_url(url: str) -> str:
    """The URL as libpq/psql want it (no SQLAlchemy driver suffix); keyword DSNs pass unchanged.

    >>> libpq_url("postgresql+psycopg://u@h/db")
    'postgresql://u@h/db'
    """
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url.strip()) if is_url(url) else url


def sqlalchemy_url(url: str) -> str:
    """The URL for SQLAlchemy with the psycopg 3 driver (a keyword DSN becomes a URL first).

    >>> sqlalchemy_url("postgresql://u@/db?host=/tmp/s")
    'postgresql+psycopg://u@/db?host=/tmp/s'
    """
    if not is_url(url):
        url = to_url(_params(url))
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url.strip())


def url_endpoint(url: str) -> str:
    """``host:port`` (or the socket directory) a URL names first, for messages; never fails.

    >>> url_endpoint("postgresql://u:p@db.example:6543/x")
    'db.example:6543'
    >>> url_endpoint("postgresql://u@/x?host=/run/pg&port=5999")
    '/run/pg:5999'
    """
    try:
        params = parse_conninfo(url)
    except ConnInfoError:
        return "(an invalid URL)"
    host = (params.get("hostaddr") or params.get("host") or "").split(",")[0] or "localhost"
    port = (params.get("port") or "").split(",")[0] or "5432"
    return f"{host}:{port}"


def database_name(url: str) -> str:
    """The database a URL names (``''`` when none).

    >>> database_name("postgresql://u@h:5432/healthcare?sslmode=disable")
    'healthcare'
    """
    return _params(url).get("dbname", "")


def url_with_database(url: str, database: str) -> str:
    """The same server URL naming another database.

    >>> url_with_database("postgresql://postgres@/postgres?host=/run/pg&port=5999", "healthcare")
    'postgresql://postgres@/healthcare?host=/run/pg&port=5999'
    """
    return to_url({**_params(url), "dbname": database})


def is_local_url(url: str) -> bool:
    """True when every host the URL *text* names is a unix socket, ``localhost`` or a loopback address.

    Only the text: the guards of destructive commands use ``dbops.localdb.target.require_local``,
    which also weighs the environment (``PGHOST``, ``PGHOSTADDR``, ``PGSERVICE``…) and checks
    the connection itself.

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
    try:
        params = parse_conninfo(url)
    except ConnInfoError:
        return False
    hosts = [h for h in params.get("host", "").split(",") if h]
    hosts += [h for h in params.get("hostaddr", "").split(",") if h]
    return all(_is_local_host(h) for h in hosts)


def _is_local_host(host: str) -> bool:
    if host.startswith("/") or host.startswith("@") or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
