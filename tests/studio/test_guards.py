"""The studio as an attacker sees it: every guard, against the real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import time

import psycopg
import pytest

from tests.studio.conftest import Client, db_row, hidden_value

PAGES = [
    "/",
    "/shop/",
    "/shop/t/public/items",
    "/shop/t/public/items/row?k.id=1",
    "/static/studio.css",
    "/static/studio.js",
    "/shop/t/public/items/export?format=csv",
]


def studio_connections(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbops studio' "
            "AND datname = current_database()"
        ).fetchone()[0]


def test_dns_rebinding_is_refused(start_studio, shop_db):
    server, client = start_studio(shop_db)
    for host in (
        "evil.example",
        f"evil.example:{server.port}",
        f"localhost:{server.port}",
        f"127.0.0.1:{server.port + 1}",
        "127.0.0.1",
        f"127.0.0.1:{server.port}, evil.example",
    ):
        resp = client.get("/shop/t/public/items", headers={"Host": host})
        assert resp.status == 403, host
        assert "DNS-rebinding" in resp.text and "item 1" not in resp.text
    assert client.get("/shop/t/public/items", headers={"Host": None}).status == 400  # HTTP/1.1 needs a Host
    assert client.get("/shop/t/public/items").status == 200


def test_the_token_cookie_is_required_on_every_request(start_studio, shop_db):
    server, client = start_studio(shop_db)
    anonymous = Client(server)
    for path in PAGES:
        resp = anonymous.get(path)
        assert resp.status == 403, path
        assert "one-time token" in resp.text
    assert anonymous.get("/?token=wrong").status == 403
    assert anonymous.get("/", headers={"Cookie": f"dbops_studio_{server.port}=wrong"}).status == 403
    assert anonymous.get("/", headers={"Cookie": f"dbops_studio_{server.port + 1}={server.token}"}).status == 403
    login = anonymous.get(f"/shop/t/public/items?token={server.token}&n=5")
    assert login.status == 303
    assert login.header("location") == "/shop/t/public/items?n=5"  # the token leaves the address bar
    cookie = login.header("set-cookie")
    assert cookie.startswith(f"dbops_studio_{server.port}={server.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    for path in PAGES[1:]:
        assert client.get(path).status == 200, path
    assert server.token not in client.get("/shop/t/public/items").text  # never in a page


def test_security_headers_everywhere_and_no_inline_script(start_studio, shop_db):
    server, client = start_studio(shop_db, write=True)
    responses = [client.get(p) for p in [*PAGES, "/shop/t/public/items/new", "/shop/t/public/nope"]]
    responses += [Client(server).get("/"), client.get("/", headers={"Host": "evil.example"})]
    for resp in responses:
        csp = resp.header("content-security-policy")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.header("x-content-type-options") == "nosniff"
        assert resp.header("x-frame-options") == "DENY" and resp.header("referrer-policy") == "same-origin"
        assert resp.header("server") is None
    for resp in responses:
        if (resp.header("content-type") or "").startswith("text/html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)", resp.text), "inline script"
            assert not re.search(r"\son\w+=", resp.text) and " style=" not in resp.text, "inline handler/style"


def test_read_only_studio_refuses_every_write(start_studio, shop_db):
    _, client = start_studio(shop_db)
    row = client.get("/shop/t/public/items/row?k.id=1")
    assert 'method="post"' not in row.text and "Edit" not in row.text
    for path, form in [
        ("/shop/t/public/items/row?k.id=1", {"version": "1", "v.name": "x"}),
        ("/shop/t/public/items/new", {"v.name": "x"}),
        ("/shop/t/public/items/delete?k.id=1", {"version": "1"}),
    ]:
        resp = client.post(path, form)
        assert resp.status == 403 and "read-only" in resp.text
    assert client.get("/shop/t/public/items/new").status == 403
    assert client.request("PUT", "/shop/t/public/items").status == 405
    assert db_row(shop_db, "SELECT name, (SELECT count(*) FROM items) FROM items WHERE id = 1") == ("item 1", 120)


def test_reads_run_in_read_only_transactions_even_with_write(start_studio, shop_db):
    with psycopg.connect(shop_db) as conn:
        conn.execute("CREATE TABLE side_effects (n int)")
        conn.execute(
            "CREATE FUNCTION bump() RETURNS int LANGUAGE sql VOLATILE AS "
            "'INSERT INTO side_effects VALUES (1) RETURNING n'"
        )
        conn.execute("CREATE VIEW sneaky AS SELECT bump() AS n")
    for write in (False, True):
        _, client = start_studio(shop_db, write=write)
        resp = client.get("/shop/t/public/sneaky")
        assert resp.status == 403 and "read-only transaction" in resp.text
    assert db_row(shop_db, "SELECT count(*) FROM side_effects") == (0,)


def test_writes_must_come_from_the_studios_own_pages(start_studio, shop_db):
    server, client = start_studio(shop_db, write=True)
    page = client.get("/shop/t/public/items/row?k.id=1")
    form = {"version": hidden_value(page.text, "version"), "v.name": "hacked"}
    path = "/shop/t/public/items/row?k.id=1"
    refused = [
        ({"Origin": None}, 403),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": f"http://localhost:{server.port}"}, 403),
        ({"Origin": "null"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/json"}, 415),
    ]
    for headers, status in refused:
        resp = client.post(path, form, headers=headers)
        assert resp.status == status, headers
    assert Client(server).post(path, form).status == 403  # no cookie
    assert db_row(shop_db, "SELECT name FROM items WHERE id = 1") == ("item 1",)
    ok = client.post(path, form, headers={"Sec-Fetch-Site": "same-origin"})
    assert ok.status == 303
    assert db_row(shop_db, "SELECT name FROM items WHERE id = 1") == ("hacked",)


def _open_post(server, client: Client, declared: int, sent: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = (
        f"POST /shop/t/public/items/new HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Cookie: {client.cookie}\r\nOrigin: http://127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + sent)
    return sock


def _status(sock: socket.socket) -> int:
    data = sock.recv(200).decode()
    return int(data.split()[1])


def test_request_bodies_are_bounded_before_any_database_work(start_studio, shop_db):
    server, client = start_studio(shop_db, write=True, body_limit=4096, body_timeout=1.0, pool_size=2)
    too_big = client.post("/shop/t/public/items/new", {"v.name": "x" * 5000})
    assert too_big.status == 413
    sock = _open_post(server, client, 10_000_000, b"v.name=x")  # declared too big: refused before reading
    assert _status(sock) == 413
    sock.close()
    # 40 half-open POSTs (a body that never completes): no database connection is taken for them
    baseline = studio_connections(shop_db)
    hanging = [_open_post(server, client, 100, b"v.name=") for _ in range(40)]
    try:
        time.sleep(0.3)
        assert studio_connections(shop_db) <= max(baseline, 2)
        assert client.get("/shop/t/public/items?n=1").status == 200  # the studio still answers
        assert studio_connections(shop_db) <= 2
        statuses = {_status(s) for s in hanging}  # each times out after body_timeout
        assert statuses == {408}
    finally:
        for s in hanging:
            s.close()
    assert db_row(shop_db, "SELECT count(*) FROM items") == (120,)


def test_connections_beyond_the_cap_get_503(start_studio, shop_db):
    server, client = start_studio(shop_db, max_connections=3)
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.2)
        assert client.get("/shop/").status == 503
    finally:
        for s in idle:
            s.close()
    time.sleep(0.2)
    assert client.get("/shop/").status == 200


def test_statement_timeout_on_every_query(start_studio, shop_db):
    with psycopg.connect(shop_db) as conn:
        conn.execute("CREATE FUNCTION slowly(int) RETURNS int LANGUAGE sql AS 'SELECT $1 FROM pg_sleep(0.2)'")
        conn.execute("CREATE VIEW slow AS SELECT slowly(x) AS x FROM generate_series(1, 100) x")
    _, client = start_studio(shop_db, statement_timeout_ms=300)
    resp = client.get("/shop/t/public/slow")
    assert resp.status == 504 and "statement_timeout" in resp.text
    assert client.get("/shop/t/public/items?n=1").status == 200  # the pool is fine afterwards


@pytest.mark.parametrize(
    "env, url, force, message",
    [
        ({"DBOPS_ENV": "production"}, None, True, "DBOPS_ENV=production"),
        ({}, "postgresql://u:s3cret@db.example.com/x", False, "not this machine"),
    ],
)
def test_cli_refuses_write(dbops, env, url, force, message):
    args = ["studio", "healthcare", "--write", "--no-browser"]
    if url:
        args += ["--database-url", url]
    if force:
        args.append("--force")
    result = dbops(*args, env=env)
    assert result.exit_code == 2 and message in result.stderr and "s3cret" not in result.output


def test_cli_unreachable_database_exits_3(dbops):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    result = dbops(
        "studio", "healthcare", "--no-browser", "--database-url", f"postgresql://u:s3cret@127.0.0.1:{port}/x"
    )
    assert result.exit_code == 3 and "cannot connect" in result.stderr and "s3cret" not in result.output
