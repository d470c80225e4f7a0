"""Helpers for the trust tests: byte forwarders that put a real server "elsewhere", output checks.

A ``Forwarder`` listens on a TCP address or a unix socket and pipes every connection to the
test cluster's unix socket. Through it the test cluster looks like a server behind a tunnel
(on 127.0.0.1, the server sees a unix-socket client), like a remote host (on this machine's
non-loopback address), or like a proxied socket (a unix socket whose listener is not the
postmaster) — real servers the guards must refuse, and that ``--force`` really reaches.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest


class Forwarder:
    """Accepts on ``listen_address`` (``(host, 0)`` or a socket path) and pipes to the unix socket ``target``."""

    def __init__(self, family: int, listen_address: str | tuple[str, int], target: str) -> None:
        self.target = target
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        if family != socket.AF_UNIX:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(listen_address)
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.address = self.listener.getsockname()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.stopping = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, name="test-forwarder", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.address[1]

    def _serve(self) -> None:
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.1):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        client, _ = self.listener.accept()
                        self._pair(client)
                    continue
                source, sink = key.fileobj, key.data
                try:
                    chunk = source.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._close(source, sink)
                    continue
                with contextlib.suppress(OSError):
                    sink.setblocking(True)
                    sink.sendall(chunk)
                    sink.setblocking(False)

    def _pair(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.target)
        self.connections += 1
        for sock in (client, upstream):
            sock.setblocking(False)
        self.selector.register(client, selectors.EVENT_READ, upstream)
        self.selector.register(upstream, selectors.EVENT_READ, client)

    def _close(self, *socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(sock)
            sock.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()


def cluster_socket(admin_url: str) -> tuple[str, str]:
    """(socket directory, port) of the test cluster's URL."""
    from dbops.config.conninfo import parse_conninfo

    params = parse_conninfo(admin_url)
    return params["host"], params["port"]


def non_loopback_ipv4() -> str | None:
    """This machine's address on its default route (None when it has none)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # UDP connect sends nothing: it only picks the outgoing interface
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def forward(pg_server) -> Iterator:
    """``forward("tcp", host)`` / ``forward("unix")`` → a running Forwarder to the test cluster."""
    if pg_server.data_dir is None:
        pytest.skip("needs the throwaway local cluster (a unix socket to forward to)")
    directory, port = cluster_socket(pg_server.admin_url)
    target = f"{directory}/.s.PGSQL.{port}"
    started: list[Forwarder] = []
    scratch = Path(tempfile.mkdtemp(prefix="dbops-fwd-"))

    def make(kind: str, host: str = "127.0.0.1") -> Forwarder:
        if kind == "unix":
            where = scratch / f"f{len(started)}"
            where.mkdir()
            forwarder = Forwarder(socket.AF_UNIX, str(where / f".s.PGSQL.{port}"), target)
            forwarder.directory = str(where)  # type: ignore[attr-defined]
            forwarder.socket_port = port  # type: ignore[attr-defined]
        else:
            forwarder = Forwarder(socket.AF_INET, (host, 0), target)
        started.append(forwarder)
        return forwarder

    yield make
    for forwarder in started:
        forwarder.stop()
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)


def assert_clean_error(result, *, code: int, secret: str | None = None, says: str | None = None) -> str:
    """Exit ``code``, one ``error:`` line on stderr, no traceback, ``secret`` nowhere; returns that line."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in lines if line.startswith(("error:", "interrupted:"))]
    assert len(errors) == 1, result.stderr
    if secret is not None:
        assert secret not in result.output, result.output
    if says is not None:
        assert says in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def trust():
    """The helpers above as one object (test modules cannot import conftest in importlib mode)."""
    return SimpleNamespace(
        assert_clean_error=assert_clean_error, non_loopback_ipv4=non_loopback_ipv4, cluster_socket=cluster_socket
    )
