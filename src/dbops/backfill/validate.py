"""Validation of ``--set`` and ``--where`` with sqlglot, before any database work.

Both are expressions, never statements: a ``;`` anywhere (outside string
literals) is refused, so is anything sqlglot does not read as exactly one
``SET`` list / one condition. Column names outside subqueries must exist in
the table. The SQL that runs is regenerated from the parsed tree (comments
dropped), so text cannot comment out the batch's key range.

>>> assignments("email_lower = lower(email)", {"id", "email", "email_lower"}, key="id")
[('email_lower', 'LOWER(email)')]
>>> condition("email_lower IS NULL", {"id", "email", "email_lower"})
'email_lower IS NULL'
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from dbops.errors import InputError, first_line

if TYPE_CHECKING:
    from sqlglot import exp

_PLACEHOLDER = "__dbops_backfill_target"
_DML = ("Insert", "Update", "Delete", "Merge", "Command", "Create", "Drop")


def _reject_statement_separators(text: str, option: str) -> None:
    import sqlglot
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    if not text.strip():
        raise InputError("is empty", location=option, hint=_hint(option))
    try:
        tokens = sqlglot.Dialect.get_or_raise("postgres").tokenize(text)
    except TokenError as exc:
        raise InputError(f"is not valid SQL: {exc}", location=option, hint=_hint(option)) from None
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise InputError("must be an expression, not statements (found ';')", location=option,
                         hint=_hint(option))


def _hint(option: str) -> str:
    if option == "--set":
        return 'give one or more assignments, e.g. --set "email_lower = lower(email)"'
    return 'give one condition, e.g. --where "email_lower IS NULL"'


def _check_tree(tree: exp.Expr, columns: Collection[str], option: str, table: str | None) -> None:
    """No DML inside; every column reference outside a subquery exists in the table."""
    from sqlglot import exp

    for node in tree.walk():
        if type(node).__name__ in _DML and node is not tree:
            raise InputError(f"may not contain a {type(node).__name__.upper()} statement", location=option,
                             hint=_hint(option))
        if isinstance(node, exp.Column):
            if node.find_ancestor(exp.Select) is not None:
                continue  # inside a subquery: PostgreSQL checks it (EXPLAIN before the first batch)
            if node.table and node.table not in (table, _PLACEHOLDER):
                raise InputError(
                    f"{node.sql('postgres')} refers to another table; only columns of {table} "
                    "(or subqueries) are allowed", location=option, hint=_hint(option))
            if node.name not in columns:
                raise InputError(
                    f"column {node.name!r} does not exist in {table or 'the table'}",
                    location=option, hint=f"columns: {', '.join(sorted(columns))}",
                )


def assignments(text: str, columns: Collection[str], *, key: str, table: str | None = None) -> list[tuple[str, str]]:
    """``col = expr[, col2 = expr2]`` → ``[(col, regenerated expr SQL), ...]``.

    >>> assignments("a = 1; DROP TABLE t", {"id", "a"}, key="id")
    Traceback (most recent call last):
    dbops.errors.InputError: must be an expression, not statements (found ';')
    >>> assignments("id = id + 1", {"id"}, key="id")
    Traceback (most recent call last):
    dbops.errors.InputError: may not change the key column 'id' the backfill walks
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    option = "--set"
    _reject_statement_separators(text, option)
    try:
        trees = sqlglot.parse(f"UPDATE {_PLACEHOLDER} SET {text}", read="postgres")
    except ParseError as exc:
        raise InputError(f"is not valid SQL: {first_line(exc)}", location=option, hint=_hint(option)) from None
    tree = trees[0] if len(trees) == 1 else None
    extra = tree is not None and any(v for k, v in tree.args.items() if k not in ("this", "expressions"))
    if not isinstance(tree, exp.Update) or extra or not tree.expressions:
        raise InputError("must be only `column = expression` assignments (no WHERE, FROM, RETURNING)",
                         location=option, hint=_hint(option))
    out: list[tuple[str, str]] = []
    for item in tree.expressions:
        if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column) or item.this.table:
            raise InputError(f"{item.sql('postgres')!r} is not `column = expression`", location=option,
                             hint=_hint(option))
        target = item.this.name
        if target not in columns:
            raise InputError(f"column {target!r} does not exist in {table or 'the table'}", location=option,
                             hint=f"columns: {', '.join(sorted(columns))}")
        if target == key:
            raise InputError(f"may not change the key column {key!r} the backfill walks", location=option,
                             hint="backfill another column")
        if target in (name for name, _ in out):
            raise InputError(f"assigns {target!r} twice", location=option, hint=_hint(option))
        _check_tree(item.expression, columns, option, table)
        out.append((target, item.expression.sql("postgres", comments=False)))
    return out


def condition(text: str, columns: Collection[str], *, table: str | None = None) -> str:
    """One boolean condition on the table's columns → its regenerated SQL.

    >>> condition("a IS NULL) OR (TRUE", {"a"})
    Traceback (most recent call last):
    dbops.errors.InputError: is not one condition: a IS NULL) OR (TRUE
    >>> condition("nope > 1", {"a"})
    Traceback (most recent call last):
    dbops.errors.InputError: column 'nope' does not exist in the table
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    option = "--where"
    _reject_statement_separators(text, option)
    try:
        tree = sqlglot.parse_one(text, read="postgres", into=exp.Condition)
    except ParseError:
        raise InputError(f"is not one condition: {text}", location=option, hint=_hint(option)) from None
    if isinstance(tree, (exp.Query, exp.DDL, exp.DML, exp.Command)):
        raise InputError("must be a condition, not a statement", location=option, hint=_hint(option))
    _check_tree(tree, columns, option, table)
    return tree.sql("postgres", comments=False)


