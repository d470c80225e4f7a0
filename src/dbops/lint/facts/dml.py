"""Data statements: INSERT/UPDATE/DELETE/MERGE (also inside WITH), SELECT, COPY.

>>> from dbops.lint.facts import analyse_sql
>>> s = analyse_sql("UPDATE ONLY public.users SET a = 1")
>>> (s.kind.value, s.table, s.slow)
('update', 'users', True)
>>> s = analyse_sql("INSERT INTO t VALUES (1)")
>>> (s.kind.value, s.table, s.slow)
('insert', 't', False)
>>> analyse_sql("WITH x AS (SELECT 1) DELETE FROM t USING x").kind.value
'delete'
"""

from __future__ import annotations

from typing import Any, cast

from dbops.lint import locks as L
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.facts.tokens import Token, index_of, parse, read_name, top_words, up, upper_words
from dbops.lint.sqltext import RawStatement

# First keyword -> (kind, index of the target table's name).
_WRITES = {"UPDATE": (Kind.UPDATE, 1), "DELETE": (Kind.DELETE, 2), "INSERT": (Kind.INSERT, 2),
           "MERGE": (Kind.UPDATE, 2)}


def read(stmt: Stmt, raw: RawStatement, text: str, first: str) -> None:
    """INSERT/UPDATE/DELETE/MERGE/WITH/SELECT/VALUES/TABLE/COPY …."""
    toks = raw.tokens
    if first in ("SELECT", "VALUES", "TABLE"):
        _select(stmt, toks)
    elif first == "COPY":
        _copy(stmt, toks)
    elif first == "WITH":
        _with(stmt, toks, text)
    else:
        _write(stmt, toks, first)


def _select(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.SELECT
    upper = top_words(toks)
    if "INTO" in upper and "FROM" in upper and upper.index("INTO") < upper.index("FROM"):
        stmt.kind = Kind.CREATE_TABLE  # SELECT … INTO new_table
        stmt.table, stmt.display, _ = read_name(toks, index_of(toks, "INTO") + 1)


def _copy(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.INSERT
    stmt.table, stmt.display, _ = read_name(toks, 1)
    upper = upper_words(toks)
    if "TO" in upper and "FROM" not in upper:
        stmt.kind = Kind.SELECT
    stmt.lock = L.ROW_EXCLUSIVE


def _write(stmt: Stmt, toks: list[Token], first: str) -> None:
    stmt.kind, i = _WRITES[first]
    if i < len(toks) and up(toks[i]) == "ONLY":
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    if stmt.table is None:
        stmt.unanalysed = f"{first} without a target table"
        return
    stmt.lock = L.ROW_EXCLUSIVE
    # INSERT … VALUES writes a few rows; INSERT … SELECT, UPDATE, DELETE, MERGE may touch many.
    stmt.slow = "SELECT" in top_words(toks) if stmt.kind is Kind.INSERT else True


def _with(stmt: Stmt, toks: list[Token], text: str) -> None:
    """A WITH query: the first data-modifying statement in sqlglot's tree decides the kind."""
    from sqlglot import exp

    tree = parse(toks, text)
    kinds: dict[type, Kind] = {exp.Update: Kind.UPDATE, exp.Delete: Kind.DELETE, exp.Insert: Kind.INSERT,
                               exp.Merge: Kind.UPDATE}
    if not isinstance(tree, (exp.Select, exp.Union, *kinds)):
        stmt.unanalysed = "WITH query that sqlglot cannot parse"
        return
    stmt.source = "sqlglot"
    found = next((node for node in cast(Any, tree).walk() if type(node) in kinds), None)
    if found is None:
        stmt.kind = Kind.SELECT
        return
    stmt.kind = kinds[type(found)]
    _target(stmt, found.this)
    stmt.lock = L.ROW_EXCLUSIVE
    stmt.slow = True


def _target(stmt: Stmt, target: Any) -> None:
    from sqlglot import exp

    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table):
        stmt.table = target.name if target.this.quoted else target.name.lower()
        stmt.display = target.sql("postgres")
