"""DROP and TRUNCATE: the relations they lock and how (CONCURRENTLY, CASCADE).

>>> from dbops.lint.facts import analyse_sql
>>> s = analyse_sql("DROP INDEX CONCURRENTLY IF EXISTS a_idx, public.b_idx")
>>> (s.kind.value, s.concurrently, s.if_exists, list(s.index_names), s.display)
('drop_index', True, True, ['a_idx', 'b_idx'], 'a_idx, public.b_idx')
>>> s = analyse_sql("TRUNCATE TABLE ONLY a, b RESTART IDENTITY CASCADE")
>>> (list(s.tables), s.option)
(['a', 'b'], 'CASCADE')
"""

from __future__ import annotations

from dbops.lint import locks as L
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.facts.tokens import Token, name_after, names_list, skip_words, strip_tail, up
from dbops.lint.sqltext import RawStatement


def read(stmt: Stmt, raw: RawStatement, text: str, first: str) -> None:
    """DROP … or TRUNCATE …."""
    if first == "TRUNCATE":
        truncate(stmt, raw.tokens)
    else:
        drop(stmt, raw.tokens)


def drop(stmt: Stmt, toks: list[Token]) -> None:
    what = up(toks[1]) if len(toks) > 1 else ""
    body, stmt.option = strip_tail(toks, ("CASCADE", "RESTRICT"))
    if what == "INDEX":
        _drop_index(stmt, body)
    elif what in ("TABLE", "FOREIGN") or (what == "MATERIALIZED" and len(toks) > 2):
        _drop_table(stmt, body, 2 if what == "TABLE" else 3)
        if what == "MATERIALIZED":
            stmt.kind = Kind.DROP_VIEW
    elif what == "VIEW":
        stmt.kind = Kind.DROP_VIEW
        stmt.lock = L.ACCESS_EXCLUSIVE
    else:
        stmt.kind = Kind.OTHER  # DROP FUNCTION/TYPE/TRIGGER/…: no table lock worth a rule, except ON table
        if what in ("TRIGGER", "POLICY", "RULE"):
            stmt.table, stmt.display = name_after(body, "ON")
            if stmt.table:
                stmt.lock = L.ACCESS_EXCLUSIVE


def _if_exists(stmt: Stmt, body: list[Token], i: int) -> int:
    if skip_words(body, i, "IF", "EXISTS") != i:
        stmt.if_exists = True
        return i + 2
    return i


def _drop_index(stmt: Stmt, body: list[Token]) -> None:
    stmt.kind = Kind.DROP_INDEX
    i = 2
    if i < len(body) and up(body[i]) == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    names = names_list(body, _if_exists(stmt, body, i))
    stmt.index_names = [n for n, _ in names]
    stmt.index_name = stmt.index_names[0] if names else None
    stmt.display = ", ".join(d for _, d in names)
    stmt.lock = L.SHARE_UPDATE_EXCLUSIVE if stmt.concurrently else L.ACCESS_EXCLUSIVE


def _drop_table(stmt: Stmt, body: list[Token], i: int) -> None:
    stmt.kind = Kind.DROP_TABLE
    names = names_list(body, _if_exists(stmt, body, i))
    set_tables(stmt, names)
    stmt.lock = L.ACCESS_EXCLUSIVE


def set_tables(stmt: Stmt, names: list[tuple[str, str]]) -> None:
    """``stmt.tables`` (and ``table``, ``display``) from a list of (bare, as written) names."""
    stmt.tables = [n for n, _ in names]
    stmt.table = stmt.tables[0] if names else None
    stmt.display = ", ".join(d for _, d in names)


def truncate(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.TRUNCATE
    body = toks
    tail = None
    while body and up(body[-1]) in ("CASCADE", "RESTRICT", "IDENTITY"):
        if up(body[-1]) in ("CASCADE", "RESTRICT"):
            tail = up(body[-1])
        body = body[:-1]
        if body and up(body[-1]) in ("RESTART", "CONTINUE"):
            body = body[:-1]
    stmt.option = tail
    i = 1
    if i < len(body) and up(body[i]) == "TABLE":
        i += 1
    if i < len(body) and up(body[i]) == "ONLY":
        i += 1
    set_tables(stmt, names_list(body, i))
    stmt.lock = L.ACCESS_EXCLUSIVE
