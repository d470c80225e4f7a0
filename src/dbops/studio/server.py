"""The studio's HTTP server (stdlib ``http.server``, one short connection per request)."""

from __future__ import annotations

import html
import json
import secrets
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from dbops.config import mask_url
from dbops.db import connect
from dbops.studio import data

_CSS = """
body{font:14px system-ui,sans-serif;margin:0;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:18px;align-items:baseline}
header a{color:#9fd3ff;text-decoration:none}main{padding:14px 18px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d9dde5;padding:4px 8px;text-align:left;
vertical-align:top;max-width:28em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
th{background:#f2f4f8;position:sticky;top:0}th a{color:inherit}.null{color:#9aa3b2;font-style:italic}
.ro{background:#e8f5e9;color:#1b5e20;padding:2px 8px;border-radius:8px}.rw{background:#fff3e0;color:#e65100;
padding:2px 8px;border-radius:8px}form.filter{margin:0 0 10px}.pager{margin:10px 0}input[type=text]{width:24em}
"""


class Forbidden(Exception):
    """An edit without --write or without the page's token."""


class StudioServer:
    """A running studio: ``.url`` to open, ``.close()`` to stop (used by the CLI and the tests)."""

    def __init__(self, database_url: str, *, title: str = "", write: bool = False, port: int = 0) -> None:
        self.database_url = database_url
        self.title = title or "dbops studio"
        self.write = write
        self.token = secrets.token_urlsafe(24)
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> StudioServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="dbops-studio", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def connection(self) -> Any:
        conn = connect(self.database_url, autocommit=True)
        if not self.write:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        conn.execute("SET statement_timeout = '15s'")
        return conn


def serve(database_url: str, *, title: str = "", write: bool = False, port: int = 0,
          on_ready: Callable[[StudioServer], None] | None = None) -> None:
    """Serve until interrupted (``dbops studio``)."""
    server = StudioServer(database_url, title=title, write=write, port=port)
    if on_ready:
        on_ready(server)
    try:
        server.serve_forever()
    finally:
        server.httpd.server_close()


def _make_handler(studio: StudioServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "dbops-studio"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: no per-request log lines
            pass

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            segments = [s for s in parts.path.split("/") if s]
            try:
                with studio.connection() as conn:
                    self._route(conn, method, segments, query)
            except Forbidden as exc:
                self._error(HTTPStatus.FORBIDDEN, str(exc))
            except data.UnknownTable as exc:
                self._error(HTTPStatus.NOT_FOUND, f"no table {exc.args[0]!r}")
            except data.BadRequest as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
            except Exception as exc:  # the page says what failed; the server keeps running
                message = mask_url(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, message)

        def _route(self, conn: Any, method: str, seg: list[str], query: dict[str, str]) -> None:
            if method == "GET" and seg == []:
                return self._html(_index_page(studio, data.list_tables(conn)))
            if method == "GET" and seg == ["api", "tables"]:
                return self._json({"tables": data.list_tables(conn), "write": studio.write})
            if method == "GET" and len(seg) == 3 and seg[:2] == ["api", "t"]:
                page = _read(conn, seg[2], query)
                return self._json(
                    {
                        "table": page.table,
                        "columns": [c.__dict__ for c in page.columns],
                        "rows": [[_jsonable(v) for v in row] for row in page.rows],
                        "page": page.page,
                        "has_next": page.has_next,
                    }
                )
            if method == "GET" and len(seg) == 2 and seg[0] == "t":
                return self._html(_table_page(studio, _read(conn, seg[1], query), query))
            if method == "POST" and len(seg) == 4 and seg[:2] == ["api", "t"] and seg[3] == "update":
                self._require_write()
                body = json.loads(self._body() or b"{}")
                changed = data.update_row(conn, seg[2], body.get("key", {}), body.get("values", {}))
                return self._json({"updated": changed})
            if method == "POST" and len(seg) == 3 and seg[0] == "t" and seg[2] == "edit":
                self._require_write()
                form = {k: v[-1] for k, v in parse_qs(self._body().decode(), keep_blank_values=True).items()}
                key = {k[4:]: v for k, v in form.items() if k.startswith("key:")}
                values = {k[4:]: (None if form.get(f"null:{k[4:]}") else v) for k, v in form.items() if k.startswith("val:")}
                data.update_row(conn, seg[1], key, values)
                self.send_response(HTTPStatus.SEE_OTHER)
                self.send_header("Location", f"/t/{quote(seg[1])}")
                self.end_headers()
                return None
            if method == "POST":
                return self._error(HTTPStatus.METHOD_NOT_ALLOWED, "not an edit endpoint")
            return self._error(HTTPStatus.NOT_FOUND, "no such page")

        def _require_write(self) -> None:
            if not studio.write:
                raise Forbidden("the studio is read-only; restart it with --write to edit")
            token = self.headers.get("X-Dbops-Token")
            if token is None:
                form = parse_qs(self._body().decode(errors="replace"))
                token = (form.get("token") or [None])[-1]
            if not token or not secrets.compare_digest(token, studio.token):
                raise Forbidden("missing or wrong edit token (reload the page)")

        _cached_body: bytes | None = None

        def _body(self) -> bytes:
            if self._cached_body is None:
                length = int(self.headers.get("Content-Length") or 0)
                self._cached_body = self.rfile.read(length) if length else b""
            return self._cached_body

        def _send(self, status: HTTPStatus, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            self.wfile.write(payload)

        def _html(self, body: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self._send(status, "text/html; charset=utf-8", body.encode())

        def _json(self, payload: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
            self._send(status, "application/json", json.dumps(payload).encode())

        def _error(self, status: HTTPStatus, message: str) -> None:
            if self.path.startswith("/api/"):
                self._json({"error": message}, status)
            else:
                self._html(_layout(studio, "error", f"<p>{html.escape(message)}</p>"), status)

    return Handler


def _read(conn: Any, table: str, query: dict[str, str]) -> data.Page:
    try:
        page = int(query.get("page", "1"))
    except ValueError:
        raise data.BadRequest("page must be a number") from None
    return data.read_page(
        conn,
        table,
        page=page,
        order=query.get("order") or None,
        descending=query.get("desc") == "1",
        filter_column=query.get("col") or None,
        filter_value=query.get("val"),
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="null">null</span>'
    return html.escape(str(value))


def _layout(studio: StudioServer, title: str, body: str) -> str:
    mode = '<span class="rw">write</span>' if studio.write else '<span class="ro">read-only</span>'
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)} · dbops studio</title>"
        f"<style>{_CSS}</style></head><body><header><b>dbops studio</b><a href='/'>{html.escape(studio.title)}</a>"
        f"{mode}</header><main>{body}</main></body></html>"
    )


def _index_page(studio: StudioServer, tables: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><a href='/t/{quote(t['name'])}'>{html.escape(t['name'])}</a>"
        f"{' (partitioned)' if t['partitioned'] else ''}</td><td>{t['estimated_rows']:,}</td>"
        f"<td>{t['bytes'] / 1024:,.0f} kB</td></tr>"
        for t in tables
    )
    return _layout(studio, "tables", f"<h2>Tables</h2><table><tr><th>table</th><th>rows (estimate)</th>"
                                     f"<th>size</th></tr>{rows}</table>")


def _table_page(studio: StudioServer, page: data.Page, query: dict[str, str]) -> str:
    base = {k: v for k, v in query.items() if k in ("col", "val")}
    head = ""
    for col in page.columns:
        desc = "1" if page.order == col.name and not page.descending else "0"
        link = f"/t/{quote(page.table)}?" + urlencode({**base, "order": col.name, "desc": desc})
        arrow = (" ↓" if page.descending else " ↑") if page.order == col.name else ""
        head += f"<th><a href='{html.escape(link)}' title='{html.escape(col.type)}'>{html.escape(col.name)}</a>{arrow}</th>"
    pk = [i for i, c in enumerate(page.columns) if c.primary_key]
    body = ""
    for row in page.rows:
        cells = "".join(f"<td>{_cell(v)}</td>" for v in row)
        if studio.write and pk:
            cells += f"<td>{_edit_form(studio, page, row, pk)}</td>"
        body += f"<tr>{cells}</tr>"
    options = "".join(
        f"<option{' selected' if page.filter and page.filter[0] == c.name else ''}>{html.escape(c.name)}</option>"
        for c in page.columns
    )
    value = html.escape(page.filter[1]) if page.filter else ""
    filter_form = (
        f"<form class=filter method=get><select name=col><option value=''>filter…</option>{options}</select> = "
        f"<input type=text name=val value='{value}'> <button>apply</button></form>"
    )
    nav = []
    params = {**base, "order": page.order, "desc": "1" if page.descending else "0"}
    if page.page > 1:
        nav.append(f"<a href='?{html.escape(urlencode({**params, 'page': page.page - 1}))}'>← previous</a>")
    nav.append(f"page {page.page}")
    if page.has_next:
        nav.append(f"<a href='?{html.escape(urlencode({**params, 'page': page.page + 1}))}'>next →</a>")
    edit_head = "<th>edit</th>" if studio.write and pk else ""
    return _layout(
        studio,
        page.table,
        f"<h2>{html.escape(page.table)}</h2>{filter_form}<table><tr>{head}{edit_head}</tr>{body}</table>"
        f"<div class=pager>{' · '.join(nav)}</div>",
    )


def _edit_form(studio: StudioServer, page: data.Page, row: tuple, pk: list[int]) -> str:
    keys = "".join(
        f"<input type=hidden name='key:{html.escape(page.columns[i].name)}' value='{html.escape(str(row[i]))}'>" for i in pk
    )
    fields = "".join(
        f"<label>{html.escape(c.name)} <input type=text name='val:{html.escape(c.name)}' "
        f"value='{html.escape('' if v is None else str(v))}'></label><br>"
        for c, v in zip(page.columns, row, strict=True)
        if not c.primary_key and not data.SENSITIVE.search(c.name)
    )
    return (
        f"<details><summary>edit</summary><form method=post action='/t/{quote(page.table)}/edit'>"
        f"<input type=hidden name=token value='{studio.token}'>{keys}{fields}<button>save</button></form></details>"
    )
