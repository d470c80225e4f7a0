"""CREATE statements: tables (their column types), indexes, materialized views, triggers.

>>> from dbops.lint.facts import analyse_sql
>>> s = analyse_sql("CREATE UNIQUE INDEX CONCURRENTLY i ON public.users USING btree (lower(email)) WHERE active")
>>> (s.kind, s.table, s.display, s.unique, s.concurrently)
(<Kind.CREATE_INDEX: 'create_index'>, 'users', 'public.users', True, True)
>>> s = analyse_sql("CREATE TABLE t (id bigint, doc json, c_id int REFERENCES c (id))")
>>> (dict(s.columns)["id"].name, list(s.json_columns), dict(s.other_locks))
('int8', ['doc'], {'c': 6})
"""

from __future__ import annotations

from dbops.lint import locks as L
from dbops.lint.facts.columns import column_def_tokens
from dbops.lint.facts.model import Action, ActionKind, Kind, Stmt
from dbops.lint.facts.tokens import (
    T_L_PAREN,
    Token,
    matching_paren,
    name_after,
    parse,
    read_name,
    skip_words,
    top_level_spans,
    up,
    upper_words,
)
from dbops.lint.pgtypes import TypeInfo, from_datatype
from dbops.lint.sqltext import RawStatement

_HARMLESS = frozenset({
    "FUNCTION", "PROCEDURE", "TYPE", "SEQUENCE", "EXTENSION", "SCHEMA", "DOMAIN", "ROLE", "USER", "AGGREGATE",
    "CAST", "COLLATION", "OPERATOR", "STATISTICS", "PUBLICATION", "SUBSCRIPTION", "EVENT", "TEXT", "SERVER",
    "CONVERSION", "LANGUAGE", "ACCESS", "TRANSFORM", "VIEW", "RECURSIVE", "DATABASE", "TABLESPACE", "GROUP",
    "POLICY", "RULE", "FOREIGN",
})
_MODIFIERS = frozenset({"TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "CONSTRAINT"})
_TABLE_CONSTRAINT_START = frozenset({"CONSTRAINT", "PRIMARY KEY", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN KEY",
                                     "FOREIGN", "EXCLUDE", "LIKE"})


def read(stmt: Stmt, raw: RawStatement, text: str, first: str) -> None:
    """CREATE …"""
    toks = raw.tokens
    i = skip_words(toks, 1, "OR", "REPLACE")
    while i < len(toks) and up(toks[i]) in _MODIFIERS:
        i += 1
    if i >= len(toks):
        stmt.unanalysed = "incomplete CREATE"
        return
    head = up(toks[i])
    if head == "TABLE":
        create_table(stmt, raw, text, i + 1)
    elif head in ("UNIQUE", "INDEX"):
        create_index(stmt, toks, i)
    elif head == "MATERIALIZED":
        stmt.kind = Kind.CREATE_TABLE
        stmt.table, stmt.display, _ = read_name(toks, skip_words(toks, i + 2, "IF", "NOT", "EXISTS"))
        stmt.slow = True
    elif head == "TRIGGER":
        _create_trigger(stmt, toks)
    elif head in _HARMLESS:
        stmt.kind = Kind.OTHER
        if head == "VIEW" or (head == "RECURSIVE" and i + 1 < len(toks)):
            stmt.kind = Kind.CREATE_VIEW
    else:
        stmt.unanalysed = f"unknown CREATE {head}"


def _create_trigger(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.CREATE_TRIGGER
    stmt.table, stmt.display = name_after(toks, "ON")
    if stmt.table:
        stmt.lock = L.SHARE_ROW_EXCLUSIVE


def create_table(stmt: Stmt, raw: RawStatement, text: str, i: int) -> None:
    toks = raw.tokens
    stmt.kind = Kind.CREATE_TABLE
    i = skip_words(toks, i, "IF", "NOT", "EXISTS")
    name, display, j = read_name(toks, i)
    if name is None:
        stmt.unanalysed = "CREATE TABLE without a name"
        return
    stmt.table, stmt.display = name, display
    upper = upper_words(toks)
    _referenced_tables(stmt, toks, upper)
    if j + 1 < len(toks) and upper[j] == "PARTITION" and upper[j + 1] == "OF":
        parent, _, _ = read_name(toks, j + 2)
        if parent:
            stmt.add_other_lock(parent, L.ACCESS_EXCLUSIVE)
    if "AS" in upper[j:j + 2]:
        stmt.slow = True
    if j < len(toks) and toks[j].token_type is T_L_PAREN:
        _column_types(stmt, raw, text, j, upper)


def _referenced_tables(stmt: Stmt, toks: list[Token], upper: list[str]) -> None:
    """FOREIGN KEY / REFERENCES take SHARE ROW EXCLUSIVE on the referenced table."""
    for k, word in enumerate(upper):
        if word == "REFERENCES":
            ref, _, _ = read_name(toks, k + 1)
            if ref:
                stmt.add_other_lock(ref, L.SHARE_ROW_EXCLUSIVE)


def _column_types(stmt: Stmt, raw: RawStatement, text: str, j: int, upper: list[str]) -> None:
    """Column types of ``( … )``: from tokens, else from sqlglot's tree (allow-list: Create of a Schema)."""
    toks = raw.tokens
    close = matching_paren(toks, j)
    if close is not None and _columns_from_tokens(stmt, toks[j + 1:close], upper[j + 1:close]):
        return
    from sqlglot import exp

    tree = parse(toks, text)
    if not (isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema)):
        return
    stmt.source = "sqlglot"
    columns: dict[str, TypeInfo] = {}
    json_columns: list[str] = []
    for col in tree.this.expressions:
        info = from_datatype(col.args.get("kind")) if isinstance(col, exp.ColumnDef) else None
        if info is not None:
            col_name = col.this.name if col.this.quoted else col.this.name.lower()
            columns[col_name] = info
            if info.name == "json":
                json_columns.append(col_name)
    stmt.columns = columns
    stmt.json_columns = json_columns


def _columns_from_tokens(stmt: Stmt, toks: list[Token], upper: list[str]) -> bool:
    """The column types of a CREATE TABLE from its ``( … )`` tokens; False when sqlglot is needed."""
    columns: dict[str, TypeInfo] = {}
    json_columns: list[str] = []
    for a, b in top_level_spans(toks):
        if upper[a] in _TABLE_CONSTRAINT_START:
            continue
        action = Action(ActionKind.ADD_COLUMN)
        if not column_def_tokens(action, toks[a:b], upper[a:b]) and action.type is None:
            return False
        assert action.column is not None and action.type is not None
        columns[action.column] = action.type
        if action.json:
            json_columns.append(action.column)
    stmt.columns = columns
    stmt.json_columns = json_columns
    return True


def create_index(stmt: Stmt, toks: list[Token], i: int) -> None:
    stmt.kind = Kind.CREATE_INDEX
    if up(toks[i]) == "UNIQUE":
        stmt.unique = True
        i += 1
    i += 1  # INDEX
    if i < len(toks) and up(toks[i]) == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    i = skip_words(toks, i, "IF", "NOT", "EXISTS")
    if i < len(toks) and up(toks[i]) != "ON":
        stmt.index_name, _, i = read_name(toks, i)
    if i >= len(toks) or up(toks[i]) != "ON":
        stmt.unanalysed = "CREATE INDEX without ON table"
        return
    i += 1
    if i < len(toks) and up(toks[i]) == "ONLY":
        stmt.only = True
        i += 1
    stmt.table, stmt.display, i = read_name(toks, i)
    if stmt.table is None:
        stmt.unanalysed = "CREATE INDEX without a table"
        return
    stmt.lock = L.SHARE_UPDATE_EXCLUSIVE if stmt.concurrently else L.SHARE
    stmt.slow = not stmt.only

