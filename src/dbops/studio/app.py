"""The studio's web application: routes, database pools, pages.

Each request: the guard (``guards.StudioGuard``) has checked Host, token,
origin and body; the handler parses its parameters, waits for a slot (a cap
on concurrent database work), runs one transaction in a worker thread — read
only unless it is a write of a ``--write`` studio — on a connection of a small
pool whose sessions carry ``statement_timeout``, builds the page's context
there, and renders a Jinja2 template.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dbops.config import mask_url
from dbops.errors import DatabaseUnavailable
from dbops.studio import edits, rows
from dbops.studio.catalog import KEYSET, OFFSET, Catalog, ForeignKey, Relation, driver
from dbops.studio.errors import StudioError
from dbops.studio.guards import StudioGuard
from dbops.studio.secrets import SecretRules

if TYPE_CHECKING:
    import jinja2
    import psycopg
    import sqlalchemy as sa
    from starlette.types import ASGIApp

T = TypeVar("T")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Target:
    """One database the studio serves: a dbops schema (healthcare, fashion) and its URL."""

    name: str
    url: str
    local: bool = False  # dbops' own local database (its URL is a unix socket)


@dataclass(frozen=True)
class StudioOptions:
    """How the studio behaves; the defaults suit a developer's machine."""

    write: bool = False
    secret_columns: tuple[str, ...] = ()
    statement_timeout_ms: int = 5_000
    lock_timeout_ms: int = 2_000
    page_size: int = 50
    pool_size: int = 4  # connections per database
    pool_timeout: float = 10.0  # seconds a request waits for a connection before a 503
    max_concurrent: int = 8  # requests doing database work at once; more wait (up to queue_timeout)
    queue_timeout: float = 10.0
    max_connections: int = 64  # open HTTP connections (uvicorn's limit_concurrency): more get a 503
    body_limit: int = 1 << 20
    body_timeout: float = 10.0
    export_limit: int = 100_000


class Database:
    """The pool of one target: small, every session with timeouts, read-only unless ``--write``."""

    def __init__(self, target: Target, options: StudioOptions) -> None:
        import sqlalchemy as sa

        from dbops.config import sqlalchemy_url

        self.target = target
        self.options = options
        self.engine: sa.Engine = sa.create_engine(
            sqlalchemy_url(target.url),
            creator=self._connect,
            pool_size=options.pool_size,
            max_overflow=0,
            pool_timeout=options.pool_timeout,
        )

    def _connect(self) -> psycopg.Connection:
        from dbops.db import connect

        conn = connect(self.target.url, autocommit=True, application_name="dbops studio", connect_timeout=5)
        settings = {
            "statement_timeout": str(self.options.statement_timeout_ms),
            "lock_timeout": str(self.options.lock_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(self.options.statement_timeout_ms * 4, 30_000)),
            "DateStyle": "ISO, YMD",
            "IntervalStyle": "postgres",
        }
        if not self.options.write:
            settings["default_transaction_read_only"] = "on"
        for name, value in settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", [name, value])
        conn.autocommit = False
        return conn

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[sa.Connection]:
        """One transaction: committed when ``write``, else READ ONLY and rolled back."""
        with self.engine.connect() as conn:
            transaction = conn.begin()
            try:
                if not write and self.options.write:  # else every session is read-only already
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
                if write:
                    transaction.commit()
                else:
                    transaction.rollback()
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise


class Studio:
    """What every request shares: the databases, the options, the limiter, the templates."""

    def __init__(self, targets: list[Target], options: StudioOptions) -> None:
        if not targets:
            raise ValueError("the studio needs at least one database")
        self.targets = targets
        self.options = options
        self.rules = SecretRules(tuple(options.secret_columns))
        self.databases = {t.name: Database(t, options) for t in targets}
        self._limiter: asyncio.Semaphore | None = None
        self.templates = _templates()

    def check_connections(self) -> None:
        """Connect once to every target (DatabaseUnavailable, exit 3, when one cannot be reached)."""
        for database in self.databases.values():
            with database.transaction(write=False) as conn:
                conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        for database in self.databases.values():
            database.engine.dispose()

    def database(self, schema: str) -> Database:
        try:
            return self.databases[schema]
        except KeyError:
            raise StudioError(
                404, f"no schema {schema!r} in this studio (serving {', '.join(self.databases)})"
            ) from None

    async def run(self, schema: str, work: Callable[[psycopg.Connection, Catalog], T], *, write: bool = False) -> T:
        """Run ``work(connection, catalog)`` in one transaction in a worker thread, within the concurrency cap."""
        database = self.database(schema)
        if self._limiter is None:
            self._limiter = asyncio.Semaphore(self.options.max_concurrent)
        try:
            async with asyncio.timeout(self.options.queue_timeout):
                await self._limiter.acquire()
        except TimeoutError:
            raise StudioError(503, "the studio is busy (too many requests at once): try again") from None
        try:
            return await run_in_threadpool(self._work, database, work, write)
        finally:
            self._limiter.release()

    def _work(self, database: Database, work: Callable[[psycopg.Connection, Catalog], T], write: bool) -> T:
        try:
            with database.transaction(write=write) as conn:
                return work(driver(conn), Catalog(conn, database.target.name, self.rules))
        except StudioError:
            raise
        except Exception as exc:
            mapped = map_error(exc, database.target, self.options)
            if mapped is None:
                raise
            raise mapped from None


def map_error(exc: BaseException, target: Target, options: StudioOptions) -> StudioError | None:
    """The HTTP answer to a database failure (None: a bug, shown as a 500 with one line)."""
    import psycopg
    import sqlalchemy.exc

    if isinstance(exc, DatabaseUnavailable):
        return StudioError(503, f"{target.name}: {exc.message}")
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return StudioError(503, f"{target.name}: every connection of the studio's pool is busy: try again")
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if not isinstance(exc, psycopg.Error):
        return None
    message = edits.database_message(exc)
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StudioError(
            504,
            f"the query took longer than the studio's statement_timeout "
            f"({options.statement_timeout_ms / 1000:g} s): narrow it with a filter on an indexed column",
        )
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return StudioError(409, "the row is locked by another transaction: try again in a moment")
    if isinstance(exc, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)):
        return StudioError(409, f"{message}: try again")
    if isinstance(exc, (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
        return StudioError(403, message)
    if isinstance(
        exc, (psycopg.errors.DataError, psycopg.errors.IntegrityError, psycopg.errors.SyntaxErrorOrAccessRuleViolation)
    ):
        return StudioError(400, message)
    if isinstance(exc, psycopg.OperationalError):
        return StudioError(503, f"{target.name}: the database connection failed: {mask_url(message)}")
    return StudioError(500, f"database error: {mask_url(message)}")


# -- request parsing ---------------------------------------------------------------------------------------


def _segment(request: Request, name: str) -> str:
    """A path parameter, percent-decoded (the router sees the raw path)."""
    return unquote(request.path_params[name])


def _int_param(params: Any, name: str, default: int, *, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise StudioError(400, f"{name} must be a whole number from {low:,} to {high:,} (got {raw[:40]!r})")
    return int(raw)


def encode_cursor(values: tuple[str | None, ...] | None) -> str | None:
    return None if values is None else json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def decode_cursor(raw: str | None) -> tuple[str | None, ...] | None:
    """A page cursor from the URL: a JSON list of text values (or nulls) of the ordering keys."""
    if raw is None or raw == "":
        return None
    if len(raw) > 8192:
        raise StudioError(400, "page cursor too long: follow the page's links")
    try:
        values = json.loads(raw)
    except ValueError:
        raise StudioError(400, "malformed page cursor: follow the page's links") from None
    if not isinstance(values, list) or not values or not all(v is None or isinstance(v, str) for v in values):
        raise StudioError(400, "malformed page cursor: follow the page's links")
    return tuple(values)


def page_query(request: Request, default_size: int) -> PageQueryParams:
    params = request.query_params
    direction = params.get("dir", "asc")
    if direction not in ("asc", "desc"):
        raise StudioError(400, f"dir must be asc or desc (got {direction[:40]!r})")
    columns, ops, values = params.getlist("fc"), params.getlist("fo"), params.getlist("fv")
    if not (len(columns) == len(ops) == len(values)):
        raise StudioError(400, "each filter needs fc (column), fo (operator) and fv (value)")
    filters = tuple(rows.Filter(c, o, v) for c, o, v in zip(columns, ops, values, strict=True) if c)
    size = _int_param(params, "n", default_size, low=1, high=rows.MAX_PAGE_SIZE)
    number = _int_param(params, "page", 1, low=1, high=10**9)
    start = params.get("from")
    query = rows.PageQuery(
        sort=params.get("sort") or None,
        descending=direction == "desc",
        filters=filters,
        search=params.get("q", "").strip(),
        after=decode_cursor(params.get("after")),
        before=decode_cursor(params.get("before")),
        start=start if start not in (None, "") else None,
        size=size,
    )
    return PageQueryParams(query, number)


@dataclass(frozen=True)
class PageQueryParams:
    query: rows.PageQuery
    number: int  # the page number shown (views: the OFFSET page)


def _row_key(request: Request) -> dict[str, str]:
    key = {name[2:]: value for name, value in request.query_params.multi_items() if name.startswith("k.")}
    if not key:
        raise StudioError(400, "which row? give its key as k.<column>=<value>")
    return key


async def _form(request: Request) -> list[tuple[str, str]]:
    body = await request.body()
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=2_000)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StudioError(400, f"unreadable form: {exc}") from None


# -- links -------------------------------------------------------------------------------------------------


def q(value: str) -> str:
    """A path segment: every character that is not unreserved is percent-encoded ('/' too)."""
    return quote(value, safe="")


@dataclass(frozen=True)
class Links:
    """URLs of the studio's pages (templates build every link through these)."""

    schema: str

    def tables(self, schema: str | None = None) -> str:
        return f"/{q(schema or self.schema)}/"

    def table(self, namespace: str, name: str, params: list[tuple[str, str]] | dict[str, str] | None = None) -> str:
        base = f"/{q(self.schema)}/t/{q(namespace)}/{q(name)}"
        items = list(params.items()) if isinstance(params, dict) else list(params or [])
        items = [(k, v) for k, v in items if v not in (None, "")]
        return base + (f"?{urlencode(items)}" if items else "")

    def row(self, namespace: str, name: str, key: Mapping[str, str | None], action: str = "row") -> str:
        params = urlencode([(f"k.{k}", v if v is not None else "") for k, v in key.items()])
        return f"/{q(self.schema)}/t/{q(namespace)}/{q(name)}/{action}?{params}"

    def filtered(self, namespace: str, name: str, columns: tuple[str, ...], values: tuple[str | None, ...]) -> str:
        params: list[tuple[str, str]] = []
        for column, value in zip(columns, values, strict=True):
            params += [("fc", column), ("fo", "eq" if value is not None else "null"), ("fv", value or "")]
        return self.table(namespace, name, params)

    def reference(self, fk: ForeignKey, values: dict[str, str | None]) -> str | None:
        """The row a foreign key points at (None when one of its columns is NULL)."""
        refs = [values.get(c) for c in fk.columns]
        if any(v is None for v in refs):
            return None
        return self.row(fk.ref_namespace, fk.ref_table, dict(zip(fk.ref_columns, refs, strict=True)))

    def new(self, namespace: str, name: str) -> str:
        return f"/{q(self.schema)}/t/{q(namespace)}/{q(name)}/new"


def state_params(query: rows.PageQuery, *, keep_position: bool = False) -> list[tuple[str, str]]:
    """The query-string of a table page's state (order, filters, search, size), for links that change one part."""
    params: list[tuple[str, str]] = []
    if query.sort:
        params.append(("sort", query.sort))
    if query.descending:
        params.append(("dir", "desc"))
    for f in query.filters:
        params += [("fc", f.column), ("fo", f.op), ("fv", f.value)]
    if query.search:
        params.append(("q", query.search))
    if query.size != 50:
        params.append(("n", str(query.size)))
    return params


@dataclass(frozen=True)
class TableNav:
    """The links of a table page: sorting, pages forward and back, filters, export."""

    links: Links
    relation: Relation
    query: rows.PageQuery
    number: int

    @property
    def base(self) -> str:
        return self.links.table(self.relation.namespace, self.relation.name)

    def _url(self, params: list[tuple[str, str]]) -> str:
        return self.links.table(self.relation.namespace, self.relation.name, params)

    @property
    def sortable(self) -> tuple[str, ...]:
        if self.relation.is_view and not self.relation.sortable:  # a view has no index: any orderable column
            return tuple(c.name for c in self.relation.visible if c.kind != "json")
        return self.relation.sortable

    def sort_link(self, column: str) -> str:
        state = [(k, v) for k, v in state_params(self.query) if k not in ("sort", "dir")]
        descending = self.query.sort == column and not self.query.descending
        return self._url([*state, ("sort", column), *([("dir", "desc")] if descending else [])])

    def next_link(self, page: rows.Page) -> str:
        state = state_params(self.query)
        if self.relation.paging == OFFSET:
            return self._url([*state, ("page", str(self.number + 1))])
        return self._url(
            [
                *state,
                ("after", encode_cursor(page.next_cursor) or ""),
                ("page", str(self.number + 1) if not self.query.start else ""),
            ]
        )

    def prev_link(self, page: rows.Page) -> str:
        state = state_params(self.query)
        if self.relation.paging == OFFSET or (self.number == 2 and not self.query.start):
            return self._url([*state, ("page", str(self.number - 1) if self.number > 2 else "")])
        return self._url(
            [
                *state,
                ("before", encode_cursor(page.prev_cursor) or ""),
                ("page", str(self.number - 1) if not self.query.start else ""),
            ]
        )

    @property
    def first(self) -> str:
        return self._url(state_params(self.query))

    @property
    def clear_filters(self) -> str:
        return self._url([(k, v) for k, v in state_params(self.query) if k not in ("fc", "fo", "fv")])

    def export(self, fmt: str) -> str:
        base = f"{self.base}/export"
        return base + "?" + urlencode([*state_params(self.query), ("format", fmt)])

    @property
    def jump_column(self) -> str | None:
        if self.relation.paging != KEYSET:
            return None
        return self.query.sort or self.relation.key[0]


# -- pages -------------------------------------------------------------------------------------------------


DONE_MESSAGES = {"saved": "Saved.", "inserted": "Row inserted.", "deleted": "Row deleted."}


class Pages:
    """The route handlers (one method per page)."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    def render(self, request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        schema = context.get("schema") or self.studio.targets[0].name
        base = {
            "request": request,
            "targets": self.studio.targets,
            "schema": schema,
            "write": self.studio.options.write,
            "links": Links(schema),
            "operators": rows.OPERATORS,
            "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
        }
        html = self.studio.templates.get_template(template).render({**base, **context})
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, exc: StudioError, schema: str | None = None) -> HTMLResponse:
        return self.render(
            request,
            "error.html",
            {
                "message": exc.message,
                "status": exc.status,
                "schema": schema if schema in self.studio.databases else None,
            },
            status=exc.status,
        )

    async def home(self, request: Request) -> Response:
        return RedirectResponse(Links(self.studio.targets[0].name).tables(), status_code=303)

    async def tables(self, request: Request) -> Response:
        schema = _segment(request, "schema")
        try:
            stats = await self.studio.run(schema, lambda conn, catalog: catalog.tables())
        except StudioError as exc:
            return self.error(request, exc, schema)
        namespaces: dict[str, list] = {}
        for item in stats:
            namespaces.setdefault(item.namespace, []).append(item)
        return self.render(request, "tables.html", {"schema": schema, "namespaces": namespaces})

    async def table(self, request: Request) -> Response:
        schema, namespace, name = _segment(request, "schema"), _segment(request, "ns"), _segment(request, "table")
        try:
            parsed = page_query(request, self.studio.options.page_size)
        except StudioError as exc:
            return self.error(request, exc, schema)

        def work(conn: psycopg.Connection, catalog: Catalog) -> dict[str, Any]:
            relation = catalog.relation(namespace, name)
            query = parsed.query
            if relation.paging == OFFSET:
                query = replace(query, offset=(parsed.number - 1) * query.size)
            try:
                query = rows.validate(relation, query)
                page = rows.read_page(conn, relation, query)
            except Exception as exc:
                if not isinstance(exc, StudioError):  # PostgreSQL refused a value the user typed?
                    exc = map_error(exc, self.studio.databases[schema].target, self.studio.options) or exc
                if not isinstance(exc, StudioError) or exc.status != 400:
                    raise exc from None
                # the page with the error above it, and the user's filters kept in the form
                return {"relation": relation, "page": None, "query": parsed.query, "error": exc.message}
            return {"relation": relation, "page": page, "query": query, "error": None}

        try:
            context = await self.studio.run(schema, work)
        except StudioError as exc:
            return self.error(request, exc, schema)
        query = context["query"]
        context.update(
            schema=schema,
            number=parsed.number,
            state=state_params(query),
            jumped=query.start is not None,
            blank_filter=rows.Filter("", "eq", ""),
            nav=TableNav(Links(schema), context["relation"], query, parsed.number),
        )
        return self.render(request, "table.html", context, status=400 if context["error"] else 200)

    async def row(self, request: Request) -> Response:
        schema, namespace, name = _segment(request, "schema"), _segment(request, "ns"), _segment(request, "table")
        try:
            key = _row_key(request)
        except StudioError as exc:
            return self.error(request, exc, schema)
        form: list[tuple[str, str]] | None = None
        if request.method == "POST":
            try:
                form = await _form(request)
            except StudioError as exc:
                return self.error(request, exc, schema)
        form_fields: dict[str, edits.FieldInput] = {}
        error: StudioError | None = None

        def save(conn: psycopg.Connection, catalog: Catalog) -> None:
            relation = catalog.relation(namespace, name)
            fields = edits.parse_fields(relation, form or [], insert=False)
            form_fields.update(fields)
            version = dict(form or []).get("version", "")
            edits.update_row(conn, relation, key, version, fields)

        if form is not None:
            try:
                await self.studio.run(schema, save, write=True)
                return RedirectResponse(Links(schema).row(namespace, name, key) + "&done=saved", status_code=303)
            except StudioError as exc:
                if exc.status not in (400, 409):
                    return self.error(request, exc, schema)
                error = exc
                if not form_fields:  # the form itself was refused: show what was sent
                    form_fields = _raw_fields(form)

        def show(conn: psycopg.Connection, catalog: Catalog) -> dict[str, Any]:
            relation = catalog.relation(namespace, name)
            if set(key) != set(relation.key) or not relation.addressable:
                return {
                    "redirect": Links(schema).filtered(namespace, name, tuple(key), tuple(key.values()))
                    if all(k in relation.by_name and not relation.by_name[k].secret for k in key)
                    else None,
                    "relation": relation,
                }
            row = rows.read_row(conn, relation, key)
            referencing = rows.referencing(
                conn,
                relation,
                catalog.referenced_by(relation),
                row,
                is_secret=lambda ns, table, column: self.studio.rules.is_secret(schema, ns, table, column),
            )
            return {"relation": relation, "row": row, "referencing": referencing}

        try:
            context = await self.studio.run(schema, show)
        except StudioError as exc:
            return self.error(request, exc, schema)
        if "redirect" in context:
            if context["redirect"] is None:
                return self.error(
                    request,
                    StudioError(
                        400,
                        f"a row of {context['relation'].qualified} is addressed "
                        f"by {', '.join(context['relation'].key) or 'nothing'}",
                    ),
                    schema,
                )
            return RedirectResponse(context["redirect"], status_code=303)
        context.update(schema=schema, key=key, error=error, fields=form_fields)
        return self.render(request, "row.html", context, status=error.status if error else 200)

    async def new(self, request: Request) -> Response:
        schema, namespace, name = _segment(request, "schema"), _segment(request, "ns"), _segment(request, "table")
        error: StudioError | None = None
        form_fields: dict[str, edits.FieldInput] = {}
        if request.method == "POST":
            try:
                form = await _form(request)
            except StudioError as exc:
                return self.error(request, exc, schema)

            def insert(conn: psycopg.Connection, catalog: Catalog) -> dict[str, str]:
                relation = catalog.relation(namespace, name)
                fields = edits.parse_fields(relation, form, insert=True)
                form_fields.update(fields)
                return edits.insert_row(conn, relation, fields)

            try:
                key = await self.studio.run(schema, insert, write=True)
                links = Links(schema)
                target = (
                    links.row(namespace, name, key) + "&done=inserted"
                    if key
                    else (links.table(namespace, name, {"done": "inserted"}))
                )
                return RedirectResponse(target, status_code=303)
            except StudioError as exc:
                if exc.status not in (400, 409):
                    return self.error(request, exc, schema)
                error = exc
                if not form_fields:
                    form_fields = _raw_fields(form)
        elif not self.studio.options.write:
            return self.error(
                request,
                StudioError(403, "the studio is read-only: restart it with `dbops studio --write` to insert rows"),
                schema,
            )
        try:
            relation = await self.studio.run(schema, lambda conn, catalog: catalog.relation(namespace, name))
        except StudioError as exc:
            return self.error(request, exc, schema)
        if relation.is_view:
            return self.error(
                request,
                StudioError(400, f"{relation.qualified} is a {relation.kind}: rows are inserted into its tables"),
                schema,
            )
        return self.render(
            request,
            "new.html",
            {"schema": schema, "relation": relation, "error": error, "fields": form_fields},
            status=error.status if error else 200,
        )

    async def delete(self, request: Request) -> Response:
        schema, namespace, name = _segment(request, "schema"), _segment(request, "ns"), _segment(request, "table")
        try:
            key = _row_key(request)
        except StudioError as exc:
            return self.error(request, exc, schema)
        if not self.studio.options.write:
            return self.error(
                request,
                StudioError(403, "the studio is read-only: restart it with `dbops studio --write` to delete rows"),
                schema,
            )
        error: StudioError | None = None
        if request.method == "POST":
            try:
                form = dict(await _form(request))
            except StudioError as exc:
                return self.error(request, exc, schema)

            def remove(conn: psycopg.Connection, catalog: Catalog) -> None:
                relation = catalog.relation(namespace, name)
                edits.delete_row(conn, relation, key, form.get("version", ""))

            try:
                await self.studio.run(schema, remove, write=True)
                return RedirectResponse(Links(schema).table(namespace, name, {"done": "deleted"}), status_code=303)
            except StudioError as exc:
                if exc.status not in (400, 409):
                    return self.error(request, exc, schema)
                error = exc

        def show(conn: psycopg.Connection, catalog: Catalog) -> dict[str, Any]:
            relation = catalog.relation(namespace, name)
            row = rows.read_row(conn, relation, key)
            referencing = rows.referencing(
                conn,
                relation,
                catalog.referenced_by(relation),
                row,
                is_secret=lambda ns, table, column: self.studio.rules.is_secret(schema, ns, table, column),
            )
            return {"relation": relation, "row": row, "referencing": referencing}

        try:
            context = await self.studio.run(schema, show)
        except StudioError as exc:
            return self.error(request, exc, schema)
        context.update(schema=schema, key=key, error=error)
        return self.render(request, "delete.html", context, status=error.status if error else 200)

    async def export(self, request: Request) -> Response:
        schema, namespace, name = _segment(request, "schema"), _segment(request, "ns"), _segment(request, "table")
        fmt = request.query_params.get("format", "csv")
        try:
            if fmt not in ("csv", "json"):
                raise StudioError(400, f"format must be csv or json (got {fmt[:20]!r})")
            parsed = page_query(request, rows.MAX_PAGE_SIZE)
            limit = _int_param(
                request.query_params,
                "limit",
                self.studio.options.export_limit,
                low=1,
                high=self.studio.options.export_limit,
            )

            def prepare(conn: psycopg.Connection, catalog: Catalog) -> tuple[Relation, rows.PageQuery]:
                relation = catalog.relation(namespace, name)
                return relation, rows.validate(relation, replace(parsed.query, after=None, before=None, start=None))

            relation, query = await self.studio.run(schema, prepare)
        except StudioError as exc:
            return self.error(request, exc, schema)
        columns = [c.name for c in relation.visible]

        async def chunks() -> AsyncIterator[str]:
            if fmt == "csv":
                yield csv_line(columns)
            position: rows.ExportPosition | None = None
            sent = 0
            while sent < limit:
                size = min(1000, limit - sent)
                batch, position = await self.studio.run(
                    schema, partial(_export_batch, relation=relation, query=query, position=position, size=size)
                )
                buffer = io.StringIO()
                if fmt == "csv":
                    buffer.writelines(csv_line(values) for values in batch)
                else:
                    for values in batch:
                        buffer.write(json.dumps(dict(zip(columns, values, strict=True)), ensure_ascii=False) + "\n")
                yield buffer.getvalue()
                sent += len(batch)
                if position is None:
                    return

        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
        filename = f"{relation.name}.{'csv' if fmt == 'csv' else 'ndjson'}"
        return StreamingResponse(
            chunks(),
            media_type=media,
            headers={
                "content-disposition": f"attachment; filename*=UTF-8''{q(filename)}",
            },
        )


def csv_line(values: Sequence[str | None]) -> str:
    r"""One CSV record as PostgreSQL's COPY writes it: NULL is an empty field, the empty string is ``""``.

    >>> csv_line(["1", None, "", 'say "hi", bye'])
    '1,,"","say ""hi"", bye"\r\n'
    """
    fields = []
    for value in values:
        if value is None:
            fields.append("")
        elif value == "" or any(ch in value for ch in ',"\r\n') or value != value.strip():
            fields.append('"' + value.replace('"', '""') + '"')
        else:
            fields.append(value)
    return ",".join(fields) + "\r\n"


def _export_batch(
    conn: psycopg.Connection,
    catalog: Catalog,
    *,
    relation: Relation,
    query: rows.PageQuery,
    position: rows.ExportPosition | None,
    size: int,
) -> tuple[list[tuple], rows.ExportPosition | None]:
    return rows.export_batch(conn, relation, query, position, size)


def _raw_fields(form: list[tuple[str, str]]) -> dict[str, edits.FieldInput]:
    """The fields as sent, for re-showing a refused form (no catalog checks)."""
    values: dict[str, str] = {}
    nulls, defaults = set(), set()
    for name, value in form:
        prefix, _, column = name.partition(".")
        if prefix == "v":
            values[column] = value
        elif prefix == "n":
            nulls.add(column)
        elif prefix == "d":
            defaults.add(column)
    return {c: edits.FieldInput(values.get(c, ""), c in nulls, c in defaults) for c in {*values, *nulls, *defaults}}


# -- templates ---------------------------------------------------------------------------------------------


def _templates() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["urlq"] = q
    env.filters["size"] = human_size
    env.filters["pretty_json"] = pretty_json
    env.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int) else "?"
    return env


def human_size(size: int | None) -> str:
    """
    >>> human_size(0), human_size(8192), human_size(5 * 1024**3)
    ('0 B', '8 kB', '5.0 GB')
    """
    if size is None:
        return ""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size // 1024} kB" if size >= 1024 else f"{size} B"


def pretty_json(text: str | None) -> str:
    if text is None:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


# -- the application ---------------------------------------------------------------------------------------


@dataclass
class StudioApp:
    """The ASGI application (guard + Starlette) and the studio behind it."""

    asgi: ASGIApp
    studio: Studio
    token: str
    port: int
    extra: dict[str, Any] = field(default_factory=dict)


def create_app(targets: list[Target], options: StudioOptions, *, port: int, token: str) -> StudioApp:
    """The studio's ASGI application for ``127.0.0.1:port``, requiring ``token``."""
    studio = Studio(targets, options)
    pages = Pages(studio)
    table = "/{schema}/t/{ns}/{table}"
    routes = [
        Route("/", pages.home),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        Route("/{schema}/", pages.tables),
        Route(table, pages.table),
        Route(table + "/row", pages.row, methods=["GET", "POST"]),
        Route(table + "/new", pages.new, methods=["GET", "POST"]),
        Route(table + "/delete", pages.delete, methods=["GET", "POST"]),
        Route(table + "/export", pages.export),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return pages.error(request, StudioError(404, "no such page"))

    async def server_error(request: Request, exc: Exception) -> Response:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return pages.error(request, StudioError(500, f"internal error: {type(exc).__name__}: {mask_url(text)}"))

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, 500: server_error})
    guarded = StudioGuard(
        app,
        port=port,
        token=token,
        write=options.write,
        body_limit=options.body_limit,
        body_timeout=options.body_timeout,
    )
    return StudioApp(guarded, studio, token, port)
