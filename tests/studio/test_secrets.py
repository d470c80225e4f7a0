"""Secrets: never read, sorted, filtered, searched, exported or written — by name, by config, through views."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import psycopg

from dbops.studio.secrets import SecretRules, view_secrets
from tests.studio.conftest import db_row, hidden_value

SECRET_VALUES = (
    "HASH-SECRET",
    "TOKEN-SECRET",
    "token-secret",
    "PASSWD-SECRET",
    "KEY-SECRET",
    "CRED-SECRET",
    "TOTP-SECRET",
)


def no_secret_in(text: str) -> None:
    for value in SECRET_VALUES:
        assert value not in text, value


def test_secret_columns_never_leave_the_database(start_studio, shop_db):
    _, client = start_studio(shop_db)
    pages = [
        "/shop/t/public/items?n=500",
        "/shop/t/public/items/row?k.id=5",
        "/shop/t/public/items/export?format=csv",
        "/shop/t/public/items/export?format=json",
        "/shop/t/public/item_view?n=500",
        "/shop/t/public/item_view2?n=500",
        "/shop/t/public/item_view/export?format=csv",
    ]
    for path in pages:
        resp = client.get(path)
        assert resp.status == 200, path
        no_secret_in(resp.text)
    grid = client.get("/shop/t/public/items")
    note = re.search(r"Hidden as secrets: ([^—]+)", grid.text).group(1)
    assert [n.strip() for n in note.split(",")] == [
        "password_hash",
        "api_token",
        "passwd",
        "private_key",
        "credentials",
        "totp_seed",
    ]
    # through views: a renamed column, an expression over a secret, a view of a view
    view = client.get("/shop/t/public/item_view")
    assert "Hidden as secrets: ph, tok" in view.text and "item 1" in view.text and "hats" in view.text
    assert "Hidden as secrets: ph" in client.get("/shop/t/public/item_view2").text


def test_hidden_columns_are_no_oracle(start_studio, shop_db):
    _, client = start_studio(shop_db)
    refusals = {
        "sort": "/shop/t/public/items?sort=password_hash",
        "filter": "/shop/t/public/items?fc=password_hash&fo=startswith&fv=HASH",
        "null filter": "/shop/t/public/items?fc=api_token&fo=null&fv=",
        "view filter": "/shop/t/public/item_view?fc=ph&fo=eq&fv=x",
        "view sort": "/shop/t/public/item_view?sort=tok",
        "export sort": "/shop/t/public/items/export?sort=passwd",
    }
    for what, path in refusals.items():
        resp = client.get(path)
        assert resp.status == 400, what
        assert "secret column" in resp.text, what
    # the search box does not look into secret columns
    found = client.get("/shop/t/public/items?q=HASH-SECRET")
    assert found.status == 200 and "No row matches." in found.text


def test_secret_columns_cannot_be_written(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    row = client.get("/shop/t/public/items/row?k.id=5")
    assert 'name="v.password_hash"' not in row.text and 'name="v.name"' in row.text
    version = hidden_value(row.text, "version")
    resp = client.post("/shop/t/public/items/row?k.id=5", {"version": version, "v.password_hash": "x"})
    assert resp.status == 400 and "secret column" in resp.text
    resp = client.post("/shop/t/public/items/new", {"v.name": "n", "v.api_token": "mine"})
    assert resp.status == 400 and "secret column" in resp.text
    assert db_row(shop_db, "SELECT password_hash FROM items WHERE id = 5") == ("HASH-SECRET-5",)
    assert db_row(shop_db, "SELECT count(*) FROM items") == (120,)


def test_configured_secret_columns(start_studio, shop_db):
    _, client = start_studio(shop_db, secret_columns=("items.note", "*.price"))
    page = client.get("/shop/t/public/items/export?format=csv")
    header = page.text.splitlines()[0].split(",")
    assert "note" not in header and "price" not in header and "name" in header
    assert "third" not in page.text
    assert client.get("/shop/t/public/items?fc=note&fo=eq&fv=third").status == 400


def test_a_table_whose_key_is_secret_has_no_row_pages(start_studio, shop_db):
    with psycopg.connect(shop_db) as conn:
        conn.execute("CREATE TABLE api_keys (key text PRIMARY KEY, owner text NOT NULL)")
        conn.execute("INSERT INTO api_keys SELECT 'sk-live-' || g, 'owner ' || g FROM generate_series(1, 70) g")
    _, client = start_studio(shop_db)
    first = client.get("/shop/t/public/api_keys")
    assert first.status == 200 and "sk-live" not in first.text and "owner 1" in first.text
    assert "/row?" not in first.text  # no page of its own: its key would be in the URL
    nxt = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "sk-live" not in nxt  # paged by position on disk (ctid), not by the secret key
    second = client.get(nxt)
    assert second.status == 200 and "sk-live" not in second.text
    owners = re.findall(r"owner (\d+)", first.text + second.text)
    assert len(set(owners)) == 70


def test_view_secrets_follow_pg_rewrite_and_pg_depend(shop_db):
    with psycopg.connect(shop_db) as conn:
        conn.execute(
            "CREATE MATERIALIZED VIEW item_mv AS SELECT id, coalesce(passwd, '') AS p, upper(name) AS n FROM items"
        )
        conn.execute("CREATE VIEW safe_view AS SELECT id, name FROM items WHERE password_hash IS NOT NULL")
        found = view_secrets(conn, "shop", SecretRules())
    assert found.secret_columns("public", "item_view") == {"ph", "tok"}
    assert found.secret_columns("public", "item_view2") == {"ph"}
    # an expression column of a view that reads a secret is hidden: PostgreSQL does not say which inputs it uses
    assert found.secret_columns("public", "item_mv") == {"p", "n"}
    # reading a secret only in WHERE does not make the view's plain columns secret
    assert found.secret_columns("public", "safe_view") == set()


def test_secret_words_in_names():
    rules = SecretRules()
    secret = [
        "password",
        "passwd",
        "pwd",
        "user_password",
        "passwordHash",
        "secret",
        "client_secret",
        "token",
        "refresh_token",
        "api_key",
        "apiKey",
        "private_key",
        "credential",
        "credentials",
        "salt",
        "hash",
        "password_hash",
        "totp",
        "totp_seed",
        "otp",
        "otp_code",
        "mfa_secret",
        "pin",
        "cvv",
    ]
    public = [
        "name",
        "email",
        "monkey",
        "keyboard",
        "hotpot",
        "spinner",
        "opinion",
        "id",
        "clinic_id",
        "notes",
        "created_at",
        "status",
        "passenger",
    ]
    assert [n for n in secret if not rules.is_secret("s", "public", "t", n)] == []
    assert [n for n in public if rules.is_secret("s", "public", "t", n)] == []


def test_columns_referencing_a_secret_are_secret(start_studio, shop_db):
    with psycopg.connect(shop_db) as conn:
        conn.execute("CREATE TABLE vault (secret text PRIMARY KEY)")
        conn.execute("INSERT INTO vault VALUES ('VAULT-SECRET-1')")
        conn.execute("CREATE TABLE holders (id int PRIMARY KEY, ref text REFERENCES vault (secret))")
        conn.execute("INSERT INTO holders VALUES (1, 'VAULT-SECRET-1')")
    _, client = start_studio(shop_db)
    page = client.get("/shop/t/public/holders")
    assert page.status == 200 and "VAULT-SECRET" not in page.text and "Hidden as secrets: ref" in page.text
    assert client.get("/shop/t/public/holders?" + urlencode({"fc": "ref", "fo": "eq", "fv": "x"})).status == 400
