"""Reading rows: keyset pages forward and back, typed filters, search, one row, rows referencing it.

Every identifier comes from the catalog and is quoted by ``psycopg.sql``;
every value the user typed is a bound parameter sent as text of unknown type,
so PostgreSQL parses it as the column's type (a bad value is a 400 naming the
column, never a string pasted into SQL). Values come back as PostgreSQL's own
text (``col::text``): what is shown is exactly what an edit sends back.

Pages never use ``OFFSET`` on tables: the next page starts after the last
row's ordering key (``WHERE (sort, key) > (…)``), served by the index that
makes the column sortable, so page 1,000 costs what page 1 costs. Views have
no key: they are paged with ``OFFSET`` up to ``VIEW_OFFSET_MAX`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from psycopg import sql

from dbops.db import one_row
from dbops.studio.catalog import CTID, KEYSET, OFFSET, TEXT_KINDS, ForeignKey, Ident, Relation
from dbops.studio.errors import NotFound, StudioError

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

MAX_PAGE_SIZE = 500
MAX_FILTERS = 12
MAX_VALUE_LENGTH = 10_000
GRID_TEXT_LIMIT = 200  # characters of a long value shown in the grid (the row page shows it whole)
VIEW_OFFSET_MAX = 10_000
COUNT_CAP = 1_000  # filtered results are counted up to this many rows
REFERENCING_CAP = 100

OPERATORS = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "contains": "contains",
    "startswith": "starts with",
    "null": "is null",
    "notnull": "is not null",
}


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str = ""


@dataclass(frozen=True)
class PageQuery:
    """What the user asked for: order, filters, search, position."""

    sort: str | None = None
    descending: bool = False
    filters: tuple[Filter, ...] = ()
    search: str = ""
    after: tuple[str | None, ...] | None = None
    before: tuple[str | None, ...] | None = None
    start: str | None = None  # jump: the first row whose sort value is >= this (<= when descending)
    size: int = 50
    offset: int = 0  # views only


@dataclass
class Row:
    values: dict[str, str | None]
    order_values: tuple[str | None, ...] = ()
    truncated: frozenset[str] = frozenset()
    version: str | None = None  # xmin: an edit or delete of a row changed meanwhile is refused

    def key(self, relation: Relation) -> dict[str, str]:
        return {k: self.values[k] or "" for k in relation.key}


@dataclass
class Page:
    relation: Relation
    query: PageQuery
    sort: str | None
    rows: list[Row]
    has_next: bool
    has_prev: bool
    count: int | None = None  # rows of the relation (estimate) or matching rows (capped count)
    count_exact: bool = False
    count_capped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def next_cursor(self) -> tuple[str | None, ...] | None:
        return self.rows[-1].order_values if self.rows and self.has_next else None

    @property
    def prev_cursor(self) -> tuple[str | None, ...] | None:
        return self.rows[0].order_values if self.rows and self.has_prev else None


# The relation's alias in page queries. ORDER BY resolves a bare name to an *output* column first
# ("id"::text is named id): the ordering keys are always qualified, so they order by the real column.
ALIAS = "r"


def _source(relation: Relation) -> sql.Composable:
    return sql.SQL("{} AS {}").format(Ident(relation.namespace, relation.name), Ident(ALIAS))


@dataclass(frozen=True)
class _Key:
    """One ordering key: a column (or ctid), its direction, whether it may be NULL."""

    name: str
    expr: sql.Composable
    descending: bool
    nullable: bool


def order_keys(relation: Relation, sort: str | None, descending: bool) -> list[_Key]:
    """The ordering of a page: the sort column, then the key (or ctid) to make it total."""
    keys: list[_Key] = []
    if sort:
        column = relation.by_name[sort]
        keys.append(_Key(sort, Ident(ALIAS, sort), descending, column.nullable))
    if relation.paging == KEYSET:
        keys += [_Key(k, Ident(ALIAS, k), descending, False) for k in relation.key if k != sort]
    elif relation.paging == CTID:
        keys.append(_Key("ctid", sql.SQL(ALIAS + ".ctid"), descending, False))
    return keys


def validate(relation: Relation, query: PageQuery) -> PageQuery:
    """Check every column and operator against the catalog; 400 with what is wrong."""
    if not 1 <= query.size <= MAX_PAGE_SIZE:
        raise StudioError(400, f"page size must be between 1 and {MAX_PAGE_SIZE}")
    if query.sort is not None:
        column = relation.column(query.sort, purpose="sorted")
        if not relation.is_view and column.name not in relation.sortable:
            allowed = ", ".join(relation.sortable) or "none"
            raise StudioError(
                400,
                f"{relation.qualified} cannot be sorted by {column.name}: no index delivers it "
                f"in order (sortable: {allowed})",
            )
        if relation.is_view and column.kind == "json":
            raise StudioError(400, f"{column.name} is JSON: it has no order")
    if len(query.filters) > MAX_FILTERS:
        raise StudioError(400, f"at most {MAX_FILTERS} filters")
    for f in query.filters:
        column = relation.column(f.column, purpose="filtered on")
        if f.op not in OPERATORS:
            raise StudioError(400, f"unknown filter operator {f.op!r} (use one of {', '.join(OPERATORS)})")
        if f.op not in column.filter_ops:
            raise StudioError(400, f"{column.name} ({column.type_name}) cannot be filtered with {OPERATORS[f.op]!r}")
        if f.op not in ("null", "notnull") and f.value == "":
            raise StudioError(400, f"filter on {column.name}: {OPERATORS[f.op]} needs a value")
        if len(f.value) > MAX_VALUE_LENGTH:
            raise StudioError(400, f"filter on {column.name}: value longer than {MAX_VALUE_LENGTH} characters")
    if len(query.search) > 200:
        raise StudioError(400, "search text longer than 200 characters")
    if query.after is not None and query.before is not None:
        raise StudioError(400, "give either after or before, not both")
    cursor = query.after if query.after is not None else query.before
    if cursor is not None:
        if relation.paging == OFFSET:
            raise StudioError(400, f"{relation.qualified} is a {relation.kind}: it is paged by page number")
        expected = len(order_keys(relation, query.sort, query.descending))
        if len(cursor) != expected:
            raise StudioError(
                400, f"the page cursor has {len(cursor)} values, this order needs {expected} (follow the page's links)"
            )
    if query.start is not None:
        if query.sort is None and relation.paging == KEYSET:
            query = PageQuery(**{**query.__dict__, "sort": relation.key[0]})
        if query.sort is None:
            raise StudioError(400, "jumping to a value needs a sort column")
    if relation.paging == OFFSET and query.offset > VIEW_OFFSET_MAX:
        raise StudioError(400, f"views are paged up to row {VIEW_OFFSET_MAX:,}: narrow the rows with a filter")
    if query.offset < 0:
        raise StudioError(400, "the page number must be positive")
    return query


def _filter_sql(relation: Relation, flt: Filter, params: list[Any]) -> sql.Composable:
    column = relation.by_name[flt.column]
    ident = Ident(column.name)
    if flt.op == "null":
        return sql.SQL("{} IS NULL").format(ident)
    if flt.op == "notnull":
        return sql.SQL("{} IS NOT NULL").format(ident)
    if flt.op in ("contains", "startswith"):
        pattern = _like_escape(flt.value)
        params.append(f"%{pattern}%" if flt.op == "contains" else f"{pattern}%")
        return sql.SQL("{}::text ILIKE %s").format(ident)
    params.append(flt.value)
    operator = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[flt.op]
    if column.kind == "json":  # json has no equality operator: compare as jsonb
        return sql.SQL("{}::jsonb " + operator + " %s::jsonb").format(ident)
    return sql.SQL("{} " + operator + " %s").format(ident)


def _like_escape(value: str) -> str:
    r"""Make ``%``, ``_`` and ``\`` literal in an ILIKE pattern.

    >>> _like_escape("50%_off\\")
    '50\\%\\_off\\\\'
    """
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_sql(relation: Relation, text: str, params: list[Any]) -> sql.Composable:
    parts = []
    for column in relation.visible:
        if column.kind in TEXT_KINDS:
            parts.append(sql.SQL("{}::text ILIKE %s").format(Ident(column.name)))
            params.append(f"%{_like_escape(text)}%")
    if text.strip().lstrip("-").isdigit() and len(text.strip()) < 19:
        for column in relation.visible:
            if column.kind == "int" and (column.name in relation.key or column.name in relation.sortable):
                parts.append(sql.SQL("{} = %s").format(Ident(column.name)))
                params.append(text.strip())
    if not parts:
        raise StudioError(400, f"{relation.qualified} has no text column to search: use a filter")
    return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))


def _where(relation: Relation, query: PageQuery, params: list[Any]) -> list[sql.Composable]:
    conditions = [_filter_sql(relation, f, params) for f in query.filters]
    if query.search:
        conditions.append(_search_sql(relation, query.search, params))
    return conditions


def _select_list(relation: Relation, keys: list[_Key], *, full: bool) -> sql.Composable:
    items = [sql.SQL("{}::text").format(k.expr) for k in keys]
    for column in relation.visible:
        ident = Ident(column.name)
        if full or column.kind in ("int", "bool", "enum", "uuid", "timestamp", "date", "time", "number"):
            items.append(sql.SQL("{}::text").format(ident))
        else:  # one character more than shown tells the page the value was cut
            items.append(sql.SQL("left({}::text, {})").format(ident, sql.Literal(GRID_TEXT_LIMIT + 1)))
    return sql.SQL(", ").join(items)


def _order_by(keys: list[_Key], *, reverse: bool) -> sql.Composable:
    parts = []
    for key in keys:
        descending = key.descending != reverse
        # PostgreSQL's defaults (NULLS LAST ascending, FIRST descending): what a plain btree index delivers.
        parts.append(sql.SQL("{} {}").format(key.expr, sql.SQL("DESC" if descending else "ASC")))
    return sql.SQL(", ").join(parts)


def _keyset_segments(
    keys: list[_Key], cursor: tuple[str | None, ...], *, backward: bool, inclusive: bool = False
) -> list[tuple[sql.Composable, list[Any]]]:
    """Conditions selecting the rows after ``cursor`` in the (possibly reversed) order, in order.

    The first key may be NULL-able: its NULLs form their own segment (last when ascending, first when
    descending, as PostgreSQL orders them). Within the non-NULL segment a row comparison
    ``(k1, k2…) > (v1, v2…)`` lets the index start right at the cursor; the other keys are NOT NULL.
    """
    first, rest = keys[0], keys[1:]
    descending = first.descending != backward
    op = sql.SQL("<" if descending else ">") if not inclusive else sql.SQL("<=" if descending else ">=")
    tail_op = sql.SQL("<" if descending else ">")
    value, rest_values = cursor[0], list(cursor[1:])
    segments: list[tuple[sql.Composable, list[Any]]] = []
    if value is None:
        # inside the NULL segment: the NULLs after the cursor by the remaining keys …
        if rest:
            cond = sql.SQL("{} IS NULL AND ({}) {} ({})").format(
                first.expr,
                sql.SQL(", ").join(k.expr for k in rest),
                tail_op,
                sql.SQL(", ").join(sql.Placeholder() for _ in rest),
            )
            segments.append((cond, rest_values))
        # … then, when NULLs come first, every non-NULL row
        if descending:
            segments.append((sql.SQL("{} IS NOT NULL").format(first.expr), []))
        return segments
    if inclusive:
        cond = sql.SQL("{} {} %s").format(first.expr, op)
        segments.append((cond, [value]))
    else:
        cond = sql.SQL("({}) {} ({})").format(
            sql.SQL(", ").join(k.expr for k in keys), op, sql.SQL(", ").join(sql.Placeholder() for _ in keys)
        )
        segments.append((cond, [value, *rest_values]))
    if first.nullable and not descending:  # NULLs come after every value
        segments.append((sql.SQL("{} IS NULL").format(first.expr), []))
    return segments


def read_page(conn: psycopg.Connection, relation: Relation, query: PageQuery, *, estimate: bool = True) -> Page:
    """One page of ``relation`` (``query`` already validated)."""
    keys = order_keys(relation, query.sort, query.descending)
    params: list[Any] = []
    where = _where(relation, query, params)
    backward = query.before is not None
    select = _select_list(relation, keys, full=False)
    source = _source(relation)
    limit = query.size + 1
    rows: list[tuple] = []
    if relation.paging == OFFSET or not keys or (query.after is None and query.before is None and query.start is None):
        statement = sql.SQL("SELECT {} FROM {}").format(select, source)
        if where:
            statement += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        if keys:
            statement += sql.SQL(" ORDER BY ") + _order_by(keys, reverse=False)
        statement += sql.SQL(" LIMIT {}").format(sql.Literal(limit))
        if relation.paging == OFFSET and query.offset:
            statement += sql.SQL(" OFFSET {}").format(sql.Literal(query.offset))
        rows = conn.execute(statement, params).fetchall()
    else:
        cursor = query.before if backward else query.after
        inclusive = False
        if cursor is None:  # a jump: start at the sort column's value
            cursor, inclusive = (query.start,), True
        for condition, values in _keyset_segments(keys, cursor, backward=backward, inclusive=inclusive):
            statement = sql.SQL("SELECT {} FROM {} WHERE {}").format(
                select, source, sql.SQL(" AND ").join([*where, condition])
            )
            statement += sql.SQL(" ORDER BY {} LIMIT {}").format(
                _order_by(keys, reverse=backward), sql.Literal(limit - len(rows))
            )
            rows += conn.execute(statement, [*params, *values]).fetchall()
            if len(rows) >= limit:
                break
    more = len(rows) > query.size
    rows = rows[: query.size]
    if backward:
        rows.reverse()
    page = Page(
        relation=relation,
        query=query,
        sort=query.sort,
        rows=[_row(relation, keys, r) for r in rows],
        has_next=True if backward else more,
        has_prev=more if backward else (query.after is not None or query.start is not None or query.offset > 0),
    )
    if relation.paging == OFFSET:
        page.has_next, page.has_prev = more, query.offset > 0
    if estimate:
        if where:
            page.count, page.count_capped = capped_count(conn, relation, where, params)
            page.count_exact = not page.count_capped
        else:
            page.count, page.count_exact = estimated_rows(conn, relation)
    return page


def _row(relation: Relation, keys: list[_Key], raw: tuple) -> Row:
    order_values = tuple(raw[: len(keys)])
    values: dict[str, str | None] = {}
    truncated = set()
    for column, value in zip(relation.visible, raw[len(keys) :], strict=True):
        if value is not None and len(value) > GRID_TEXT_LIMIT and column.kind not in ("int", "number"):
            value = value[:GRID_TEXT_LIMIT]
            truncated.add(column.name)
        values[column.name] = value
    return Row(values, order_values, frozenset(truncated))


def capped_count(
    conn: psycopg.Connection, relation: Relation, where: list[sql.Composable], params: list[Any]
) -> tuple[int | None, bool]:
    """Matching rows, counted up to COUNT_CAP (``(count, capped)``); ``None`` when it takes too long."""
    import psycopg

    statement = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) matching").format(
        Ident(relation.namespace, relation.name), sql.SQL(" AND ").join(where), sql.Literal(COUNT_CAP + 1)
    )
    try:
        with conn.transaction():  # a savepoint: a slow count must not spoil the page
            conn.execute("SET LOCAL statement_timeout = 1000")
            (count,) = one_row(conn, statement, params)
    except psycopg.errors.QueryCanceled:
        return None, True
    return min(count, COUNT_CAP), count > COUNT_CAP


_ESTIMATE = """
SELECT CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(p.reltuples, 0))::bigint
                                       FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
            WHEN c.reltuples >= 0 THEN c.reltuples::bigint END,
       CASE WHEN c.relkind = 'p' THEN (SELECT sum(p.relpages)::bigint FROM pg_partition_tree(c.oid) t
                                       JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
            ELSE c.relpages END
FROM pg_class c WHERE c.oid = %s::regclass
"""


def estimated_rows(conn: psycopg.Connection, relation: Relation) -> tuple[int | None, bool]:
    """``(rows, exact)``: the planner's estimate (``reltuples``), or an exact count of a small table."""
    from dbops.studio.catalog import EXACT_COUNT_MAX_PAGES

    if relation.kind in ("view", "foreign table"):
        return None, False
    ident = sql.Identifier(relation.namespace, relation.name).as_string(conn)
    estimate, pages = one_row(conn, _ESTIMATE, [ident])
    if pages is not None and pages <= EXACT_COUNT_MAX_PAGES:
        count_all = sql.SQL("SELECT count(*) FROM {}").format(Ident(relation.namespace, relation.name))
        (count,) = one_row(conn, count_all, [])
        return count, True
    return estimate, False


def key_condition(relation: Relation, key: dict[str, str], params: list[Any]) -> sql.Composable:
    """``k1 = %s AND k2 = %s`` for a full key given by the user (400 when it is not the relation's key)."""
    if not relation.addressable:
        raise StudioError(
            400,
            f"rows of {relation.qualified} have no key the studio can show "
            "(no primary key, or a secret one): they have no page of their own",
        )
    if set(key) != set(relation.key):
        raise StudioError(400, f"a row of {relation.qualified} is addressed by {', '.join(relation.key)}")
    params.extend(key[k] for k in relation.key)
    return sql.SQL(" AND ").join(sql.SQL("{} = %s").format(Ident(k)) for k in relation.key)


def read_row(conn: psycopg.Connection, relation: Relation, key: dict[str, str]) -> Row:
    """One row by key, whole values, with its version (``xmin``) for edits."""
    params: list[Any] = []
    condition = key_condition(relation, key, params)
    statement = sql.SQL("SELECT xmin::text, {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(Ident(c.name)) for c in relation.visible),
        Ident(relation.namespace, relation.name),
        condition,
    )
    found = conn.execute(statement, params).fetchone()
    if found is None:
        shown = ", ".join(f"{k}={v}" for k, v in key.items())
        raise NotFound(f"no row of {relation.qualified} with {shown}")
    values = dict(zip((c.name for c in relation.visible), found[1:], strict=True))
    return Row(values, version=found[0])


@dataclass
class Referencing:
    """Rows of another table pointing at a row through one foreign key."""

    namespace: str
    table: str
    columns: tuple[str, ...]
    values: tuple[str, ...]
    count: int | None
    capped: bool
    secret: bool = False


def referencing(
    conn: psycopg.Connection,
    relation: Relation,
    foreign_keys: tuple[ForeignKey, ...],
    row: Row,
    *,
    is_secret: Callable[[str, str, str], bool],
) -> list[Referencing]:
    """For each of ``foreign_keys`` (pointing at ``relation``), how many rows point at ``row`` (counted up to a cap).

    ``is_secret(namespace, table, column)`` says whether a referencing column is a secret.
    """
    out = []
    for fk in foreign_keys:
        referenced = [row.values.get(c) for c in fk.ref_columns]
        values = tuple(v for v in referenced if v is not None)
        secret = any(is_secret(fk.namespace, fk.table, c) for c in fk.columns) or any(
            relation.by_name[c].secret for c in fk.ref_columns
        )
        if secret or len(values) < len(referenced):  # a NULL in the key: nothing can point at it
            out.append(Referencing(fk.namespace, fk.table, fk.columns, (), None, False, secret=secret))
            continue
        statement = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) r").format(
            Ident(fk.namespace, fk.table),
            sql.SQL(" AND ").join(sql.SQL("{} = %s").format(Ident(c)) for c in fk.columns),
            sql.Literal(REFERENCING_CAP + 1),
        )
        (count,) = one_row(conn, statement, list(values))
        out.append(
            Referencing(
                fk.namespace, fk.table, fk.columns, values, min(count, REFERENCING_CAP), count > REFERENCING_CAP
            )
        )
    return out


@dataclass(frozen=True)
class ExportPosition:
    """Where the next export batch starts: after a keyset cursor, or at an offset (views)."""

    cursor: tuple[str | None, ...] | None
    offset: int


def export_batch(
    conn: psycopg.Connection, relation: Relation, query: PageQuery, position: ExportPosition | None, size: int
) -> tuple[list[tuple], ExportPosition | None]:
    """One batch of an export (whole values, visible columns), and where the next starts (None: done).

    Each batch is its own short transaction (the caller's), so an export never holds a
    connection between batches; a table is walked by keyset like the pages.
    """
    keys = order_keys(relation, query.sort, query.descending)
    params: list[Any] = []
    where = _where(relation, query, params)
    select = _select_list(relation, keys, full=True)
    source = _source(relation)
    offset = position.offset if position else 0
    rows: list[tuple] = []
    if relation.paging == OFFSET or not keys or position is None:
        statement = sql.SQL("SELECT {} FROM {}").format(select, source)
        if where:
            statement += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
        if keys:
            statement += sql.SQL(" ORDER BY ") + _order_by(keys, reverse=False)
        statement += sql.SQL(" LIMIT {}").format(sql.Literal(size))
        if relation.paging == OFFSET and offset:
            statement += sql.SQL(" OFFSET {}").format(sql.Literal(offset))
        rows = conn.execute(statement, params).fetchall()
    else:
        assert position.cursor is not None
        for condition, values in _keyset_segments(keys, position.cursor, backward=False):
            statement = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
                select,
                source,
                sql.SQL(" AND ").join([*where, condition]),
                _order_by(keys, reverse=False),
                sql.Literal(size - len(rows)),
            )
            rows += conn.execute(statement, [*params, *values]).fetchall()
            if len(rows) >= size:
                break
    done = len(rows) < size
    following = None if done else ExportPosition(tuple(rows[-1][: len(keys)]) if keys else None, offset + len(rows))
    return [r[len(keys) :] for r in rows], following
