"""§2 "Local only" is judged where libpq really connects: the URL plus PGHOST, PGHOSTADDR, PGPORT,
PGSERVICE/PGSERVICEFILE (and ``service=``), multi-host lists — and then on the connection itself
(dbops' own socket, a postmaster of this machine, or a server that sees a loopback address).

Real servers stand behind forwarders (``conftest.Forwarder``): a tunnel on 127.0.0.1, a "remote"
host on this machine's non-loopback address, a proxied unix socket. The guards must refuse each
(nothing touched), and ``--force`` must really reach them (so the refusals are not vacuous).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from dbops.errors import RefusedError
from dbops.localdb.target import effective_target, ensure_local, is_production, require_local

PG_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGSERVICE", "PGSERVICEFILE", "PGSYSCONFDIR")


@pytest.fixture
def run(dbops):
    """``run(*args, env=…)``: the CLI, then the PG* variables it set are dropped again (so the test's own
    connections are not redirected)."""

    def invoke(*args: str, env: dict[str, str] | None = None):
        result = dbops(*args, env=env)
        for variable in PG_VARIABLES:
            os.environ.pop(variable, None)
        return result

    return invoke


@pytest.fixture
def service_file(tmp_path: Path) -> Path:
    path = tmp_path / "pg_service.conf"
    path.write_text(
        "# services\n[prod]\nhost=db.prod.example.com\nport=5432\n\n"
        "[far]\nhost=127.0.0.5\nport=1\n\n[near]\nhostaddr=127.0.0.6\nport=1\n\n[remote-addr]\nhostaddr=203.0.113.9\n"
    )
    return path


def _no_host(url: str) -> str:
    """The test database's URL without any host: what PGHOST/PGHOSTADDR/PGSERVICE then decide."""
    from dbops.config.conninfo import parse_conninfo, to_url

    params = parse_conninfo(url)
    return to_url({k: v for k, v in params.items() if k in ("user", "dbname")})


def _keep(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (id int)")


def _kept(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass('public.keep_me') IS NOT NULL").fetchone()[0]


# -- the model of libpq + psycopg, against real connection attempts ------------------------------------------


def test_effective_target_matches_where_psycopg_and_libpq_really_connect(service_file, monkeypatch):
    """Each case: a connection attempt to closed loopback ports; libpq's error names the address and port
    it tried — the same, in the same order, as ``effective_target`` says."""
    svc = {"PGSERVICEFILE": str(service_file)}
    cases = [
        ("postgresql://postgres@/x", {"PGHOST": "127.0.0.3", "PGPORT": "1"}),
        ("postgresql://postgres@127.0.0.9/x?port=1", {"PGHOSTADDR": "127.0.0.4"}),  # hostaddr beats host
        ("postgresql://postgres@/x?service=far", svc),
        ("postgresql://postgres@/x", {**svc, "PGSERVICE": "far"}),
        ("postgresql://postgres@127.0.0.9:1/x?service=near", svc),  # psycopg resolves the URL's host first
        ("postgresql://postgres@/x?service=near&host=127.0.0.2&port=1", svc),
        ("postgresql://postgres@/x?service=far", {**svc, "PGHOST": "127.0.0.8"}),  # PGHOST beats the service
        ("postgresql://postgres@127.0.0.7:1,127.0.0.8:1/x", {}),
        ("postgresql://postgres@/x?host=127.0.0.7,127.0.0.8&port=1", {}),
        ("postgresql://postgres@/x", {"PGHOST": "127.0.0.7,127.0.0.8", "PGPORT": "1,1"}),
        ("postgresql://postgres@127.0.0.9:1/x?hostaddr=", {"PGHOSTADDR": "127.0.0.4"}),  # explicit empty blocks it
        ("host=127.0.0.3 port=1 dbname=x", {"PGHOSTADDR": "127.0.0.4"}),
    ]
    for url, env in cases:
        endpoints = effective_target(url, env).endpoints
        tried = [(e.hostaddr or e.host, e.port) for e in endpoints]
        for variable in PG_VARIABLES:
            monkeypatch.delenv(variable, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        with pytest.raises(psycopg.OperationalError) as failed:
            psycopg.connect(url, connect_timeout=5)
        message = str(failed.value)
        positions = [message.find(f'server at "{address}", port {port}') for address, port in tried]
        assert all(p >= 0 for p in positions), (url, env, tried, message)
        assert len(tried) == 1 or "Multiple connection attempts" in message, (url, env, tried, message)


# -- refusals before connecting ---------------------------------------------------------------------------


def test_pghost_and_pghostaddr_cannot_send_reset_elsewhere(run, trust, healthcare_db):
    """The issue's command: PGHOST/PGHOSTADDR decide where a host-less URL goes; reset refuses it."""
    _keep(healthcare_db)
    result = run(
        "reset",
        "healthcare",
        "--yes",
        "--database-url",
        _no_host(healthcare_db),
        env={"PGHOST": "db.prod.example.com", "PGHOSTADDR": "203.0.113.7"},
    )
    line = trust.assert_clean_error(result, code=2, says="refusing reset healthcare")
    assert "203.0.113.7" in line and "PGHOSTADDR" in line and "not this machine" in line
    assert _kept(healthcare_db)


def test_services_and_host_lists_are_judged_too(run, trust, healthcare_db, service_file, pg_server):
    _keep(healthcare_db)
    bare = _no_host(healthcare_db)
    svc = {"PGSERVICEFILE": str(service_file)}
    directory, port = trust.cluster_socket(pg_server.admin_url)
    cases = [
        (bare + "?service=prod", svc, "host from service 'prod'"),
        (bare, {**svc, "PGSERVICE": "prod"}, "host from service 'prod'"),
        (bare + "?service=remote-addr", svc, "203.0.113.9"),
        (bare + "?service=missing", svc, "service 'missing' is not defined"),
        (bare + f"?host={directory},db.prod.example.com&port={port}", {}, "one of 2 hosts"),
        (bare + "?host=localhost,db.prod.example.com", {}, "one of 2 hosts"),
        (bare, {"PGHOST": "10.11.12.13"}, "10.11.12.13:5432 [host from PGHOST]"),
    ]
    for url, env, says in cases:
        for command in (
            ("reset", "healthcare", "--yes"),
            ("seed", "healthcare", "--scale", "50"),
            ("studio", "healthcare", "--write"),
        ):
            result = run(*command, "--database-url", url, env=env)
            line = trust.assert_clean_error(result, code=2, says=says)
            assert "refusing" in line, line
    assert _kept(healthcare_db)


def test_dbops_env_production_refuses_every_dev_only_operation(run, trust, healthcare_db):
    _keep(healthcare_db)
    for value in ("production", "prod", "live", "PROD", " Live ", "Production"):
        for command in (
            ("reset", "healthcare", "--yes", "--force"),
            ("seed", "healthcare", "--scale", "50", "--force"),
            ("studio", "healthcare", "--write", "--force"),
        ):
            result = run(*command, "--database-url", healthcare_db, env={"DBOPS_ENV": value})
            trust.assert_clean_error(result, code=2, says="production")
    assert _kept(healthcare_db)
    assert is_production({"DBOPS_ENV": "LIVE"}) and not is_production({"DBOPS_ENV": "staging"})
    assert not is_production({"DBOPS_ENV": "productions"}) and not is_production({})


def test_the_local_cluster_url_is_pinned_against_pghostaddr(run, pg_server):
    """dbops' own cluster is reached through its socket whatever PGHOSTADDR says (hostaddr= is explicit)."""
    if pg_server.data_dir is None:
        pytest.skip("needs the throwaway local cluster")
    result = run("check", "indexes", "healthcare", "--schema-only", env={"PGHOSTADDR": "203.0.113.7"})
    assert result.exit_code in (0, 1), result.output
    assert "using the local database" in result.stderr


# -- confirmation on the connection --------------------------------------------------------------------------


def test_a_tcp_tunnel_on_loopback_is_refused_after_connecting(run, trust, forward, healthcare_db):
    """127.0.0.1 passes the first check, but the server sees a unix-socket client: something forwards it."""
    _keep(healthcare_db)
    tunnel = forward("tcp")
    url = _no_host(healthcare_db).replace("postgres@/", f"postgres@127.0.0.1:{tunnel.port}/")
    for command in (
        ("reset", "healthcare", "--yes"),
        ("seed", "healthcare", "--scale", "50"),
        ("studio", "healthcare", "--write"),
    ):
        result = run(*command, "--database-url", url)
        trust.assert_clean_error(result, code=2, says="the server sees a unix-socket connection")
    assert tunnel.connections >= 3  # each one really connected, then refused
    assert _kept(healthcare_db)


def test_a_proxied_unix_socket_is_refused_and_a_real_local_server_is_not(run, trust, forward, healthcare_db, tmp_path):
    _keep(healthcare_db)
    proxy = forward("unix")
    url = _no_host(healthcare_db) + f"?host={proxy.directory}&port={proxy.socket_port}"
    result = run("reset", "healthcare", "--yes", "--database-url", url)
    trust.assert_clean_error(result, code=2, says="neither dbops' local cluster nor served by a PostgreSQL server")
    assert proxy.connections == 1 and _kept(healthcare_db)
    # the test cluster's own socket, seen as "another server on this machine" (not dbops' local cluster):
    # its listener is the postmaster of the backend, so it is local
    guard = require_local(healthcare_db, action="reset healthcare", env={"DBOPS_DATA_DIR": str(tmp_path)})
    assert guard.own_socket_dirs == ()
    with psycopg.connect(healthcare_db) as conn:
        guard.confirm(conn)
    with pytest.raises(RefusedError, match="neither dbops' local cluster"), psycopg.connect(url) as conn:
        guard.confirm(conn)


def test_a_remote_looking_server_is_refused_and_force_really_reaches_it(run, trust, forward, healthcare_db):
    """A real server on this machine's non-loopback address (a forwarder): refused by address before
    connecting; with --force the same command really resets it — the guard is what stopped it."""
    address = trust.non_loopback_ipv4()
    if address is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    _keep(healthcare_db)
    remote = forward("tcp", address)
    env = {"PGHOST": "db.prod.example.com", "PGHOSTADDR": address, "PGPORT": str(remote.port)}
    refused = run("reset", "healthcare", "--yes", "--no-seed", "--database-url", _no_host(healthcare_db), env=env)
    trust.assert_clean_error(refused, code=2, says=f"{address}:{remote.port}")
    assert remote.connections == 0 and _kept(healthcare_db)
    forced = run(
        "reset", "healthcare", "--yes", "--no-seed", "--force", "--database-url", _no_host(healthcare_db), env=env
    )
    assert forced.exit_code == 0, forced.output
    assert remote.connections > 0 and not _kept(healthcare_db)


def test_ensure_local_connects_to_confirm(healthcare_db, forward, settings):
    assert not ensure_local(healthcare_db, action="studio --write", settings=settings).forced
    tunnel = forward("tcp")
    url = _no_host(healthcare_db).replace("postgres@/", f"postgres@127.0.0.1:{tunnel.port}/")
    with pytest.raises(RefusedError, match="tunnel or a proxy"):
        ensure_local(url, action="studio --write", settings=settings)
    assert ensure_local(url, action="studio --write", force=True).forced


def test_confirm_works_whatever_the_connection_row_factory(healthcare_db, forward):
    from psycopg.rows import dict_row

    guard = require_local(healthcare_db, action="studio --write")
    with psycopg.connect(healthcare_db, row_factory=dict_row) as conn:
        guard.confirm(conn)
    tunnel = forward("tcp")
    url = _no_host(healthcare_db).replace("postgres@/", f"postgres@127.0.0.1:{tunnel.port}/")
    with pytest.raises(RefusedError), psycopg.connect(url, row_factory=dict_row) as conn:
        guard.confirm(conn)
