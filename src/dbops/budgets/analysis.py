"""Static analysis of one hot query with sqlglot: what each table reference asks of an index.

``analyze(sql, catalog)`` parses and qualifies the query against the
catalog, then, scope by scope (subqueries and CTEs are scopes of their own),
extracts per table reference its equality filters, range filters, join keys
and ORDER BY, turns them into a ``Need`` and finds the index serving it. It
also decides tenant isolation (is every tenant-owned table pinned to one
tenant, directly or through joins?), and records ``SELECT *``, unbounded
lists, functions on indexed columns and leading-wildcard patterns. It reports
facts; ``dbops.budgets.static`` turns them into findings.

>>> from dbops.budgets.catalog import Catalog, Index, TableInfo
>>> users = TableInfo("users", {"id": "BIGINT", "clinic_id": "BIGINT", "name": "TEXT", "role_type": "TEXT"},
...                   (Index("users_pkey", "users", ("id",), unique=True), Index("ix", "users", ("clinic_id",))))
>>> cat = Catalog({"users": users}, tenant_key="clinic_id", tenant_table="clinics")
>>> a = analyze("SELECT id FROM users WHERE clinic_id = :c AND role_type = 'DOCTOR' LIMIT 5", cat)
>>> access = a.accesses[0]
>>> access.need.equal, access.served, sorted(access.match.missing), access.isolated
(('clinic_id', 'role_type'), False, ['role_type'], True)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.budgets.catalog import Catalog
from dbops.budgets.indexing import Match, Need, best_match, trigram_index
from dbops.budgets.sqlnorm import (
    DIALECT,
    conjunct_key,
    inside_subquery,
    is_constant,
    normalize,
    split_conjuncts,
    unwrap,
)
from dbops.errors import first_line

if TYPE_CHECKING:
    from sqlglot import exp


class AnalysisError(Exception):
    """The query does not fit the schema (unknown table or column); ``line`` is 1-based within the SQL."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class ColumnRef:
    """A column of a table reference: ``alias.name``."""

    alias: str
    name: str

    def __str__(self) -> str:
        return f"{self.alias}.{self.name}"


@dataclass(frozen=True)
class Predicate:
    """One indexable condition on one table reference.

    ``kind`` is ``eq`` (``=`` constant, ``IS NULL``, boolean), ``in`` (``IN``,
    ``= ANY``), ``range`` (``<``, ``>=``, ``BETWEEN``, row comparisons),
    ``join`` (``=`` a column of another reference; ``other`` names it) or
    ``like``. ``key`` is the column, or the normalised expression when the
    column is wrapped in a function or cast (``function`` is then True).
    ``fixed`` marks a comparison with a literal (a partial index can absorb it).
    """

    alias: str
    key: str
    kind: str
    column: str
    conjunct: str
    function: bool = False
    fixed: bool = False
    other: ColumnRef | None = None
    node: Any = field(default=None, compare=False, hash=False, repr=False)
    pattern: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def line(self) -> int | None:
        return line_of(self.node)


@dataclass
class TableAccess:
    """One table reference in one scope, what it needs and what serves it."""

    alias: str
    table: str
    driver: bool
    need: Need
    predicates: list[Predicate]
    match: Match | None
    line: int | None = None
    isolated: bool | None = None  # None: not a tenant-owned table
    depth: int = 0

    @property
    def served(self) -> bool:
        return self.match is not None and self.match.served

    @property
    def index_name(self) -> str | None:
        return self.match.index.name if self.served and self.match else None


@dataclass
class QueryAnalysis:
    """Everything the static check needs to know about one query."""

    accesses: list[TableAccess] = field(default_factory=list)
    select_star: list[int | None] = field(default_factory=list)  # lines
    unbounded: bool = False
    functions: list[Predicate] = field(default_factory=list)  # function/cast on an indexed column
    wildcards: list[tuple[Predicate, str]] = field(default_factory=list)  # (predicate, pattern seen)
    tables: set[str] = field(default_factory=set)


def parse(sql: str) -> exp.Expression:
    """Parse one statement (PostgreSQL dialect, ``:name`` parameters); raises sqlglot.ParseError.

    >>> parse("SELECT 1 WHERE :x = 1").sql()
    'SELECT 1 WHERE :x = 1'
    """
    import sqlglot

    statements = [s for s in sqlglot.parse(sql, dialect=DIALECT) if s is not None]
    if len(statements) != 1 or not isinstance(statements[0], sqlglot.exp.Expression):
        raise sqlglot.ParseError(f"expected exactly one statement, found {len(statements)}")
    return statements[0]


def tables_read(tree: exp.Expression) -> set[str]:
    """Names of the tables a query reads (CTE names excluded).

    >>> sorted(tables_read(parse("WITH x AS (SELECT * FROM a) SELECT * FROM x JOIN b ON true")))
    ['a', 'b']
    """
    from sqlglot import exp

    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}


def line_of(node: exp.Expression | None) -> int | None:
    """The 1-based line (within the SQL text) where a node starts, when sqlglot recorded it."""
    if node is None:
        return None
    from sqlglot import exp

    for candidate in node.walk():
        if isinstance(candidate, exp.Identifier | exp.Literal) and candidate.meta.get("line"):
            return int(candidate.meta["line"])
        for child in candidate.args.values():
            if isinstance(child, exp.Identifier) and child.meta.get("line"):
                return int(child.meta["line"])
    return None


def qualify_query(tree: exp.Expression, catalog: Catalog) -> exp.Expression:
    """Resolve every column to its table reference (``"u"."clinic_id"``); AnalysisError when impossible."""
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    unknown = sorted(tables_read(tree) - set(catalog.tables))
    if unknown:
        raise AnalysisError(f"unknown table {unknown[0]!r} (not in the schema's models)", _table_line(tree, unknown[0]))
    try:
        return qualify(
            tree.copy(),
            schema=catalog.mapping_schema,
            dialect=DIALECT,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
    except OptimizeError as exc:
        raise AnalysisError(first_line(exc)) from None


def _table_line(tree: exp.Expression, name: str) -> int | None:
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        if table.name == name:
            return line_of(table)
    return None


def select_star_lines(tree: exp.Expression, sql: str | None = None) -> list[int | None]:
    r"""Lines of ``SELECT *`` / ``SELECT t.*`` projections (``count(*)`` is fine).

    The line comes from the ``*`` token when the SQL text is given (sqlglot
    keeps no position on a star), else from the statement's first name.

    >>> select_star_lines(parse("SELECT count(*) FROM t")), select_star_lines(parse("SELECT t.* FROM t"))
    ([], [1])
    >>> select_star_lines(parse("SELECT a,\n  *\nFROM t"), "SELECT a,\n  *\nFROM t")
    [2]
    """
    from sqlglot import exp

    count = 0
    fallback: list[int | None] = []
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or (
                isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
            ):
                count += 1
                fallback.append(line_of(select))
    if not count or sql is None:
        return fallback
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.tokens import TokenType

    tokens = Postgres().tokenize(sql)
    lines: list[int | None] = [
        tok.line
        for prev, tok in itertools.pairwise(tokens)
        if tok.token_type == TokenType.STAR
        and prev.token_type in (TokenType.SELECT, TokenType.DISTINCT, TokenType.COMMA, TokenType.DOT)
    ]
    return lines if len(lines) == count else fallback


# -- predicates --------------------------------------------------------------------------------------


def _side(node: exp.Expression, tables: Mapping[str, str]) -> tuple[str, str, str, bool] | None:
    """(alias, key, column, is_function) when ``node`` reads columns of exactly one reference of this scope."""
    from sqlglot import exp

    node = unwrap(node)
    if isinstance(node, exp.Column):
        if node.table in tables:
            return node.table, node.name, node.name, False
        return None
    if isinstance(node, exp.Subquery | exp.Select | exp.Tuple):
        return None
    columns = [c for c in node.find_all(exp.Column) if not inside_subquery(c, node)]
    aliases = {c.table for c in columns}
    if len(aliases) == 1 and columns and columns[0].table in tables:
        return columns[0].table, normalize(node), columns[0].name, True
    return None


def _is_literal(node: exp.Expression) -> bool:
    from sqlglot import exp

    node = unwrap(node)
    while isinstance(node, exp.Cast):
        node = unwrap(node.this)
    return isinstance(node, exp.Literal | exp.Boolean | exp.Null)


def predicates(condition: exp.Expression, tables: Mapping[str, str], *, conjunct: str | None = None) -> list[Predicate]:
    """The indexable predicates of one condition (a WHERE/ON conjunct) of a qualified query.

    ``tables`` maps the scope's aliases to table names; a column of another
    alias (an outer query) counts as a join key. ``conjunct`` is the condition's
    ``conjunct_key`` when the caller already has it.

    >>> from sqlglot import parse_one
    >>> [(p.alias, p.key, p.kind) for p in predicates(parse_one("a.x = 1"), {"a": "t"})]
    [('a', 'x', 'eq')]
    >>> [(p.key, p.kind, str(p.other)) for p in predicates(parse_one("a.x = b.y"), {"a": "t", "b": "u"})]
    [('x', 'join', 'b.y'), ('y', 'join', 'a.x')]
    >>> [(p.key, p.kind) for p in predicates(parse_one("(a.c, a.id) < (:c, :id)"), {"a": "t"})]
    [('c', 'range')]
    >>> [(p.key, p.kind, p.function) for p in predicates(parse_one("lower(a.email) = :e"), {"a": "t"})]
    [('LOWER(email)', 'eq', True)]
    """
    from sqlglot import exp

    node = unwrap(condition)
    conj = conjunct if conjunct is not None else conjunct_key(node)

    def make(side: tuple[str, str, str, bool], kind: str, origin: exp.Expression, **kw: Any) -> Predicate:
        alias, key, column, function = side
        return Predicate(alias, key, kind, column, conj, function, node=origin, **kw)

    if isinstance(node, exp.Column):
        side = _side(node, tables)
        return [make(side, "eq", node, fixed=True)] if side else []
    if isinstance(node, exp.Not) and isinstance(unwrap(node.this), exp.Column):
        side = _side(node.this, tables)
        return [make(side, "eq", node, fixed=True)] if side else []
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null | exp.Boolean):
        side = _side(node.this, tables)
        return [make(side, "eq", node, fixed=True)] if side else []
    if isinstance(node, exp.Between):
        side = _side(node.this, tables)
        if side and is_constant(node.args["low"]) and is_constant(node.args["high"]):
            return [make(side, "range", node)]
        return []
    if isinstance(node, exp.In):
        side = _side(node.this, tables)
        values = node.expressions
        if side and (node.args.get("query") is not None or all(is_constant(v) for v in values)):
            return [make(side, "in", node)]
        return []
    if isinstance(node, exp.Like | exp.ILike):
        side = _side(node.this, tables)
        return [make(side, "like", node, pattern=node.expression)] if side else []
    if isinstance(node, exp.EQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
        return _comparison(node, tables, make)
    return []


_FLIPPED = {"GT": "LT", "LT": "GT", "GTE": "LTE", "LTE": "GTE", "EQ": "EQ"}


def _comparison(node: exp.Expression, tables: Mapping[str, str], make: Any) -> list[Predicate]:
    from sqlglot import exp

    left, right = unwrap(node.this), unwrap(node.expression)
    op = type(node).__name__
    if is_constant(left) and not is_constant(right):
        left, right, op = right, left, _FLIPPED[op]
    if isinstance(left, exp.Tuple) and isinstance(right, exp.Tuple) and is_constant(right):
        sides = [_side(e, tables) for e in left.expressions]
        if not sides or any(s is None or s[3] for s in sides):
            return []
        if op == "EQ":
            return [make(s, "eq", e) for s, e in zip(sides, left.expressions, strict=True)]
        return [make(sides[0], "range", left.expressions[0])]
    if op == "EQ" and isinstance(left, exp.Column) and isinstance(right, exp.Column):
        lside, rside = _side(left, tables), _side(right, tables)
        out = []
        if lside and (rside is None or rside[0] != lside[0]):
            out.append(make(lside, "join", node, other=ColumnRef(right.table, right.name)))
        if rside and (lside is None or rside[0] != lside[0]):
            out.append(make(rside, "join", node, other=ColumnRef(left.table, left.name)))
        return out
    side = _side(left, tables)
    if side is None or not is_constant(right):
        return []
    if op == "EQ":
        kind = "in" if isinstance(right, exp.Any) else "eq"
        return [make(side, kind, node, fixed=_is_literal(right))]
    return [make(side, "range", node)]


def filter_columns(tree: exp.Expression) -> set[ColumnRef]:
    """The columns of a qualified SELECT that its WHERE/JOIN conditions filter or join on.

    >>> from sqlglot import parse_one
    >>> q = parse_one("SELECT a.id FROM t AS a JOIN u AS b ON b.id = a.u_id WHERE a.k = 1 AND a.n LIKE 'x%'")
    >>> sorted(map(str, filter_columns(q)))
    ['a.k', 'a.n', 'a.u_id', 'b.id']
    """
    from sqlglot import exp

    tables = {t.alias_or_name: t.name for t in tree.find_all(exp.Table)}
    return {ColumnRef(p.alias, p.column) for c in _conditions(tree) for p in predicates(c, tables)}


def _conditions(select: exp.Expression) -> list[exp.Expression]:
    from sqlglot import exp

    where = select.args.get("where")
    conditions = split_conjuncts(where.this if where is not None else None)
    for join in select.args.get("joins") or []:
        if isinstance(join, exp.Join):
            conditions += split_conjuncts(join.args.get("on"))
    return conditions


# -- the query ---------------------------------------------------------------------------------------


def analyze(
    sql: str | exp.Expression,
    catalog: Catalog,
    *,
    residual: Iterable[str] = (),
    allow_sort: bool = False,
    samples: Sequence[Mapping[str, Any]] = (),
) -> QueryAnalysis:
    """Facts about a query against a catalog (see the module docstring).

    ``residual`` lists ``table.column`` filters declared as evaluated after
    the index (low-selectivity columns); ``allow_sort`` accepts an ORDER BY
    that the index does not serve (a sort of the few rows it finds);
    ``samples`` are parameter sets, used to see whether a ``LIKE :pattern``
    starts with a wildcard.
    """
    from sqlglot.optimizer.scope import traverse_scope

    tree = parse(sql) if isinstance(sql, str) else sql
    result = QueryAnalysis(select_star=select_star_lines(tree, sql if isinstance(sql, str) else None),
                           tables=tables_read(tree))
    qualified = qualify_query(tree, catalog)
    options = _Options(
        residual={tuple(r.split(".", 1)) for r in residual if "." in r}, allow_sort=allow_sort, samples=samples
    )
    isolated_by_scope: dict[int, set[str]] = {}
    for depth, scope in enumerate(reversed(traverse_scope(qualified))):  # outermost first
        outer: set[str] = set()
        parent = scope.parent
        while parent is not None:
            outer |= isolated_by_scope.get(id(parent), set())
            parent = parent.parent
        isolated_by_scope[id(scope)] = _analyze_scope(scope, depth, catalog, options, outer, result)
    return result


@dataclass(frozen=True)
class _Options:
    residual: set[tuple[str, ...]]
    allow_sort: bool
    samples: Sequence[Mapping[str, Any]]


def _analyze_scope(
    scope: Any, depth: int, catalog: Catalog, options: _Options, outer_isolated: set[str], result: QueryAnalysis
) -> set[str]:
    """Add one SELECT scope's table accesses (and smells) to ``result``; return its isolated aliases."""
    from sqlglot import exp

    select = scope.expression
    if not isinstance(select, exp.Select):
        return set()
    tables = {alias: source.name for alias, source in scope.sources.items() if isinstance(source, exp.Table)}
    if not tables:
        return set()
    conditions = _conditions(select)
    keys = [conjunct_key(c) for c in conditions]
    preds = [p for c, key in zip(conditions, keys, strict=True) for p in predicates(c, tables, conjunct=key)]
    conjuncts = _single_alias_conjuncts(conditions, keys, tables)
    limited = bool(select.args.get("limit") or select.args.get("fetch"))
    join_order = _join_order(select, preds)
    driver = join_order[0] if join_order else None
    order = _order_keys(select, tables)
    isolated = _isolated_aliases(tables, preds, catalog, outer_isolated)
    for alias, table in tables.items():
        info = catalog.tables[table]
        mine = [p for p in preds if p.alias == alias]
        functions = [p for p in mine if p.function and p.kind in ("eq", "in", "range")
                     and not _expression_indexed(p.key, info.indexes) and _column_indexed(p.column, info.indexes)]
        result.functions.extend(functions)
        # Join keys count when they point at a reference read before this one (the nested-loop
        # lookup an index must serve), or at an outer query's row (a correlated subquery).
        before = set(join_order[: join_order.index(alias)]) if alias in join_order else set()
        usable = [p for p in mine if p not in functions and (
            p.kind != "join" or (p.other is not None and (p.other.alias in before or p.other.alias not in tables)))]
        alias_order = order if (alias == driver and limited and not options.allow_sort and order
                                and all(a == alias for a, _, _ in order)) else ()
        need = _need(table, usable, alias_order, conjuncts.get(alias, set()), catalog, options.residual)
        for p in mine:
            if p.kind == "like":
                seen = _leading_wildcard(p.pattern, options.samples)
                if seen is not None and trigram_index(info.indexes, p.column) is None:
                    result.wildcards.append((p, seen))
        result.accesses.append(
            TableAccess(
                alias=alias,
                table=table,
                driver=alias == driver,
                need=need,
                predicates=mine,
                match=best_match(need, info.indexes) if not need.is_empty() else None,
                line=line_of(scope.sources[alias]),
                isolated=(alias in isolated) if catalog.tenant_column(table) else None,
                depth=depth,
            )
        )
    if scope.is_root:
        result.unbounded = _unbounded(select, limited, result.accesses, driver)
    return isolated


def _join_order(select: exp.Expression, preds: list[Predicate]) -> list[str]:
    """The table references in the order a plan would read them: the driver first — the first
    reference (FROM, then JOINs) with a condition on a constant — then the others in query order."""
    from sqlglot import exp

    from_ = select.args.get("from_") or select.args.get("from")
    order = [from_.this.alias_or_name] if from_ is not None and isinstance(from_.this, exp.Table) else []
    order += [j.this.alias_or_name for j in select.args.get("joins") or [] if isinstance(j.this, exp.Table)]
    filtered = {p.alias for p in preds if p.kind in ("eq", "in", "range")}
    driver = next((alias for alias in order if alias in filtered), order[0] if order else None)
    return [driver, *(alias for alias in order if alias != driver)] if driver else order


def _single_alias_conjuncts(
    conditions: list[exp.Expression], keys: list[str], tables: Mapping[str, str]
) -> dict[str, set[str]]:
    from sqlglot import exp

    out: dict[str, set[str]] = {}
    for condition, key in zip(conditions, keys, strict=True):
        aliases = {c.table for c in condition.find_all(exp.Column)}
        if len(aliases) == 1:
            (alias,) = aliases
            if alias in tables:
                out.setdefault(alias, set()).add(key)
    return out


def _order_keys(select: exp.Expression, tables: Mapping[str, str]) -> tuple[tuple[str, str, bool], ...]:
    """ORDER BY as (alias, key, descending); empty when an item is not a column/expression of one reference."""
    from sqlglot import exp

    order = select.args.get("order")
    if not order:
        return ()
    projections = {p.alias: p.this for p in select.expressions if isinstance(p, exp.Alias)}
    keys = []
    for ordered in order.expressions:
        node = unwrap(ordered.this)
        if isinstance(node, exp.Column) and not node.table and node.name in projections:
            node = unwrap(projections[node.name])
        side = _side(node, tables)
        if side is None:
            return ()
        keys.append((side[0], side[1], bool(ordered.args.get("desc"))))
    return tuple(keys)


def _need(
    table: str,
    preds: list[Predicate],
    order: tuple[tuple[str, str, bool], ...],
    conjuncts: set[str],
    catalog: Catalog,
    residual: set[tuple[str, ...]],
) -> Need:
    kinds = ("eq", "in", "join")
    equal = list(dict.fromkeys(p.key for p in preds if p.kind in kinds))
    ranges = list(dict.fromkeys(p.key for p in preds if p.kind == "range"))
    optional = {k for k in equal if (table, k) in residual}
    ranges = [k for k in ranges if (table, k) not in residual]
    tenant = catalog.tenant_column(table)
    info = catalog.tables[table]
    if tenant in equal and tenant not in optional:
        others = [k for k in equal if k != tenant]
        if any(_determines_tenant(k, info.foreign_keys, catalog) for k in others):
            optional.add(tenant)
    equal = [k for k in equal if k not in optional]
    fixed = frozenset((p.key, p.conjunct) for p in preds if p.kind == "eq" and p.fixed)
    return Need(
        table=table,
        equal=tuple(equal),
        optional=frozenset(optional),
        range=tuple(ranges),
        order=tuple((key, desc) for _, key, desc in order),
        fixed=fixed,
        conjuncts=frozenset(conjuncts),
    )


def _determines_tenant(key: str, foreign_keys: Mapping[str, str], catalog: Catalog) -> bool:
    """A key whose value fixes the tenant: the row's id, or a foreign key to a tenant-owned table."""
    if key == "id":
        return True
    target = foreign_keys.get(key)
    return target is not None and target != catalog.tenant_table and catalog.tenant_column(target) is not None


def _isolated_aliases(
    tables: Mapping[str, str], preds: list[Predicate], catalog: Catalog, outer_isolated: set[str]
) -> set[str]:
    """References pinned to one tenant: tenant column equal to a constant (through any chain of
    equalities), or joined by equality to a reference that is (outer query references included)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    bound: set[str] = set()
    for p in preds:
        if p.kind == "join" and p.other is not None and not p.function:
            parent[find(f"{p.alias}.{p.key}")] = find(str(p.other))
    for p in preds:
        if p.kind in ("eq", "in") and not p.function:
            bound.add(f"{p.alias}.{p.key}")
    bound_roots = {find(b) for b in bound}
    isolated = set()
    for alias, table in tables.items():
        column = catalog.tenant_column(table)
        if column and find(f"{alias}.{column}") in bound_roots:
            isolated.add(alias)
    changed = True
    while changed:
        changed = False
        for p in preds:
            if p.kind != "join" or p.other is None or p.alias in isolated:
                continue
            if p.other.alias in isolated or (p.other.alias not in tables and p.other.alias in outer_isolated):
                isolated.add(p.alias)
                changed = True
    return isolated


def _expression_indexed(key: str, indexes: Iterable[Any]) -> bool:
    return any(key in index.keys for index in indexes)


def _column_indexed(column: str, indexes: Iterable[Any]) -> bool:
    return any(column in index.keys for index in indexes)


def _leading_wildcard(pattern: exp.Expression | None, samples: Sequence[Mapping[str, Any]]) -> str | None:
    """The pattern text when it starts with ``%`` or ``_`` (a literal, a parameter's sample value, or ``'%' || …``)."""
    from sqlglot import exp

    if pattern is None:
        return None
    node = unwrap(pattern)
    while isinstance(node, exp.DPipe | exp.Concat):
        node = unwrap(node.this if isinstance(node, exp.DPipe) else node.expressions[0])
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this if node.this.startswith(("%", "_")) else None
    if isinstance(node, exp.Placeholder):
        for sample in samples:
            value = sample.get(node.name)
            if isinstance(value, str) and value.startswith(("%", "_")):
                return value
    return None


def _unbounded(select: exp.Expression, limited: bool, accesses: list[TableAccess], driver: str | None) -> bool:
    """A row list with no LIMIT that is neither an aggregate nor a single-row lookup."""
    from sqlglot import exp

    if limited or select.args.get("group"):
        return False
    for projection in select.expressions:
        for agg in projection.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.Window) is None:
                return False
    for access in accesses:
        if access.alias == driver and access.depth == 0 and access.match and access.match.tail == "unique":
            return False
    return True
