"""Running the studio: uvicorn on 127.0.0.1, in the foreground (``dbops studio``) or a thread (tests).

The socket is bound before the application is built, so the application knows
the one ``Host`` it answers to, even when the port was chosen by the system.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Mapping

from dbops.config import Settings
from dbops.errors import UsageError
from dbops.localdb.target import ensure_local
from dbops.studio.app import StudioApp, StudioOptions, Target, create_app


def check_write_allowed(targets: list[Target], *, force: bool, env: Mapping[str, str],
                        settings: Settings | None = None) -> None:
    """Refuse ``--write`` with ``DBOPS_ENV=production|prod|live`` (always) and on a target that is not on this
    machine (unless ``force``): dbops' one local-only guard (``dbops.localdb.target.ensure_local``), which
    judges where libpq really connects (``PGHOST``/``PGHOSTADDR``/``PGSERVICE``…) and confirms it on a
    connection.

    >>> check_write_allowed([Target("fashion", "postgresql://u:pw@db.example.com/f")], force=False, env={})
    Traceback (most recent call last):
    ...
    dbops.errors.RefusedError: refusing studio fashion --write: libpq would connect to db.example.com:5432 [host from the URL], a host name that does not resolve here — not this machine
    >>> check_write_allowed([Target("fashion", "postgresql://u@localhost/f")], force=True, env={"DBOPS_ENV": "production"})
    Traceback (most recent call last):
    ...
    dbops.errors.RefusedError: refusing studio fashion --write: DBOPS_ENV=production says this is production
    """
    for target in targets:
        ensure_local(target.url, action=f"studio {target.name} --write", force=force, settings=settings, env=env)


def duration_ms(text: str, *, origin: str) -> int:
    """A PostgreSQL-style duration (``"5s"``, ``"500ms"``, ``"2min"``, ``"1500"`` = ms) in milliseconds.

    >>> duration_ms("5s", origin="x"), duration_ms("250ms", origin="x"), duration_ms("2min", origin="x")
    (5000, 250, 120000)
    >>> duration_ms("soon", origin="tool.dbops.studio.statement_timeout")
    Traceback (most recent call last):
    ...
    dbops.errors.ConfigError: tool.dbops.studio.statement_timeout: 'soon' is not a duration (use e.g. 5s, 500ms, 1min)
    """
    import re

    from dbops.errors import ConfigError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*", text)
    if not match or float(match[1]) <= 0:
        raise ConfigError(f"{origin}: {text!r} is not a duration (use e.g. 5s, 500ms, 1min)")
    scale = {"ms": 1, None: 1, "s": 1000, "min": 60_000, "h": 3_600_000}[match[2]]
    return int(float(match[1]) * scale)


class StudioServer:
    """A studio bound to ``127.0.0.1:port``: ``.start()`` in a thread (tests) or ``.serve_forever()``.

    ``.url`` is the address; ``.login_url`` carries the token (what ``dbops studio`` prints).
    """

    def __init__(self, targets: list[Target], options: StudioOptions | None = None, *, port: int = 0) -> None:
        import uvicorn

        self.options = options or StudioOptions()
        self.socket = _bind(port)
        self.port = self.socket.getsockname()[1]
        self.token = secrets.token_urlsafe(32)
        self.app: StudioApp = create_app(targets, self.options, port=self.port, token=self.token)
        config = uvicorn.Config(
            self.app.asgi,
            host="127.0.0.1",
            port=self.port,
            http="h11",
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # X-Forwarded-* from 127.0.0.1 would come from the attacker's browser
            server_header=False,
            date_header=False,
            limit_concurrency=self.options.max_connections,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
            h11_max_incomplete_event_size=32 * 1024,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def login_url(self) -> str:
        return f"{self.url}?token={self.token}"

    def check(self) -> StudioServer:
        """Connect to every database once (DatabaseUnavailable when one cannot be reached)."""
        try:
            self.app.studio.check_connections()
        except BaseException:
            self.socket.close()
            self.app.studio.close()
            raise
        return self

    def start(self) -> StudioServer:
        """Serve in a background thread (returns once the server accepts connections)."""
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name="dbops-studio", daemon=True
        )
        self._thread.start()
        while not self.server.started and self._thread.is_alive():
            self._thread.join(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C)."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.app.studio.close()

    def close(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.socket.close()
        self.app.studio.close()

    def __enter__(self) -> StudioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _bind(port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP; without it a
    # response written in two parts waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
            hint="choose another --port, or omit it for a free one",
        ) from None
    sock.listen(128)  # connections queue from now on: the printed URL works before uvicorn's loop runs
    sock.set_inheritable(True)
    return sock
