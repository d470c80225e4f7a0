"""Small normalisations of sqlglot trees, shared by the catalog and the analysis.

Index keys, index predicates and query predicates are compared as strings:
the SQL of an expression with table qualifiers, identifier quotes and casts
of literals removed, so ``LOWER("u"."email")`` in a query and
``lower(users.email)`` in an index definition compare equal.

>>> normalize(parse_expression('LOWER("u"."email")'))
'LOWER(email)'
>>> conjunct_key(parse_expression("u.is_active"))
'is_active = TRUE'
>>> conjunct_key(parse_expression("NOT (deleted_at IS NULL)"))
'deleted_at IS NOT NULL'
>>> conjunct_key(parse_expression("'CANCELLED'::appointment_status <> status"))
"status <> 'CANCELLED'"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

DIALECT = "postgres"


def parse_expression(sql: str) -> exp.Expression:
    """Parse one PostgreSQL expression (not a statement).

    >>> parse_expression("a + 1").sql()
    'a + 1'
    """
    import sqlglot

    return sqlglot.parse_one(sql, dialect=DIALECT, into=_expression_type())


def _expression_type() -> type:
    from sqlglot import exp

    return exp.Condition


def unwrap(node: exp.Expression) -> exp.Expression:
    """``(x)`` → ``x`` (any depth).

    >>> unwrap(parse_expression("((a))")).sql()
    'a'
    """
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    return node


def split_conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    """The AND-ed conditions of a WHERE/ON clause, parentheses removed.

    >>> [c.sql() for c in split_conjuncts(parse_expression("a = 1 AND (b > 2 AND c)"))]
    ['a = 1', 'b > 2', 'c']
    """
    from sqlglot import exp

    if node is None:
        return []
    node = unwrap(node)
    if isinstance(node, exp.And):
        return split_conjuncts(node.this) + split_conjuncts(node.expression)
    return [node]


def normalize(node: exp.Expression) -> str:
    """The comparable SQL of an expression: no table qualifiers, no quotes, no casts of literals.

    >>> normalize(parse_expression('CAST("a"."created_at" AS DATE)'))
    'CAST(created_at AS DATE)'
    >>> normalize(parse_expression("'x'::text"))
    "'x'"
    """
    from sqlglot import exp

    def strip(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and n.args.get("table") is not None:
            return exp.column(n.name)
        if isinstance(n, exp.Identifier):
            return exp.to_identifier(n.name)
        if isinstance(n, exp.Cast) and isinstance(unwrap(n.this), (exp.Literal, exp.Boolean, exp.Null)):
            return unwrap(n.this).copy()
        if isinstance(n, exp.Paren) and isinstance(n.this, (exp.Column, exp.Literal)):
            return n.this.copy()
        return n

    return unwrap(node).transform(strip).sql(dialect=DIALECT)  # transform copies the tree


_FLIP = {"GT": "LT", "LT": "GT", "GTE": "LTE", "LTE": "GTE", "EQ": "EQ", "NEQ": "NEQ"}


def conjunct_key(node: exp.Expression) -> str:
    """A canonical string for one condition, to match index predicates against queries.

    Booleans become ``col = TRUE``/``col = FALSE``; a constant on the left of
    a comparison moves to the right.

    >>> conjunct_key(parse_expression("NOT is_active"))
    'is_active = FALSE'
    >>> conjunct_key(parse_expression("is_active IS TRUE"))
    'is_active = TRUE'
    >>> conjunct_key(parse_expression("5 < t.x"))
    'x > 5'
    """
    from sqlglot import exp

    node = unwrap(node)
    if isinstance(node, exp.Column):
        return f"{normalize(node)} = TRUE"
    if isinstance(node, exp.Not):
        inner = unwrap(node.this)
        if isinstance(inner, exp.Column):
            return f"{normalize(inner)} = FALSE"
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return f"{normalize(inner.this)} IS NOT NULL"
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Boolean):
        return f"{normalize(node.this)} = {'TRUE' if node.expression.this else 'FALSE'}"
    if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
        left, right = unwrap(node.this), unwrap(node.expression)
        if is_constant(left) and not is_constant(right):
            flipped = getattr(exp, _FLIP[type(node).__name__])(this=right.copy(), expression=left.copy())
            return normalize(flipped)
    return normalize(node)


def is_constant(node: exp.Expression) -> bool:
    """True when the expression reads no column (literals, parameters, ``now()``, uncorrelated subqueries).

    >>> is_constant(parse_expression(":since - INTERVAL '1 day'"))
    True
    >>> is_constant(parse_expression("a + 1"))
    False
    """
    from sqlglot import exp

    if isinstance(node, exp.Subquery | exp.Select):
        return True
    return all(inside_subquery(column, node) for column in node.find_all(exp.Column))


def inside_subquery(column: exp.Expression, root: exp.Expression) -> bool:
    from sqlglot import exp

    parent = column.parent
    while parent is not None and parent is not root:
        if isinstance(parent, exp.Select | exp.Subquery):
            return True
        parent = parent.parent
    return False
