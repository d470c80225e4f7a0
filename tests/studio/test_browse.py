"""Browsing over HTTP against the real server and PostgreSQL: tables, keyset pages, filters, search, links."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import psycopg

from tests.studio.conftest import cells, db_row, link


def ids(html: str) -> list[int]:
    return [int(v) for v in cells(html, 1)]


def test_both_schemas_with_switcher_and_table_list(start_studio, healthcare_db, fashion_db):
    with psycopg.connect(healthcare_db) as conn:
        conn.execute("INSERT INTO clinics (name) SELECT 'clinic ' || g FROM generate_series(1, 5) g")
    _, client = start_studio({"healthcare": healthcare_db, "fashion": fashion_db})
    home = client.get("/")
    assert home.status == 303 and home.header("location") == "/healthcare/"
    page = client.get("/healthcare/")
    assert page.status == 200
    assert 'href="/fashion/"' in page.text and 'aria-current="page">healthcare<' in page.text
    assert "appointments" in page.text and "partitioned table" in page.text
    row = re.search(
        r'href="/healthcare/t/public/clinics">clinics</a>.*?<td class="num"[^>]*>([^<]*)</td>'
        r'\s*<td class="num">([^<]*)</td>',
        page.text,
        re.S,
    )
    assert row and row.group(1) == "5" and row.group(2).endswith("kB")  # a small table is counted exactly
    fashion = client.get("/fashion/")
    assert fashion.status == 200 and 'href="/fashion/t/public/orders"' in fashion.text
    assert 'aria-current="page">fashion<' in fashion.text
    assert client.get("/nowhere/").status == 404


def test_keyset_pages_forward_and_back(start_studio, shop_db):
    _, client = start_studio(shop_db)
    first = client.get("/shop/t/public/items")
    assert first.status == 200 and ids(first.text) == list(range(1, 51))
    assert link(first.text, "prev") is None and "120 rows" in first.text
    second = client.get(link(first.text, "next"))
    assert ids(second.text) == list(range(51, 101)) and "page 2" in second.text
    third = client.get(link(second.text, "next"))
    assert ids(third.text) == list(range(101, 121)) and link(third.text, "next") is None
    back = client.get(link(third.text, "prev"))
    assert ids(back.text) == list(range(51, 101)) and link(back.text, "next")
    again = client.get(link(back.text, "prev"))
    assert ids(again.text) == list(range(1, 51)) and link(again.text, "prev") is None
    # the cursor is the last key, in the URL: no page number, no OFFSET
    assert "after=%5B%2250%22%5D" in link(first.text, "next")


def walk(client, path: str) -> tuple[list[int], list[int]]:
    """Every id following next links to the end, then every id following prev links back to the start."""
    forward, pages = [], []
    page = client.get(path)
    while True:
        assert page.status == 200, page.text
        pages.append(ids(page.text))
        forward += pages[-1]
        nxt = link(page.text, "next")
        if not nxt:
            break
        page = client.get(nxt)
    backward = list(pages[-1])
    while link(page.text, "prev"):
        page = client.get(link(page.text, "prev"))
        backward = ids(page.text) + backward
    return forward, backward


def test_sort_by_nullable_indexed_column_walks_every_row_both_ways(start_studio, shop_db):
    _, client = start_studio(shop_db)
    for direction, sql_order in (
        ("asc", "released_at ASC NULLS LAST, id ASC"),
        ("desc", "released_at DESC NULLS FIRST, id DESC"),
    ):
        with psycopg.connect(shop_db) as conn:
            expected = [r[0] for r in conn.execute(f"SELECT id FROM items ORDER BY {sql_order}")]
        forward, backward = walk(client, f"/shop/t/public/items?sort=released_at&dir={direction}&n=7")
        assert forward == expected
        assert backward == expected


def test_sort_needs_an_index(start_studio, shop_db):
    _, client = start_studio(shop_db)
    resp = client.get("/shop/t/public/items?sort=name")
    assert resp.status == 400 and "no index delivers it in order" in resp.text and "category_id" in resp.text
    assert client.get("/shop/t/public/items?sort=category_id&dir=desc").status == 200


def test_jump_by_key(start_studio, shop_db):
    _, client = start_studio(shop_db)
    page = client.get("/shop/t/public/items?from=77&n=5")
    assert ids(page.text) == [77, 78, 79, 80, 81] and link(page.text, "prev")
    back = client.get(link(page.text, "prev"))
    assert ids(back.text) == [72, 73, 74, 75, 76]
    bad = client.get("/shop/t/public/items?from=seventy")
    assert bad.status == 400 and "bigint" in bad.text


def test_typed_filters_and_search(start_studio, shop_db):
    _, client = start_studio(shop_db)

    def filtered(*filters: tuple[str, str, str], **extra: str) -> list[int]:
        params = [p for f in filters for p in (("fc", f[0]), ("fo", f[1]), ("fv", f[2]))] + list(extra.items())
        resp = client.get("/shop/t/public/items?" + urlencode([*params, ("n", "500")]))
        assert resp.status == 200, resp.text
        return ids(resp.text)

    def expect(where: str) -> list[int]:
        with psycopg.connect(shop_db) as conn:
            return [r[0] for r in conn.execute(f"SELECT id FROM items WHERE {where} ORDER BY id")]

    assert filtered(("status", "eq", "retired")) == expect("status = 'retired'")
    assert filtered(
        ("released_at", "ge", "2024-01-01 10:00+00"), ("released_at", "le", "2024-01-01 12:00+00")
    ) == expect("released_at BETWEEN '2024-01-01 10:00+00' AND '2024-01-01 12:00+00'")
    assert filtered(("name", "contains", "m 11")) == expect("name LIKE '%m 11%'")
    assert filtered(("note", "null", "")) == expect("note IS NULL")
    assert filtered(("note", "eq", "third"), ("in_stock", "eq", "true")) == expect("note = 'third' AND in_stock")
    assert filtered(("attrs", "eq", '{"n": 7}')) == [7]
    assert filtered(("price", "gt", "177")) == expect("price > 177")
    assert filtered(q="ITEM 10") == expect("name ILIKE '%item 10%'")
    assert filtered(("name", "contains", "%")) == []  # a LIKE wildcard is a literal
    counted = client.get("/shop/t/public/items?" + urlencode([("fc", "status"), ("fo", "eq"), ("fv", "draft")]))
    assert "40 matching" in counted.text
    wrong_type = client.get("/shop/t/public/items?fc=released_at&fo=ge&fv=yesterday-ish")
    assert wrong_type.status == 400 and "timestamp with time zone" in wrong_type.text
    assert 'value="yesterday-ish"' in wrong_type.text  # the user's filter is kept in the form
    wrong_op = client.get("/shop/t/public/items?fc=in_stock&fo=contains&fv=t")
    assert wrong_op.status == 400 and "cannot be filtered" in wrong_op.text


def test_foreign_keys_link_both_ways(start_studio, shop_db):
    _, client = start_studio(shop_db)
    page = client.get("/shop/t/public/items?n=3")
    assert 'href="/shop/t/public/categories/row?k.id=2"' in page.text  # item 1 → category 2
    category = client.get("/shop/t/public/categories/row?k.id=2")
    assert category.status == 200
    match = re.search(
        r'<a href="([^"]+)">items</a> via category_id: <span class="refcount">(\d+)</span>', category.text
    )
    assert match and match.group(2) == "60"
    items = client.get(match.group(1).replace("&amp;", "&") + "&n=500")
    assert items.status == 200 and ids(items.text) == list(range(1, 121, 2))
    empty = client.get("/shop/t/public/categories/row?k.id=3")
    assert re.search(r"items</a> via category_id: <span class=\"refcount\">0</span>", empty.text)


def test_row_page_and_its_errors(start_studio, shop_db):
    _, client = start_studio(shop_db)
    row = client.get("/shop/t/public/items/row?k.id=3")
    assert row.status == 200 and "item 3" in row.text and "HASH-SECRET" not in row.text
    assert "&#34;n&#34;: 3" in row.text  # JSON shown pretty
    assert client.get("/shop/t/public/items/row?k.id=999").status == 404
    assert client.get("/shop/t/public/items/row?k.name=x").status == 303  # not the key: the filtered table
    assert client.get("/shop/t/public/items/row").status == 400
    assert client.get("/shop/t/public/items/row?k.id=abc").status == 400


def test_names_that_need_url_encoding_and_html_escaping(start_studio, shop_db):
    _, client = start_studio(shop_db)
    listing = client.get("/shop/")
    path = "/shop/t/public/" + quote("we ird/ta%ble", safe="")
    assert f'href="{path}"' in listing.text
    table = client.get(path)
    assert table.status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table.text and "<script>alert" not in table.text
    row = client.get(path + "/row?" + urlencode({"k.col 1": "1"}))
    assert row.status == 200 and "na/me" in row.text


def test_views_are_paged_by_position(start_studio, shop_db):
    _, client = start_studio(shop_db)
    first = client.get("/shop/t/public/item_view?sort=id")  # a view: no "open" column, id comes first
    assert first.status == 200 and cells(first.text, 0)[:3] == ["1", "2", "3"]
    second = client.get(link(first.text, "next"))
    assert cells(second.text, 0)[:3] == ["51", "52", "53"] and "page 2" in second.text
    back = client.get(link(second.text, "prev"))
    assert cells(back.text, 0)[:3] == ["1", "2", "3"]
    assert client.get("/shop/t/public/item_view?page=1000").status == 400  # beyond the OFFSET cap


def test_injection_through_every_parameter_changes_nothing(start_studio, shop_db):
    _, client = start_studio(shop_db)
    hostile = [
        ("/shop/t/public/items?sort=" + quote("id; DROP TABLE items --"), 400),
        ("/shop/t/public/items?dir=" + quote("asc; DROP TABLE items"), 400),
        ("/shop/t/public/items?fc=" + quote('name" = name; DROP TABLE items; --') + "&fo=eq&fv=x", 400),
        ("/shop/t/public/items?fc=name&fo=" + quote("eq' OR 1=1 --") + "&fv=x", 400),
        ("/shop/t/public/items?fc=name&fo=eq&fv=" + quote("' OR 1=1 --"), 200),
        ("/shop/t/public/items?q=" + quote("'; DROP TABLE items; --"), 200),
        ("/shop/t/public/items?after=" + quote('["1) OR (1=1"]'), 400),
        ("/shop/t/public/items?after=" + quote("not json"), 400),
        ("/shop/t/public/items?after=" + quote('["1","2","3"]'), 400),
        ("/shop/t/public/items?before=" + quote('[{"a":1}]'), 400),
        ("/shop/t/public/items?from=" + quote("1; DROP TABLE items"), 400),
        ("/shop/t/public/items?n=1e9", 400),
        ("/shop/t/public/items?n=100000", 400),
        ("/shop/t/public/items?page=-1", 400),
        ("/shop/t/public/items?page=99999999999999999999999", 400),
        ("/shop/t/public/items/row?k.id=" + quote("1 OR 1=1"), 400),
        ("/shop/t/public/items/row?" + urlencode({"k.id; DROP TABLE items": "1"}), 400),
        ("/shop/t/" + quote("public; DROP TABLE items", safe="") + "/items", 404),
        ("/shop/t/public/" + quote('items"; DROP TABLE items; --', safe=""), 404),
        ("/shop/t/pg_catalog/pg_authid", 404),
        ("/shop/t/information_schema/tables", 404),
        ("/" + quote("shop'--", safe="") + "/", 404),
        ("/static/../app.py", 404),
        ("/static/%2e%2e/app.py", 404),
        ("/shop/t/public/items/export?format=" + quote("csv'; --"), 400),
    ]
    for path, status in hostile:
        resp = client.get(path)
        assert resp.status == status, (path, resp.status, resp.text[:300])
        assert "Traceback" not in resp.text and "psycopg" not in resp.text
    assert db_row(shop_db, "SELECT count(*) FROM items")[0] == 120
    assert client.get("/shop/t/public/items?fc=name&fo=eq&fv=" + quote("' OR 1=1 --")).text.count("<tr>") == 2


def test_export_csv_and_json(start_studio, shop_db):
    _, client = start_studio(shop_db)
    resp = client.get("/shop/t/public/items/export?format=csv&fc=id&fo=le&fv=4")
    assert resp.status == 200 and resp.header("content-type").startswith("text/csv")
    lines = resp.text.splitlines()
    assert lines[0].startswith("id,category_id,name,note,status,in_stock,price,attrs,released_at,created_at,total")
    assert len(lines) == 5
    assert lines[1].startswith('1,2,item 1,"",') and lines[2].startswith("2,1,item 2,,")  # '' vs NULL
    assert "SECRET" not in resp.text
    ndjson = client.get("/shop/t/public/items/export?format=json&sort=released_at&dir=desc&limit=3")
    assert ndjson.status == 200 and len(ndjson.text.splitlines()) == 3
    assert '"released_at": null' in ndjson.text.splitlines()[0]  # NULLs first, descending
    big = client.get("/shop/t/public/items/export?format=csv")
    assert len(big.text.splitlines()) == 121


class RecordingConnection:
    """A psycopg connection that remembers the SQL of every statement (the pages' queries, verbatim)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, list]] = []

    def execute(self, query, params=None):
        text = query if isinstance(query, str) else query.as_string(self.conn)
        self.statements.append((text, list(params or [])))
        return self.conn.execute(query, params)

    def __getattr__(self, name: str):
        return getattr(self.conn, name)


def test_pages_are_index_range_scans_without_offset_or_count(shop_db, monkeypatch):
    from dbops.studio import rows
    from dbops.studio.app import Database, StudioOptions, Target
    from dbops.studio.catalog import Catalog, driver

    monkeypatch.setattr("dbops.studio.catalog.EXACT_COUNT_MAX_PAGES", -1)  # as if the table were big
    database = Database(Target("shop", shop_db), StudioOptions())
    try:
        with database.transaction(write=False) as conn:
            relation = Catalog(conn, "shop").relation("public", "items")
            recorder = RecordingConnection(driver(conn))
            for query in (
                rows.PageQuery(after=("60",), size=10),
                rows.PageQuery(before=("60",), size=10),
                rows.PageQuery(sort="released_at", after=("2024-01-01 05:00:00+00", "45"), size=10),
                rows.PageQuery(start="90", sort="id", size=10),
            ):
                page = rows.read_page(recorder, relation, rows.validate(relation, query))
                assert len(page.rows) == 10
            selects = [(s, p) for s, p in recorder.statements if s.startswith("SELECT") and "LIMIT" in s]
            assert selects and not any("OFFSET" in s or "count(" in s for s, _ in recorder.statements)
            with psycopg.connect(shop_db) as plain:
                plain.execute("SET enable_seqscan = off")  # 120 rows: make the planner show what it would do at scale
                for statement, params in selects:
                    plan = plain.execute("EXPLAIN (FORMAT JSON) " + statement, params).fetchone()[0][0]["Plan"]
                    text = str(plan)
                    assert "Index Scan" in text and "'Node Type': 'Sort'" not in text, statement
                    assert "Index Cond" in text, statement  # the scan starts at the cursor, it does not skip rows
    finally:
        database.engine.dispose()
