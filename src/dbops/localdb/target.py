"""Where libpq really connects, and the one guard every dev-only operation calls.

``reset``, ``seed --scale`` and ``studio --write`` wipe or write data; they must run
on this machine's dev database, never on a server the URL *text* only seems to name.
libpq decides the target from more than the URL: the environment (``PGHOST``,
``PGHOSTADDR``, ``PGPORT``, ``PGSERVICE``, ``PGSERVICEFILE``, ``PGSYSCONFDIR``), a
``service=`` definition in a service file, and lists of hosts it tries in turn — and
``hostaddr`` (from anywhere) beats ``host``. So the guard judges twice:

1. ``require_local`` before connecting: ``effective_target`` rebuilds what libpq will
   use (the rules of libpq's ``conninfo_add_defaults`` and ``connectOptions2``), every
   host it may try must be a unix socket or resolve only to loopback addresses;
2. ``LocalGuard.confirm`` on the connection itself: a unix socket must be dbops' own
   cluster's socket directory or be served by a PostgreSQL postmaster of this machine
   (``SO_PEERCRED``: the socket's listener is the parent of our backend); a TCP
   connection must reach a server that sees it on a loopback address
   (``inet_server_addr()``) — a tunnel or proxy fails that test.

``DBOPS_ENV`` set to ``production``, ``prod`` or ``live`` (any case) refuses every
dev-only operation, ``--force`` or not.

>>> is_production({"DBOPS_ENV": " Live "}), is_production({"DBOPS_ENV": "staging"})
(True, False)
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbops.config.conninfo import ConnInfoError, parse_conninfo
from dbops.config.urls import URL_FORM_HINT, libpq_url, mask_url
from dbops.db import connect
from dbops.errors import ConfigError, RefusedError

if TYPE_CHECKING:
    import psycopg

    from dbops.config import Settings

PRODUCTION_NAMES = frozenset({"production", "prod", "live"})
FORCE_HINT = "point dbops at a dev database (unset the URL for the local one), or pass --force if you really mean it"


def is_production(env: Mapping[str, str] | None = None) -> bool:
    """``DBOPS_ENV`` names a production environment (production, prod, live; any case)."""
    env = os.environ if env is None else env
    return env.get("DBOPS_ENV", "").strip().lower() in PRODUCTION_NAMES


@dataclass(frozen=True)
class Endpoint:
    """One server libpq may try: ``host`` (name, IP or socket directory), ``hostaddr``, ``port``, and their origin."""

    host: str
    hostaddr: str
    port: str
    origin: str

    @property
    def is_socket(self) -> bool:
        return not self.hostaddr and (self.host == "" or self.host.startswith(("/", "@")))

    def describe(self) -> str:
        if self.hostaddr:
            where = f"{self.hostaddr}:{self.port or 5432}" + (f" (host {self.host})" if self.host else "")
        elif self.host == "":
            where = f"libpq's default unix socket (port {self.port or 5432})"
        elif self.is_socket:
            where = f"the unix socket in {self.host} (port {self.port or 5432})"
        else:
            where = f"{self.host}:{self.port or 5432}"
        return f"{where} [{self.origin}]" if self.origin else where


@dataclass(frozen=True)
class Target:
    """What libpq will connect to for a URL in this environment; ``unknown`` says why it cannot be told."""

    endpoints: tuple[Endpoint, ...]
    unknown: str | None = None

    def describe(self) -> str:
        return ", then ".join(e.describe() for e in self.endpoints) or "an unknown server"


def effective_target(url: str, env: Mapping[str, str] | None = None) -> Target:
    """The servers a dbops connection to ``url`` will try, given ``env`` (default: this process's environment).

    Two layers decide, and both are modelled:

    * psycopg (``connect``) first splits host lists into one attempt per host and resolves a
      host *name* to ``hostaddr`` itself, reading the URL and ``PGHOST``/``PGHOSTADDR``/``PGPORT``
      but not service files — so a host from the URL or ``PGHOST`` beats a ``hostaddr`` that
      only a service file gives;
    * libpq then fills what each attempt leaves unset: the service definition (``service=``
      or ``PGSERVICE``), then ``PGHOST``/``PGHOSTADDR``/``PGPORT``; ``hostaddr`` beats
      ``host``; an explicit empty value blocks the fallbacks.

    The tests check this against real connection attempts (psycopg + libpq).
    """
    env = os.environ if env is None else env
    try:
        params = parse_conninfo(libpq_url(url))
    except ConnInfoError as exc:
        raise ConfigError(f"not a valid database URL: {exc}", hint=exc.hint or URL_FORM_HINT) from None
    origins = {key: "from the URL" for key in params}
    service_values: dict[str, str] = {}
    service_origin = ""
    service = params.get("service") or env.get("PGSERVICE")
    if service:
        found = _service_definition(service, env)
        if isinstance(found, str):
            return Target((), unknown=found)
        service_values, path = found
        service_origin = f"from service {service!r} in {path}"
    endpoints: list[Endpoint] = []
    for attempt, attempt_origins in _psycopg_attempts(params, origins, env):
        for key, value in service_values.items():  # libpq: the service fills what is unset
            if key not in attempt:
                attempt[key] = value
                attempt_origins[key] = service_origin
        for key, variable in (("host", "PGHOST"), ("hostaddr", "PGHOSTADDR"), ("port", "PGPORT")):
            if key not in attempt and env.get(variable) is not None:  # then the environment
                attempt[key] = env[variable]
                attempt_origins[key] = f"from {variable}"
        endpoints += _endpoints(attempt, attempt_origins)
    return Target(tuple(endpoints))


_RESOLVED = "\0resolve"  # hostaddr placeholder: psycopg resolves the host name itself
_VARIABLES = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT"}


def _psycopg_attempts(
    params: Mapping[str, str], origins: Mapping[str, str], env: Mapping[str, str]
) -> list[tuple[dict[str, str], dict[str, str]]]:
    """psycopg's ``conninfo_attempts`` (3.2+): one attempt per host, a host name resolved to ``hostaddr``."""

    def get(key: str, source: Mapping[str, str], source_origins: Mapping[str, str]) -> tuple[str | None, str]:
        if key in source:
            return source[key], source_origins.get(key, "from the URL")
        variable = _VARIABLES[key]
        return (env[variable], f"from {variable}") if env.get(variable) is not None else (None, "")

    host_value, host_origin = get("host", params, origins)
    addr_value, addr_origin = get("hostaddr", params, origins)
    port_value, port_origin = get("port", params, origins)
    hosts = host_value.split(",") if host_value else []
    addrs = addr_value.split(",") if addr_value else []
    ports = port_value.split(",") if port_value else []
    count = max(len(hosts), len(addrs))
    attempts: list[tuple[dict[str, str], dict[str, str]]] = []
    if count <= 1:
        attempts.append((dict(params), dict(origins)))
    else:
        if hosts and addrs and len(hosts) != len(addrs):
            raise ConfigError(
                f"{len(hosts)} host(s) but {len(addrs)} hostaddr value(s) (URL and environment combined)",
                hint="give one hostaddr per host, or unset PGHOSTADDR",
            )
        if len(ports) == 1:
            ports *= count
        if ports and len(ports) != count:
            raise ConfigError(
                f"{len(ports)} ports for {count} host(s) (URL and environment combined)",
                hint="give one port, or one per host (PGPORT applies to all)",
            )
        for i in range(count):
            attempt, attempt_origins = dict(params), dict(origins)
            for key, values, origin in (
                ("host", hosts, host_origin),
                ("hostaddr", addrs, addr_origin),
                ("port", ports, port_origin),
            ):
                if values:
                    attempt[key], attempt_origins[key] = values[i], origin
            attempts.append((attempt, attempt_origins))
    for attempt, attempt_origins in attempts:
        host, origin = get("host", attempt, attempt_origins)
        if not host or host.startswith("/") or host[1:2] == ":":
            continue  # a socket (or nothing): psycopg leaves it to libpq
        if get("hostaddr", attempt, attempt_origins)[0]:
            continue
        attempt.setdefault("host", host)
        attempt_origins.setdefault("host", origin)
        attempt["hostaddr"] = _RESOLVED
        attempt_origins["hostaddr"] = "resolved from the host name by psycopg"
    return attempts


def _endpoints(params: Mapping[str, str], origins: Mapping[str, str]) -> tuple[Endpoint, ...]:
    """libpq's connectOptions2: hostaddr beats host, one port for all or one per host."""
    hostaddrs = params["hostaddr"].split(",") if params.get("hostaddr") else []
    hosts = params["host"].split(",") if params.get("host") else []
    count = len(hostaddrs) or len(hosts) or 1
    if hostaddrs and hosts and len(hosts) != len(hostaddrs):
        raise ConfigError(
            f"{len(hosts)} host(s) but {len(hostaddrs)} hostaddr value(s) (URL and environment combined)",
            hint="give one hostaddr per host, or unset PGHOSTADDR",
        )
    ports = params["port"].split(",") if params.get("port") else []
    if len(ports) == 1:
        ports *= count
    if ports and len(ports) != count:
        raise ConfigError(
            f"{len(ports)} ports for {count} host(s) (URL and environment combined)",
            hint="give one port, or one per host (PGPORT applies to all)",
        )
    out = []
    for i in range(count):
        host = hosts[i].strip() if hosts else ""
        hostaddr = hostaddrs[i].strip() if hostaddrs else ""
        notes = []
        if hostaddr == _RESOLVED:  # psycopg connects to the addresses of the host name: judged by resolving it
            hostaddr = ""
        elif hostaddr:
            notes.append(f"hostaddr {origins.get('hostaddr', '')}")
        if host or not hostaddr:
            notes.append(f"host {origins.get('host', '')}" if host else "no host: libpq's default")
        out.append(Endpoint(host, hostaddr, ports[i].strip() if ports else "", ", ".join(notes)))
    return tuple(out)


def _service_definition(name: str, env: Mapping[str, str]) -> tuple[dict[str, str], str] | str:
    """The keywords of service ``name`` and the file defining it, or why it cannot be told (libpq's order:
    ``PGSERVICEFILE`` or ``~/.pg_service.conf``, then ``PGSYSCONFDIR/pg_service.conf``)."""
    if env.get("PGSERVICEFILE"):
        user_files = [Path(env["PGSERVICEFILE"])]
    else:
        home = env.get("HOME") or _home_of_euid()
        user_files = [Path(home) / ".pg_service.conf"] if home else []
    if env.get("PGSYSCONFDIR"):
        system_files = [Path(env["PGSYSCONFDIR"]) / "pg_service.conf"]
    else:  # libpq's compiled-in sysconfdir differs by build: look where the usual builds put it
        system_files = [
            Path(p)
            for p in (
                "/etc/postgresql-common/pg_service.conf",
                "/etc/pg_service.conf",
                "/usr/local/pgsql/etc/pg_service.conf",
            )
        ]
    for path in [*user_files, *system_files]:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        values = _service_section(text, name)
        if values is None:
            continue
        if "ldap" in values:
            return f"service {name!r} in {path} is looked up in LDAP: dbops cannot tell where it connects"
        return values, str(path)
    looked = ", ".join(str(p) for p in [*user_files, *system_files])
    return f"service {name!r} is not defined in any service file dbops knows ({looked})"


def _service_section(text: str, name: str) -> dict[str, str] | None:
    values: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if values is not None:
                break
            if line.rstrip("]")[1:] == name:
                values = {}
            continue
        if values is not None and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), value)
    return values


def _home_of_euid() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_dir
    except KeyError:
        return ""


# -- the judgement ------------------------------------------------------------------------------------


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _not_local_reason(endpoint: Endpoint) -> str | None:
    """None when ``endpoint`` is on this machine as far as can be told before connecting."""
    if endpoint.hostaddr:
        return None if _is_loopback(endpoint.hostaddr) else "not a loopback address"
    if endpoint.is_socket:
        return None  # a unix socket: which server serves it is checked on the connection
    try:
        ipaddress.ip_address(endpoint.host.split("%", 1)[0])
    except ValueError:
        pass
    else:
        return None if _is_loopback(endpoint.host) else "not a loopback address"
    try:
        answers = socket.getaddrinfo(endpoint.host, endpoint.port or 5432, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return "a host name that does not resolve here"
    addresses = sorted({str(a[4][0]) for a in answers})
    remote = [a for a in addresses if not _is_loopback(a)]
    return f"resolves to {', '.join(remote)}, not a loopback address" if remote else None


@dataclass
class LocalGuard:
    """The result of ``require_local``: ``confirm(conn)`` checks each connection it is given."""

    action: str
    target: Target
    forced: bool = False
    own_socket_dirs: tuple[str, ...] = field(default_factory=tuple)

    def confirm(self, conn: psycopg.Connection) -> None:
        """RefusedError (and the connection closed) unless ``conn`` reached a server on this machine."""
        if self.forced:
            return
        problem = self._problem(conn)
        if problem is None:
            return
        conn.close()
        raise RefusedError(f"refusing {self.action}: {problem}", hint=FORCE_HINT)

    def check(self, url: str) -> None:
        """Connect to ``url`` once and ``confirm`` it (for callers that refuse before their real work starts)."""
        if self.forced:
            return
        connect(url, autocommit=True, guard=self).close()

    def _problem(self, conn: psycopg.Connection) -> str | None:
        info = conn.info
        host = info.host or ""
        hostaddr = getattr(info, "hostaddr", "") or ""
        if host.startswith(("/", "@")) and not hostaddr:
            if host.startswith("/") and _real(host) in self.own_socket_dirs:
                return None
            if _socket_peer_is_postmaster(conn):
                return None
            return (
                f"connected through the unix socket in {host}, which is neither dbops' local cluster nor "
                "served by a PostgreSQL server of this machine (a proxy or a forwarded socket?)"
            )
        from psycopg.rows import tuple_row

        row = conn.cursor(row_factory=tuple_row).execute("SELECT host(inet_server_addr())").fetchone()
        if not conn.autocommit:
            conn.rollback()
        server_address = row[0] if row else None
        where = f"{hostaddr or host}:{info.port}"
        if server_address is None:
            return (
                f"connected to {where} over TCP, but the server sees a unix-socket connection: "
                "something forwards it (a tunnel or a proxy), so where the data lives cannot be told"
            )
        if not _is_loopback(server_address):
            return (
                f"connected to {where}, but the server answers on {server_address}, not a loopback address "
                "(a container, a tunnel or a proxy in between?)"
            )
        return None


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return path


def _socket_peer_is_postmaster(conn: psycopg.Connection) -> bool:
    """The process listening on the socket is the parent of our backend: a real PostgreSQL server of this machine."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:  # not Linux: cannot tell
        return False
    try:
        sock = socket.fromfd(conn.pgconn.socket, socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener_pid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i")))[0]
        finally:
            sock.close()
        stat = Path(f"/proc/{conn.info.backend_pid}/stat").read_text()
        parent_pid = int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError, struct.error):
        return False
    return listener_pid > 0 and parent_pid == listener_pid


def own_socket_dirs(settings: Settings | None, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The socket directory of dbops' local cluster for these settings (none when it cannot be found)."""
    if settings is None:
        return ()
    try:
        from dbops.localdb import local_cluster  # the package imports this module's siblings only

        status = local_cluster(settings, env=env).status()
    except Exception:  # no server binaries, unreadable state: then no socket is "ours"
        return ()
    return (_real(str(status.socket_dir)),) if status.socket_dir else ()


def require_local(
    url: str,
    *,
    action: str,
    force: bool = False,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> LocalGuard:
    """The guard of every dev-only operation (``action``, e.g. ``"reset healthcare"``), before connecting.

    Refused (RefusedError, exit 2) under ``DBOPS_ENV=production|prod|live`` whatever ``force``;
    otherwise, unless ``force``, refused when any server libpq may try for ``url`` is not on this
    machine or cannot be told. Returns the guard whose ``confirm(conn)`` checks the connections.
    """
    env = os.environ if env is None else env
    if is_production(env):
        raise RefusedError(
            f"refusing {action}: DBOPS_ENV={env.get('DBOPS_ENV', '').strip()} says this is production",
            hint="this is for dev databases only; --force does not override DBOPS_ENV",
        )
    target = effective_target(url, env)
    if force:
        return LocalGuard(action, target, forced=True)
    if target.unknown:
        raise RefusedError(f"refusing {action} on {mask_url(url)}: {target.unknown}", hint=FORCE_HINT)
    for endpoint in target.endpoints:
        reason = _not_local_reason(endpoint)
        if reason is not None:
            several = len(target.endpoints) > 1
            raise RefusedError(
                f"refusing {action}: libpq would connect to {endpoint.describe()}"
                + (f" (one of {len(target.endpoints)} hosts it may try)" if several else "")
                + f", {reason} — not this machine",
                hint=FORCE_HINT,
            )
    return LocalGuard(action, target, own_socket_dirs=own_socket_dirs(settings, env))


def ensure_local(
    url: str,
    *,
    action: str,
    force: bool = False,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> LocalGuard:
    """``require_local`` plus a connection to confirm it, for callers that connect later (``studio --write``)."""
    guard = require_local(url, action=action, force=force, settings=settings, env=env)
    guard.check(url)
    return guard
