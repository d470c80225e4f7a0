"""The embedded PostgreSQL cluster dbops runs for developers (docs/design.md "The local (embedded) database").

Layout of a cluster's base directory::

    base/data/        PGDATA (initdb'd atomically: into data.init-PID, then renamed)
    base/run/         unix socket directory, mode 0700 (only socket, no TCP)
    base/server.log   server log
    base/state.json   port chosen once, socket dir, major version
    base/lock         flock held around init/start/stop

As root, only the server binaries run as the ``postgres`` user, and only the
base directory is chowned to it; a parent directory is never chmod-ed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import random
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from dbops.db import connection
from dbops.errors import LocalDatabaseError
from dbops.localdb.binaries import ServerBinaries

SERVER_USER = "postgres"
SUPERUSER = "postgres"
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.NNNNN"

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class ClusterStatus:
    base: Path
    initialised: bool
    running: bool
    version: int
    port: int | None
    socket_dir: Path | None
    pid: int | None

    def to_dict(self) -> dict:
        return {
            "base": str(self.base),
            "initialised": self.initialised,
            "running": self.running,
            "version": self.version,
            "port": self.port,
            "socket_dir": str(self.socket_dir) if self.socket_dir else None,
            "pid": self.pid,
        }


class LocalCluster:
    """One PostgreSQL cluster in ``base``; every method is safe to call concurrently."""

    def __init__(
        self,
        base: Path,
        binaries: ServerBinaries,
        *,
        tuned_for_tests: bool = False,
        log: Log = _quiet,
    ) -> None:
        self.base = Path(base)
        self.binaries = binaries
        self.tuned_for_tests = tuned_for_tests
        self.log = log
        self.data = self.base / "data"
        self.logfile = self.base / "server.log"
        self.state_file = self.base / "state.json"
        self.lock_file = self.base / "lock"
        self._as_root = os.geteuid() == 0

    # -- public API ---------------------------------------------------------

    def start(self) -> ClusterStatus:
        """Initialise (once) and start the cluster; a no-op when it already runs."""
        self._prepare_base()
        with self._locked():
            if not self._initialised():
                self._initdb()
            if not self._running():
                self._start_server()
        return self.status()

    def stop(self) -> ClusterStatus:
        """Stop the server (fast shutdown); a no-op when it is not running."""
        if self.base.exists() and self._initialised():
            with self._locked():
                if self._running():
                    self._run_server_binary(
                        [self.binaries.path("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"],
                        what="stop the local database",
                    )
        return self.status()

    def status(self) -> ClusterStatus:
        state = self._read_state()
        initialised = self._initialised()
        pid = self._pid() if initialised else None
        return ClusterStatus(
            base=self.base,
            initialised=initialised,
            running=bool(pid) and self._running(),
            version=self.binaries.version,
            port=state.get("port"),
            socket_dir=Path(state["socket_dir"]) if state.get("socket_dir") else None,
            pid=pid,
        )

    def url(self, database: str = "postgres") -> str:
        """``postgresql://postgres@/DB?host=SOCKETDIR&port=PORT&hostaddr=`` (psql, psycopg and SQLAlchemy accept it).

        The explicit empty ``hostaddr`` keeps ``PGHOSTADDR`` (or a ``PGSERVICE`` definition) from
        sending dbops' connections to its own cluster to another server: libpq prefers hostaddr to host.
        """
        state = self._read_state()
        if not state:
            raise LocalDatabaseError("the local database is not initialised", hint="run `dbops db start`")
        host = quote(state["socket_dir"], safe="/")
        return f"postgresql://{SUPERUSER}@/{quote(database)}?host={host}&port={state['port']}&hostaddr="

    def ensure_database(self, name: str, *, template: str | None = None) -> str:
        """Start the cluster if needed and create ``name`` if missing; returns its URL."""
        if not self.status().running:
            self.start()
        create_database(self.url("postgres"), name, template=template)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        drop_database(self.url("postgres"), name)

    # -- internals ----------------------------------------------------------

    def _server_user(self) -> pwd.struct_passwd | None:
        if not self._as_root:
            return None
        try:
            return pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise LocalDatabaseError(
                f"running as root, but there is no {SERVER_USER!r} user to run the PostgreSQL server as",
                hint="install the PostgreSQL server package (it creates the user), run dbops as a normal user, "
                "or set a database URL",
            ) from None

    def _prepare_base(self) -> None:
        user = self._server_user()
        if user is not None:
            unreachable = unreachable_ancestor(self.base, user)
            if unreachable is not None:
                raise LocalDatabaseError(
                    f"{unreachable} is not reachable by the {SERVER_USER!r} user, which runs the local PostgreSQL "
                    f"server when dbops runs as root; dbops will not chmod it",
                    hint=f"set DBOPS_DATA_DIR to a directory {SERVER_USER!r} can reach (e.g. /var/lib/dbops/mine), "
                    "run dbops as a normal user, or set a database URL",
                )
        self.base.mkdir(parents=True, exist_ok=True)
        if user is not None:
            os.chown(self.base, user.pw_uid, user.pw_gid)
        self.lock_file.touch(exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.lock_file, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file() and self.state_file.is_file()

    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _socket_dir(self) -> Path:
        preferred = self.base / "run"
        if len(str(preferred)) + len("/.s.PGSQL.65535") <= _SOCKET_PATH_MAX:
            return preferred
        digest = hashlib.sha1(str(self.base).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"dbops-{os.geteuid()}-{digest}"

    def _initdb(self) -> None:
        if self.data.exists() and any(self.data.iterdir()) and not (self.data / "PG_VERSION").is_file():
            raise LocalDatabaseError(
                f"{self.data} exists but is not a PostgreSQL data directory",
                hint=f"move it away or set DBOPS_DATA_DIR elsewhere; dbops will not delete {self.data}",
            )
        self.log(f"initialising the local PostgreSQL {self.binaries.version} cluster in {self.base}")
        staging = self.base / f"data.init-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        self._own(staging)
        self._run_server_binary(
            [
                self.binaries.path("initdb"),
                "-D", str(staging),
                "-U", SUPERUSER,
                "--auth=trust",  # unix socket only, in a 0700 directory: only this user (and root) can connect
                "--encoding=UTF8",
                "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C",
                "--no-sync",
            ],
            what="initialise the local database",
        )
        socket_dir = self._socket_dir()
        socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(socket_dir, 0o700)
        self._own(socket_dir)
        port = _choose_port(socket_dir)
        settings = {
            "listen_addresses": "''",
            "port": str(port),
            "unix_socket_directories": f"'{socket_dir}'",
            "unix_socket_permissions": "0700",
            "max_connections": "200",
            "shared_buffers": "128MB",
            "logging_collector": "off",
            "log_min_messages": "warning",
            # A dev cluster has no replicas or PITR: minimal WAL lets COPY into a table
            # truncated in the same transaction (seed --scale) skip WAL entirely.
            "wal_level": "minimal",
            "max_wal_senders": "0",
        }
        if self.tuned_for_tests:
            settings |= {
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "autovacuum": "off",
                "jit": "off",
            }
        conf = staging / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\n# added by dbops\n")
            for key, value in settings.items():
                handle.write(f"{key} = {value}\n")
        if self.data.exists():
            self.data.rmdir()  # empty by the check above
        staging.rename(self.data)
        state = {"port": port, "socket_dir": str(socket_dir), "version": self.binaries.version}
        tmp = self.state_file.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)

    def _start_server(self) -> None:
        state = self._read_state()
        socket_dir = Path(state["socket_dir"])
        if not socket_dir.is_dir():  # a /tmp socket dir may have been cleaned
            socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._own(socket_dir)
        if not self.logfile.exists():
            self.logfile.touch()
            self._own(self.logfile)
        self._run_server_binary(
            [self.binaries.path("pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start"],
            what="start the local database",
        )
        self.log(f"local PostgreSQL {self.binaries.version} running (socket {socket_dir}, port {state['port']})")

    def _pid(self) -> int | None:
        try:
            first = (self.data / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, ValueError, IndexError):
            return None

    def _running(self) -> bool:
        pid = self._pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists, owned by another user
        state = self._read_state()
        socket = Path(state.get("socket_dir", "")) / f".s.PGSQL.{state.get('port')}"
        return socket.exists()

    def _own(self, path: Path) -> None:
        user = self._server_user()
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)

    def _run_server_binary(self, cmd: list[str], *, what: str) -> None:
        user = self._server_user()
        kwargs: dict = {}
        if user is not None:
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.setdefault("LC_ALL", "C.UTF-8" if _has_c_utf8() else "C")
        if user is not None:
            env["HOME"] = user.pw_dir
        result = subprocess.run(
            cmd, cwd=self.base, env=env, capture_output=True, text=True, timeout=180, check=False, **kwargs
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            log_tail = _tail(self.logfile, 3)
            detail = " | ".join(tail + log_tail)
            raise LocalDatabaseError(
                f"could not {what}: {detail}", hint=f"see {self.logfile}; `dbops db status` shows the cluster"
            )


def _tail(path: Path, n: int) -> list[str]:
    try:
        return path.read_text(errors="replace").strip().splitlines()[-n:]
    except OSError:
        return []


_C_UTF8: bool | None = None


def _has_c_utf8() -> bool:
    global _C_UTF8
    if _C_UTF8 is None:
        _C_UTF8 = any(Path(p).exists() for p in ("/usr/lib/locale/C.utf8", "/usr/lib/locale/C.UTF-8"))
    return _C_UTF8


def _choose_port(socket_dir: Path) -> int:
    """A port number for the socket name: random, not used by another socket in the directory."""
    rng = random.SystemRandom()
    for _ in range(100):
        port = rng.randint(20000, 60000)
        if not (socket_dir / f".s.PGSQL.{port}").exists():
            return port
    raise LocalDatabaseError(f"no free socket name in {socket_dir}")


def unreachable_ancestor(path: Path, user: pwd.struct_passwd) -> Path | None:
    """The first existing ancestor of ``path`` that ``user`` cannot traverse, or None.

    Existing directories must be searchable (x) by the user through owner,
    group or other bits; the nearest existing one must also be writable when
    ``path`` itself does not exist yet (dbops creates it as root and chowns it,
    so only traversal matters: we check x on every existing ancestor).
    """
    groups = {g.gr_gid for g in _groups_of(user)} | {user.pw_gid}
    current = Path(path).resolve()
    chain = [current, *current.parents]
    for directory in reversed(chain):
        if not directory.exists():
            break
        if directory == current:
            break  # base itself is chowned to the user
        st = directory.stat()
        if st.st_uid == user.pw_uid:
            ok = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid in groups:
            ok = bool(st.st_mode & stat.S_IXGRP)
        else:
            ok = bool(st.st_mode & stat.S_IXOTH)
        if not ok:
            return directory
    return None


def _groups_of(user: pwd.struct_passwd) -> list:
    import grp

    return [g for g in grp.getgrall() if user.pw_name in g.gr_mem]


def default_base(project_root: Path, version: int, env: Mapping[str, str], log: Log = _quiet) -> Path:
    """Where the cluster lives: ``DBOPS_DATA_DIR``, ``.dbops/pg<V>`` in the project, or /var/lib/dbops/<hash>.

    The last one only as root, when the project folder is not reachable by ``postgres``.
    """
    if env.get("DBOPS_DATA_DIR"):
        return Path(env["DBOPS_DATA_DIR"]).resolve()
    in_project = project_root / ".dbops" / f"pg{version}"
    if os.geteuid() != 0:
        return in_project
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        return in_project  # the error is raised with its hint when starting
    if unreachable_ancestor(in_project, user) is None:
        return in_project
    digest = hashlib.sha256(str(project_root.resolve()).encode()).hexdigest()[:16]
    elsewhere = Path("/var/lib/dbops") / digest / f"pg{version}"
    log(
        f"{project_root} is not reachable by the {SERVER_USER!r} user; the local cluster lives in {elsewhere} "
        "(set DBOPS_DATA_DIR to choose)"
    )
    return elsewhere


def create_database(admin_url: str, name: str, *, template: str | None = None) -> bool:
    """CREATE DATABASE unless it exists; tolerant of a concurrent creation. True when created."""
    import psycopg
    from psycopg import errors, sql

    with connection(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        for attempt in range(50):
            try:
                conn.execute(statement)
                return True
            except (errors.DuplicateDatabase, errors.UniqueViolation):
                return False  # another dbops process created it first
            except errors.ObjectInUse:
                # the template is in use by another session (concurrent copy): retry briefly
                if attempt == 49:
                    raise
                time.sleep(0.1)
            except psycopg.Error:
                raise
    return False


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE IF EXISTS, disconnecting its sessions (``WITH (FORCE)``, PostgreSQL 13+)."""
    from psycopg import sql

    with connection(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
