"""Writing with --write: NULL-aware typed edits, insert, delete with confirmation, conflicts, errors that keep edits."""

from __future__ import annotations

import datetime
import re

import psycopg

from tests.studio.conftest import db_row, hidden_value

ROW = "/shop/t/public/items/row?k.id=4"


def edit(client, changes: dict[str, str], path: str = ROW):
    page = client.get(path)
    assert page.status == 200, page.text
    return client.post(path, {"version": hidden_value(page.text, "version"), **changes})


def test_null_is_not_the_empty_string(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    resp = edit(client, {"v.note": ""})
    assert resp.status == 303 and resp.header("location").endswith("&done=saved")
    assert db_row(shop_db, "SELECT note FROM items WHERE id = 4") == ("",)
    assert edit(client, {"v.note": "", "n.note": "on"}).status == 303
    assert db_row(shop_db, "SELECT note FROM items WHERE id = 4") == (None,)
    page = client.get(ROW)
    assert re.search(r'name="n\.note" data-clears="\w+" checked', page.text)  # shown as NULL, box ticked
    assert "Saved." in client.get(resp.header("location")).text


def test_typed_values_timestamps_enums_booleans_json(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    resp = edit(
        client,
        {
            "v.released_at": "2025-06-01 12:30:00+02",
            "v.status": "retired",
            "v.in_stock": "false",
            "v.attrs": '{"colour": "red", "sizes": [1, 2]}',
            "v.price": "12.50",
            "v.category_id": "1",
        },
    )
    assert resp.status == 303, resp.text
    released, status, in_stock, attrs, price, category = db_row(
        shop_db, "SELECT released_at, status::text, in_stock, attrs, price::text, category_id FROM items WHERE id = 4"
    )
    assert released == datetime.datetime(2025, 6, 1, 10, 30, tzinfo=datetime.UTC)
    assert (status, in_stock, attrs, price, category) == (
        "retired",
        False,
        {"colour": "red", "sizes": [1, 2]},
        "12.50",
        1,
    )
    # a NULL timestamp and a NULL boolean can be saved (and shown back as NULL)
    assert edit(client, {"n.released_at": "on", "v.released_at": "", "n.in_stock": "on", "n.attrs": "on"}).status == 303
    assert db_row(shop_db, "SELECT released_at, in_stock, attrs FROM items WHERE id = 4") == (None, None, None)
    # the generated column followed the new price
    assert db_row(shop_db, "SELECT total::text FROM items WHERE id = 4") == ("25.00",)


def test_invalid_values_are_400_with_the_users_edits_kept(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    before = db_row(shop_db, "SELECT name, released_at, attrs FROM items WHERE id = 4")
    resp = edit(client, {"v.name": "renamed by me", "v.released_at": "next tuesday-ish"})
    assert resp.status == 400
    assert "released_at: invalid input syntax for type timestamp with time zone" in resp.text
    assert 'value="renamed by me"' in resp.text and 'value="next tuesday-ish"' in resp.text
    assert re.search(r'class="field invalid" data-column="released_at"', resp.text)
    bad_json = edit(client, {"v.attrs": '{"open": ', "v.name": "kept"})
    assert bad_json.status == 400 and "attrs: invalid JSON" in bad_json.text and 'value="kept"' in bad_json.text
    not_null = edit(client, {"n.name": "on", "v.name": ""})
    assert not_null.status == 400 and "name cannot be NULL" in not_null.text
    empty_number = edit(client, {"v.price": ""})
    assert empty_number.status == 400 and "tick NULL" in empty_number.text
    bad_enum = edit(client, {"v.status": "gone"})
    assert bad_enum.status == 400 and "draft, active, retired" in bad_enum.text
    fk = edit(client, {"v.category_id": "999"})
    assert fk.status == 400 and "foreign key" in fk.text
    key = edit(client, {"v.id": "1000"})
    assert key.status == 400 and "key: it cannot be changed" in key.text
    generated = edit(client, {"v.total": "1"})
    assert generated.status == 400 and "generated" in generated.text
    unknown = edit(client, {"v.nope": "1"})
    assert unknown.status == 400 and "no column &#39;nope&#39;" in unknown.text
    assert db_row(shop_db, "SELECT name, released_at, attrs FROM items WHERE id = 4") == before


def test_a_row_changed_meanwhile_is_a_conflict(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    page = client.get(ROW)
    version = hidden_value(page.text, "version")
    with psycopg.connect(shop_db) as conn:
        conn.execute("UPDATE items SET name = 'changed elsewhere' WHERE id = 4")
    resp = client.post(ROW, {"version": version, "v.name": "mine"})
    assert resp.status == 409 and "changed by someone else" in resp.text
    assert db_row(shop_db, "SELECT name FROM items WHERE id = 4") == ("changed elsewhere",)
    stale_delete = client.post("/shop/t/public/items/delete?k.id=4", {"version": version})
    assert stale_delete.status == 409
    assert db_row(shop_db, "SELECT count(*) FROM items WHERE id = 4") == (1,)


def test_insert_with_defaults_and_nulls(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    form = client.get("/shop/t/public/items/new")
    assert form.status == 200
    assert re.search(r'name="d\.id" data-clears="\w+" checked', form.text)  # identity: default ticked
    assert re.search(r'name="n\.note" data-clears="\w+" checked', form.text)  # nullable without default: NULL
    assert 'name="v.total"' not in form.text and 'name="v.password_hash"' not in form.text
    resp = client.post(
        "/shop/t/public/items/new",
        [
            ("d.id", "on"),
            ("v.id", ""),
            ("v.name", "brand new"),
            ("v.note", ""),
            ("v.status", "active"),
            ("n.released_at", "on"),
            ("v.released_at", ""),
            ("d.created_at", "on"),
            ("v.category_id", "2"),
            ("v.attrs", "[1, 2]"),
            ("v.price", "3"),
            ("v.in_stock", "true"),
        ],
    )
    assert resp.status == 303, resp.text
    new_id = int(re.search(r"k\.id=(\d+)", resp.header("location")).group(1))
    assert new_id == 121
    row = db_row(
        shop_db,
        "SELECT name, note, status::text, released_at, category_id, attrs, total::text, "
        "created_at IS NOT NULL FROM items WHERE id = %s",
        new_id,
    )
    assert row == ("brand new", "", "active", None, 2, [1, 2], "6.00", True)
    page = client.get(resp.header("location"))
    assert "Row inserted." in page.text and "brand new" in page.text
    bad = client.post(
        "/shop/t/public/items/new", [("v.name", "x"), ("v.released_at", "31/31/2031"), ("v.note", "keep me")]
    )
    assert bad.status == 400 and "released_at:" in bad.text and 'value="keep me"' in bad.text
    assert db_row(shop_db, "SELECT count(*) FROM items") == (121,)


def test_delete_asks_for_confirmation_then_deletes(start_studio, shop_db):
    _, client = start_studio(shop_db, write=True)
    confirm = client.get("/shop/t/public/items/delete?k.id=7")
    assert confirm.status == 200 and "Delete this row of items?" in confirm.text
    assert db_row(shop_db, "SELECT count(*) FROM items WHERE id = 7") == (1,)  # showing the page deletes nothing
    resp = client.post("/shop/t/public/items/delete?k.id=7", {"version": hidden_value(confirm.text, "version")})
    assert resp.status == 303 and "done=deleted" in resp.header("location")
    assert db_row(shop_db, "SELECT count(*) FROM items WHERE id = 7") == (0,)
    assert "Row deleted." in client.get(resp.header("location")).text
    # a row others point at: PostgreSQL refuses, the studio says why, nothing changes
    category = client.get("/shop/t/public/categories/delete?k.id=1")
    assert "Rows point at it: items (60)" in category.text
    refused = client.post(
        "/shop/t/public/categories/delete?k.id=1", {"version": hidden_value(category.text, "version")}
    )
    assert refused.status == 400 and "violates foreign key constraint" in refused.text
    assert db_row(shop_db, "SELECT count(*) FROM categories WHERE id = 1") == (1,)
    assert client.post("/shop/t/public/items/delete?k.id=7", {"version": "1"}).status == 404


def test_views_and_keyless_tables_are_not_written(start_studio, shop_db):
    with psycopg.connect(shop_db) as conn:
        conn.execute("CREATE TABLE log (at timestamptz, line text)")
        conn.execute("INSERT INTO log VALUES (now(), 'a')")
    _, client = start_studio(shop_db, write=True)
    assert client.get("/shop/t/public/item_view/new").status == 400
    assert client.post("/shop/t/public/item_view/new", {"v.name": "x"}).status == 400
    assert client.get("/shop/t/public/log/row?k.line=a").status == 303  # no key: the filtered table instead
    resp = client.post("/shop/t/public/log/delete?k.line=a", {"version": "1"})
    assert resp.status == 400 and "no key" in resp.text
    assert db_row(shop_db, "SELECT count(*) FROM log") == (1,)
