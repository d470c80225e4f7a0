"""What a statement does, as far as locks go: the facts every rule reads.

``analyse(raw, text)`` turns one split statement into a ``Stmt``: its kind,
target table, CONCURRENTLY/NOT VALID/USING INDEX flags, the ALTER TABLE
actions with their column types and defaults, and the lock each takes.

How (DESIGN.md "Lock-safety lint: how to parse"):

* the statement family is read from its leading keywords;
* families whose lock facts are fully determined by their keyword structure
  (CREATE/DROP INDEX, DROP TABLE, TRUNCATE, LOCK, REINDEX, VACUUM, CLUSTER,
  REFRESH MATERIALIZED VIEW, ALTER TYPE … ADD VALUE, the ALTER TABLE actions
  sqlglot leaves as ``exp.Command``: VALIDATE CONSTRAINT, … USING INDEX,
  ATTACH/DETACH PARTITION, per-action NOT VALID) are recognised from tokens;
* column definitions, types and defaults come from sqlglot trees, trusted
  only when the tree is an allow-listed class that matches the token view
  (``exp.Alter`` with the same number of actions, ``exp.ColumnDef``,
  ``exp.AlterColumn``, ``exp.Create`` of kind TABLE…);
* anything else is ``unanalysed`` with a reason — never a silent pass.

>>> s = analyse_sql("CREATE INDEX CONCURRENTLY i ON public.users (email)")
>>> (s.kind, s.table, s.concurrently)
('create_index', 'users', True)
>>> s = analyse_sql("ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (a) REFERENCES u (id) NOT VALID")
>>> a = s.actions[0]; (a.kind, a.constraint, a.not_valid, a.references)
('add_constraint', 'foreign_key', True, 'u')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlglot.tokens import TokenType

from dbops.lint import locks as L
from dbops.lint.pgtypes import (
    SERIAL_DTYPES,
    VOLATILE_FUNCTIONS,
    TypeInfo,
    canonical,
    default_volatility,
    from_datatype,
)
from dbops.lint.sqltext import LineIndex, RawStatement, rest_text, split, tokenize

logging.getLogger("sqlglot").setLevel(logging.ERROR)

_PUNCT = {
    TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA, TokenType.SEMICOLON, TokenType.L_BRACKET,
    TokenType.R_BRACKET, TokenType.EQ, TokenType.STAR,
}
_NAME_TYPES_EXCLUDED = _PUNCT | {TokenType.DOT}
_STRINGS = {TokenType.STRING, TokenType.HEREDOC_STRING, TokenType.NATIONAL_STRING, TokenType.RAW_STRING,
            TokenType.BYTE_STRING, TokenType.UNICODE_STRING}
_NOT_A_NAME = frozenset(_NAME_TYPES_EXCLUDED | _STRINGS)
# Token types as module constants: the hot loops below compare every token's type (an enum
# attribute lookup per comparison otherwise).
_T_L_PAREN = TokenType.L_PAREN
_T_R_PAREN = TokenType.R_PAREN
_T_L_BRACKET = TokenType.L_BRACKET
_T_R_BRACKET = TokenType.R_BRACKET
_T_COMMA = TokenType.COMMA
_T_DOT = TokenType.DOT
_T_STAR = TokenType.STAR
_T_IDENTIFIER = TokenType.IDENTIFIER
_T_NUMBER = TokenType.NUMBER
_T_VAR = TokenType.VAR
_T_SELECT = TokenType.SELECT
_T_COLON = TokenType.COLON
_T_COMMAND = TokenType.COMMAND
_T_EQ = TokenType.EQ
_T_GT = TokenType.GT
_T_HEREDOC_STRING = TokenType.HEREDOC_STRING
_T_LOCK = TokenType.LOCK
_T_LT = TokenType.LT
_T_SEMICOLON = TokenType.SEMICOLON
_T_STRING = TokenType.STRING
_OPENING = frozenset({_T_L_PAREN, _T_L_BRACKET})
_CLOSING = frozenset({_T_R_PAREN, _T_R_BRACKET})


@dataclass(slots=True)
class Action:
    """One action of an ALTER TABLE (or the single effect of another statement)."""

    kind: str
    text: str = ""
    column: str | None = None
    type: TypeInfo | None = None
    default_sql: str | None = None
    default_volatile: bool | None = False
    has_default: bool = False
    not_null: bool = False
    constraint: str | None = None  # foreign_key, check, unique, primary_key, exclude
    name: str | None = None  # constraint name, new name of a rename, partition name
    not_valid: bool = False
    using_index: bool = False
    generated: str | None = None  # stored, identity, serial
    references: str | None = None
    not_null_check_column: str | None = None  # CHECK (col IS NOT NULL)
    concurrently: bool = False
    lock: int = L.ACCESS_EXCLUSIVE
    rewrite: bool = False
    scan: bool = False
    json: bool = False
    unknown: str | None = None  # why this action is not understood


@dataclass(slots=True)
class Stmt:
    """The lock-relevant facts of one statement."""

    kind: str
    line: int
    column: int
    start: int
    end: int
    text: str
    table: str | None = None  # bare, normalised name of the target relation
    display: str | None = None  # as written (schema-qualified, quoted)
    tables: list[str] = field(default_factory=list)
    concurrently: bool = False
    unique: bool = False
    only: bool = False
    if_exists: bool = False
    index_name: str | None = None
    index_names: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    lock: int = L.NONE
    other_locks: dict[str, int] = field(default_factory=dict)  # referenced tables and their lock
    columns: dict[str, TypeInfo] = field(default_factory=dict)  # CREATE TABLE
    json_columns: list[str] = field(default_factory=list)
    option: str | None = None  # LOCK mode / REINDEX target kind / SET value / CASCADE
    setting: tuple[str, str, bool] | None = None  # (name, value, local) of SET/RESET
    inner: list[Stmt] = field(default_factory=list)  # DO block statements
    slow: bool = False  # scans/rewrites/builds/backfills: holds its locks for a while
    unanalysed: str | None = None
    source: str = "tokens"
    origin: Any = None  # e.g. (revision file, line) for Alembic input
    index: int = 0


# --- helpers ------------------------------------------------------------------------------------


def _up(tok: Any) -> str:
    return tok.text.upper()


def _bare(tok: Any) -> str:
    return tok.text if tok.token_type is _T_IDENTIFIER else tok.text.lower()


def read_name(toks: list[Any], i: int) -> tuple[str | None, str | None, int]:
    """A possibly qualified name at ``toks[i]``: (bare name, as written, next index)."""
    n = len(toks)
    if i >= n:
        return None, None, i
    first = toks[i]
    if first.token_type in _NOT_A_NAME:
        return None, None, i
    i += 1
    if i + 1 < n and toks[i].token_type is _T_DOT:
        parts = [first]
        while i + 1 < n and toks[i].token_type is _T_DOT:
            parts.append(toks[i + 1])
            i += 2
        display = ".".join(f'"{p.text}"' if p.token_type is _T_IDENTIFIER else p.text for p in parts)
        return _bare(parts[-1]), display, i
    text = first.text
    if first.token_type is _T_IDENTIFIER:
        return text, f'"{text}"', i
    return text.lower(), text, i


def _skip_words(toks: list[Any], i: int, *words: str) -> int:
    """Skip the optional word sequence ``words`` when it is present at ``i``."""
    if i + len(words) > len(toks):
        return i
    k = i
    for word in words:
        if toks[k].text.upper() != word:
            return i
        k += 1
    return k


def _split_top(toks: list[Any], sep: Any = _T_COMMA) -> list[list[Any]]:
    """``toks`` cut at the separators outside parentheses/brackets (empty parts dropped)."""
    return [toks[a:b] for a, b in _top_level_spans(toks, sep)]


def _top_level_spans(toks: list[Any], sep: Any = _T_COMMA) -> list[tuple[int, int]]:
    """``_split_top`` as (start, end) index pairs into ``toks``."""
    spans = []
    depth = 0
    start = 0
    opening, closing = _OPENING, _CLOSING
    for k, tok in enumerate(toks):
        ttype = tok.token_type
        if ttype in opening:
            depth += 1
        elif ttype in closing:
            depth -= 1
        elif ttype is sep and depth == 0:
            if k > start:
                spans.append((start, k))
            start = k + 1
    if start < len(toks):
        spans.append((start, len(toks)))
    return spans


def _top_words(toks: list[Any]) -> list[str]:
    """Upper-case words outside parentheses."""
    out = []
    depth = 0
    for tok in toks:
        ttype = tok.token_type
        if ttype is _T_L_PAREN:
            depth += 1
        elif ttype is _T_R_PAREN:
            depth -= 1
        elif depth == 0:
            out.append(tok.text.upper())
    return out


def _has_seq(words: list[str], *seq: str) -> bool:
    n = len(seq)
    if not n:
        return True
    first, target = seq[0], list(seq)
    return any(words[k] == first and words[k:k + n] == target for k in range(len(words) - n + 1))


def _span(text: str, toks: list[Any]) -> str:
    return text[toks[0].start:toks[-1].end + 1] if toks else ""


# --- entry points -------------------------------------------------------------------------------


def analyse_sql(sql: str) -> Stmt:
    """Facts of the first statement of ``sql`` (convenience for tests and doctests)."""
    raw = split(sql)[0]
    return analyse(raw, sql)


def analyse(raw: RawStatement, text: str, *, index: LineIndex | None = None, base: int = 0) -> Stmt:
    """Facts of one statement; never raises (a crash is an ``unanalysed`` statement)."""
    stmt = Stmt(kind="unknown", line=raw.line, column=raw.column, start=raw.start + base, end=raw.end + base,
                text=text[raw.start:raw.end])
    if base and index is not None:
        stmt.line, stmt.column = index.position(raw.start + base)
    try:
        _dispatch(stmt, raw, text, index, base)
    except Exception as exc:  # a parser crash is an unanalysed statement, never a crash of the lint
        stmt.kind = "unknown"
        stmt.unanalysed = f"the analyser failed on this statement ({type(exc).__name__}: {str(exc)[:80]})"
    return stmt


_HARMLESS_CREATE = {
    "FUNCTION", "PROCEDURE", "TYPE", "SEQUENCE", "EXTENSION", "SCHEMA", "DOMAIN", "ROLE", "USER", "AGGREGATE",
    "CAST", "COLLATION", "OPERATOR", "STATISTICS", "PUBLICATION", "SUBSCRIPTION", "EVENT", "TEXT", "SERVER",
    "CONVERSION", "LANGUAGE", "ACCESS", "TRANSFORM", "VIEW", "RECURSIVE", "DATABASE", "TABLESPACE", "GROUP",
    "POLICY", "RULE", "FOREIGN",
}
_HARMLESS_FIRST = {
    "GRANT", "REVOKE", "COMMENT", "ANALYZE", "ANALYSE", "SAVEPOINT", "RELEASE", "NOTIFY", "LISTEN", "UNLISTEN",
    "SHOW", "DISCARD", "DEALLOCATE", "PREPARE", "CHECKPOINT", "SECURITY", "LOAD", "IMPORT", "REASSIGN",
}
_TX_BEGIN = {"BEGIN", "START"}
_TX_END = {"COMMIT", "END", "ROLLBACK", "ABORT"}


def _dispatch(stmt: Stmt, raw: RawStatement, text: str, index: LineIndex | None, base: int) -> None:
    toks = raw.tokens
    first = _up(toks[0])
    second = _up(toks[1]) if len(toks) > 1 else ""
    if first in _TX_BEGIN:
        if first == "START" and second != "TRANSACTION":
            stmt.unanalysed = "unknown statement"
            return
        stmt.kind = "begin"
    elif first in _TX_END:
        if first == "ROLLBACK" and "TO" in (t.text.upper() for t in toks[1:3]):
            stmt.kind = "other"  # ROLLBACK TO SAVEPOINT
        elif first == "COMMIT" and second == "PREPARED":
            stmt.kind = "other"
        else:
            stmt.kind = "rollback" if first in ("ROLLBACK", "ABORT") else "commit"
    elif first in ("SET", "RESET"):
        _set(stmt, toks, first)
    elif first == "CREATE":
        _create(stmt, raw, text)
    elif first == "ALTER":
        _alter(stmt, raw, text)
    elif first == "DROP":
        _drop(stmt, toks)
    elif first == "TRUNCATE":
        _truncate(stmt, toks)
    elif first in ("UPDATE", "DELETE", "INSERT", "MERGE", "WITH", "SELECT", "VALUES", "TABLE", "COPY"):
        _dml(stmt, raw, text, first)
    elif first in ("LOCK", "REINDEX", "VACUUM", "CLUSTER", "REFRESH", "DO", "CALL", "EXECUTE"):
        words_toks = toks if toks[0].token_type not in (_T_COMMAND, _T_LOCK) else None
        rest_toks = None
        if words_toks is None:
            rest, offset = rest_text(text, raw)
            rest_toks = tokenize(rest)
            words_toks = [toks[0], *rest_toks]
        else:
            offset = 0
        {
            "LOCK": _lock,
            "REINDEX": _reindex,
            "VACUUM": _vacuum,
            "CLUSTER": _cluster,
            "REFRESH": _refresh,
        }.get(first, _opaque)(stmt, words_toks)
        if first == "DO":
            _do_block(stmt, raw, text, index, base, offset, rest_toks)
    elif first in _HARMLESS_FIRST:
        stmt.kind = "other"
        if first == "COMMENT":
            stmt.lock = L.SHARE_UPDATE_EXCLUSIVE
    else:
        stmt.unanalysed = f"unknown statement {first}"


# --- SET ----------------------------------------------------------------------------------------


def _set(stmt: Stmt, toks: list[Any], first: str) -> None:
    stmt.kind = "set"
    i = 1
    local = False
    if i < len(toks) and _up(toks[i]) in ("SESSION", "LOCAL"):
        local = _up(toks[i]) == "LOCAL"
        i += 1
    if i >= len(toks):
        return
    name = toks[i].text.lower()
    if first == "RESET":
        stmt.setting = (name, "default", False)
        return
    i += 1
    if i < len(toks) and (toks[i].token_type is _T_EQ or _up(toks[i]) == "TO"):
        i += 1
    value = " ".join(t.text for t in toks[i:]).strip().lower()
    stmt.setting = (name, value, local)


# --- CREATE -------------------------------------------------------------------------------------


def _create(stmt: Stmt, raw: RawStatement, text: str) -> None:
    toks = raw.tokens
    i = 1
    i = _skip_words(toks, i, "OR", "REPLACE")
    words = [t.text.upper() for t in toks[i:i + 4]]
    while words and words[0] in ("TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "CONSTRAINT"):
        i += 1
        words = words[1:]
    if not words:
        stmt.unanalysed = "incomplete CREATE"
        return
    head = words[0]
    if head == "TABLE":
        _create_table(stmt, raw, text, i + 1)
    elif head in ("UNIQUE", "INDEX"):
        _create_index(stmt, toks, i)
    elif head == "MATERIALIZED":
        stmt.kind = "create_table"
        name, display, _ = read_name(toks, _skip_words(toks, i + 2, "IF", "NOT", "EXISTS"))
        stmt.table, stmt.display = name, display
        stmt.slow = True
    elif head == "TRIGGER":
        stmt.kind = "create_trigger"
        upper = [t.text.upper() for t in toks]
        if "ON" in upper:
            name, display, _ = read_name(toks, upper.index("ON") + 1)
            stmt.table, stmt.display = name, display
            stmt.lock = L.SHARE_ROW_EXCLUSIVE
    elif head in _HARMLESS_CREATE:
        stmt.kind = "other"
        if head == "VIEW" or (head == "RECURSIVE" and len(words) > 1):
            stmt.kind = "create_view"
    else:
        stmt.unanalysed = f"unknown CREATE {head}"


def _create_table(stmt: Stmt, raw: RawStatement, text: str, i: int) -> None:
    toks = raw.tokens
    stmt.kind = "create_table"
    i = _skip_words(toks, i, "IF", "NOT", "EXISTS")
    name, display, j = read_name(toks, i)
    if name is None:
        stmt.unanalysed = "CREATE TABLE without a name"
        return
    stmt.table, stmt.display = name, display
    upper = [t.text.upper() for t in toks]
    # Referenced tables (FOREIGN KEY / REFERENCES) take SHARE ROW EXCLUSIVE; PARTITION OF locks the parent.
    k = -1
    for _ in range(upper.count("REFERENCES")):
        k = upper.index("REFERENCES", k + 1)
        ref, _, _ = read_name(toks, k + 1)
        if ref:
            stmt.other_locks[ref] = max(stmt.other_locks.get(ref, 0), L.SHARE_ROW_EXCLUSIVE)
    if j + 1 < len(toks) and upper[j] == "PARTITION" and upper[j + 1] == "OF":
        parent, _, _ = read_name(toks, j + 2)
        if parent:
            stmt.other_locks[parent] = L.ACCESS_EXCLUSIVE
    if "AS" in upper[j:j + 2] or (j < len(upper) and upper[j] == "AS"):
        stmt.slow = True
    # Column types from sqlglot's tree (allow-list: exp.Create of kind TABLE with a Schema).
    if j < len(toks) and toks[j].token_type is _T_L_PAREN:
        close = _matching_paren(toks, j)
        if close is not None and _create_columns_tokens(stmt, toks[j + 1:close], upper[j + 1:close]):
            return
        tree = _parse(toks, text)
        from sqlglot import exp

        if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
            stmt.source = "sqlglot"
            for col in tree.this.expressions:
                if isinstance(col, exp.ColumnDef):
                    info = from_datatype(col.args.get("kind"))
                    if info is not None:
                        col_name = col.this.name if col.this.quoted else col.this.name.lower()
                        stmt.columns[col_name] = info
                        if info.name == "json":
                            stmt.json_columns.append(col_name)


_TABLE_CONSTRAINT_START = {"CONSTRAINT", "PRIMARY KEY", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN KEY", "FOREIGN",
                           "EXCLUDE", "LIKE"}


def _create_columns_tokens(stmt: Stmt, toks: list[Any], upper: list[str]) -> bool:
    """The column types of a CREATE TABLE from its ``( … )`` tokens (``upper``: their upper-cased text)."""
    columns: dict[str, TypeInfo] = {}
    for a, b in _top_level_spans(toks):
        if upper[a] in _TABLE_CONSTRAINT_START:
            continue
        action = Action(kind="add_column")
        if not _column_def_tokens(action, toks[a:b], upper[a:b]) and action.type is None:
            return False
        columns[action.column] = action.type
        if action.json:
            stmt.json_columns.append(action.column)
    stmt.columns = columns
    return True


def _create_index(stmt: Stmt, toks: list[Any], i: int) -> None:
    stmt.kind = "create_index"
    if _up(toks[i]) == "UNIQUE":
        stmt.unique = True
        i += 1
    i += 1  # INDEX
    if i < len(toks) and _up(toks[i]) == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    i = _skip_words(toks, i, "IF", "NOT", "EXISTS")
    if i < len(toks) and _up(toks[i]) != "ON":
        stmt.index_name, _, i = read_name(toks, i)
    if i >= len(toks) or _up(toks[i]) != "ON":
        stmt.unanalysed = "CREATE INDEX without ON table"
        return
    i += 1
    if i < len(toks) and _up(toks[i]) == "ONLY":
        stmt.only = True
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    if stmt.table is None:
        stmt.unanalysed = "CREATE INDEX without a table"
        return
    stmt.lock = L.SHARE_UPDATE_EXCLUSIVE if stmt.concurrently else L.SHARE
    stmt.slow = not stmt.only


# --- ALTER --------------------------------------------------------------------------------------


def _alter(stmt: Stmt, raw: RawStatement, text: str) -> None:
    toks = raw.tokens
    what = _up(toks[1]) if len(toks) > 1 else ""
    if what == "TABLE" or (what == "FOREIGN" and len(toks) > 2 and _up(toks[2]) == "TABLE"):
        _alter_table(stmt, raw, text, 2 if what == "TABLE" else 3)
    elif what == "INDEX":
        stmt.kind = "alter_index"
        i = _skip_words(toks, 2, "IF", "EXISTS")
        stmt.index_name, stmt.display, i = read_name(toks, i)
        words = [t.text.upper() for t in toks[i:i + 2]]
        stmt.option = " ".join(words)
        if words[:1] == ["RENAME"] or words[:2] == ["ATTACH", "PARTITION"]:
            stmt.lock = L.SHARE_UPDATE_EXCLUSIVE
        else:
            stmt.lock = L.ACCESS_EXCLUSIVE
    elif what == "TYPE":
        name, display, i = read_name(toks, 2)
        words = [t.text.upper() for t in toks[i:i + 2]]
        if words == ["ADD", "VALUE"]:
            stmt.kind = "enum_add_value"
        else:
            stmt.kind = "other"
        stmt.table, stmt.display = name, display
    elif what in ("MATERIALIZED", "VIEW"):
        stmt.kind = "alter_view"
        i = 3 if what == "MATERIALIZED" else 2
        i = _skip_words(toks, i, "IF", "EXISTS")
        stmt.table, stmt.display, i = read_name(toks, i)
        words = [t.text.upper() for t in toks[i:i + 2]]
        stmt.option = " ".join(words)
        stmt.lock = L.ACCESS_EXCLUSIVE
    elif what in ("SEQUENCE", "FUNCTION", "PROCEDURE", "SCHEMA", "ROLE", "USER", "DEFAULT", "DATABASE", "DOMAIN",
                  "EXTENSION", "AGGREGATE", "COLLATION", "OPERATOR", "POLICY", "PUBLICATION", "SUBSCRIPTION",
                  "SERVER", "STATISTICS", "TEXT", "TRIGGER", "EVENT", "LANGUAGE", "ROUTINE", "SYSTEM", "GROUP",
                  "TABLESPACE", "CONVERSION", "LARGE", "RULE"):
        stmt.kind = "other"
        if what == "TRIGGER":
            upper = [t.text.upper() for t in toks]
            if "ON" in upper:
                stmt.table, stmt.display, _ = read_name(toks, upper.index("ON") + 1)
                stmt.lock = L.ACCESS_EXCLUSIVE
    else:
        stmt.unanalysed = f"unknown ALTER {what}"


_CONSTRAINT_WORDS = {"CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "EXCLUDE", "PRIMARY KEY", "FOREIGN KEY"}


def _alter_table(stmt: Stmt, raw: RawStatement, text: str, i: int) -> None:
    toks = raw.tokens
    stmt.kind = "alter_table"
    if _skip_words(toks, i, "IF", "EXISTS") != i:
        stmt.if_exists = True
        i += 2
    if i < len(toks) and _up(toks[i]) == "ONLY":
        stmt.only = True
        i += 1
    if i < len(toks) and _up(toks[i]) == "ALL":
        stmt.unanalysed = "ALTER TABLE ALL IN TABLESPACE"
        return
    stmt.table, stmt.display, i = read_name(toks, i)
    if i < len(toks) and toks[i].token_type is _T_STAR:
        i += 1
    if stmt.table is None or i >= len(toks):
        stmt.unanalysed = "ALTER TABLE without actions"
        return
    # The token view is tried first, per action; sqlglot re-parses an action only when needed.
    actions = stmt.actions
    for piece in _split_top(toks[i:]):
        actions.append(_action(piece, text, None))
    stmt.lock = max([a.lock for a in actions])
    slow = False
    unknown = []
    for a in actions:
        if a.rewrite or a.scan:
            slow = True
        if a.references:
            stmt.other_locks[a.references] = max(stmt.other_locks.get(a.references, 0), L.SHARE_ROW_EXCLUSIVE)
        if a.unknown:
            unknown.append(a.unknown)
    stmt.slow = slow
    if unknown:
        stmt.unanalysed = "; ".join(unknown)


def _action(piece: list[Any], text: str, node: Any) -> Action:
    words = [t.text.upper() for t in piece]
    head = words[0]
    action = Action(kind="other", text=_span(text, piece))
    n = len(words)
    if head == "ADD":
        nxt = words[1] if n > 1 else ""
        if nxt in _CONSTRAINT_WORDS:
            _add_constraint(action, piece, words, 1)
        else:
            _add_column(action, piece, words, text, node)
    elif head == "DROP":
        nxt = words[1] if n > 1 else ""
        if nxt == "CONSTRAINT":
            action.kind = "drop_constraint"
            j = _skip_words(piece, 2, "IF", "EXISTS")
            action.name = _bare(piece[j]) if j < n else None
        else:
            action.kind = "drop_column"
            j = 2 if nxt == "COLUMN" else 1
            j = _skip_words(piece, j, "IF", "EXISTS")
            action.column = _bare(piece[j]) if j < n else None
    elif head == "ALTER":
        if n > 1 and words[1] == "CONSTRAINT":
            action.kind = "alter_constraint"
        else:
            _alter_column(action, piece, words, text, node)
    elif head == "VALIDATE":
        action.kind = "validate_constraint"
        action.name = _bare(piece[2]) if n > 2 else None
        action.lock = L.SHARE_UPDATE_EXCLUSIVE
        action.scan = True
    elif head == "RENAME":
        if n > 1 and words[1] == "TO":
            action.kind = "rename_table"
            action.name = _bare(piece[2]) if n > 2 else None
        elif n > 1 and words[1] == "CONSTRAINT":
            action.kind = "rename_constraint"
        else:
            action.kind = "rename_column"
            j = 2 if n > 1 and words[1] == "COLUMN" else 1
            action.column = _bare(piece[j]) if j < n else None
            action.name = _bare(piece[j + 2]) if j + 2 < n else None
    elif head == "ATTACH":
        action.kind = "attach_partition"
        action.name, _, _ = read_name(piece, 2)
        action.lock = L.SHARE_UPDATE_EXCLUSIVE
        action.scan = True
    elif head == "DETACH":
        action.kind = "detach_partition"
        action.name, _, _ = read_name(piece, 2)
        action.concurrently = "CONCURRENTLY" in words
        action.lock = L.SHARE_UPDATE_EXCLUSIVE if action.concurrently or "FINALIZE" in words else L.ACCESS_EXCLUSIVE
    elif head == "SET":
        nxt = words[1] if n > 1 else ""
        if nxt in ("LOGGED", "UNLOGGED", "TABLESPACE", "ACCESS"):
            action.rewrite = True
        elif nxt == "SCHEMA":
            action.kind = "set_schema"
        elif nxt in ("WITHOUT",) or nxt == "(" or piece[1].token_type is _T_L_PAREN:
            action.lock = L.SHARE_UPDATE_EXCLUSIVE
    elif head in ("RESET",):
        action.lock = L.SHARE_UPDATE_EXCLUSIVE
    elif head in ("ENABLE", "DISABLE"):
        action.lock = L.SHARE_ROW_EXCLUSIVE if "TRIGGER" in words else L.ACCESS_EXCLUSIVE
    elif head == "CLUSTER":
        action.lock = L.SHARE_UPDATE_EXCLUSIVE
    elif head in ("OWNER", "FORCE", "NO", "INHERIT", "OF", "NOT", "REPLICA"):
        pass
    else:
        action.unknown = f"unknown ALTER TABLE action {head}"
    return action


def _add_constraint(action: Action, piece: list[Any], words: list[str], j: int) -> None:
    action.kind = "add_constraint"
    if words[j] == "CONSTRAINT":
        action.name = _bare(piece[j + 1]) if j + 1 < len(piece) else None
        j += 2
    kind = words[j] if j < len(words) else ""
    action.constraint = {"CHECK": "check", "UNIQUE": "unique", "PRIMARY": "primary_key", "PRIMARY KEY": "primary_key",
                         "FOREIGN": "foreign_key", "FOREIGN KEY": "foreign_key", "EXCLUDE": "exclude"}.get(kind)
    if action.constraint is None:
        action.unknown = f"unknown constraint {kind}"
        return
    top = _top_words(piece)
    action.not_valid = _has_seq(top, "NOT", "VALID")
    action.using_index = _has_seq(top, "USING", "INDEX") and action.constraint in ("unique", "primary_key")
    if action.constraint == "foreign_key":
        action.lock = L.SHARE_ROW_EXCLUSIVE
        if "REFERENCES" in words:
            action.references, _, _ = read_name(piece, words.index("REFERENCES") + 1)
        action.scan = not action.not_valid
    elif action.constraint == "check":
        action.scan = not action.not_valid
        inner = piece[j + 2:-1] if piece[j + 1].token_type is _T_L_PAREN else []
        close = _matching_paren(piece, j + 1)
        if close is not None:
            inner = piece[j + 2:close]
        inner_words = [t.text.upper() for t in inner]
        if len(inner) == 4 and inner_words[1:] == ["IS", "NOT", "NULL"]:
            action.not_null_check_column = _bare(inner[0])
    elif action.constraint in ("unique", "primary_key"):
        action.scan = not action.using_index  # builds an index under the lock
    elif action.constraint == "exclude":
        action.scan = True


def _matching_paren(toks: list[Any], i: int) -> int | None:
    if i >= len(toks) or toks[i].token_type is not _T_L_PAREN:
        return None
    depth = 0
    for k in range(i, len(toks)):
        ttype = toks[k].token_type
        if ttype is _T_L_PAREN:
            depth += 1
        elif ttype is _T_R_PAREN:
            depth -= 1
            if depth == 0:
                return k
    return None


_COLDEF_STOP = {"DEFAULT", "NOT", "NULL", "PRIMARY KEY", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK", "CONSTRAINT",
                "GENERATED", "COLLATE", "DEFERRABLE", "INITIALLY", "COMPRESSION", "STORAGE"}
_NOT_A_TYPE_WORD = frozenset(_NAME_TYPES_EXCLUDED | _STRINGS | {TokenType.NUMBER})
_STABLE_FUNCTIONS = {"now", "current_timestamp", "current_date", "transaction_timestamp", "statement_timestamp",
                     "localtimestamp", "current_time", "localtime", "lower", "upper", "array", "jsonb_build_object",
                     "json_build_object", "to_jsonb", "coalesce", "make_interval", "interval", "timezone"}


def type_from_tokens(toks: list[Any]) -> TypeInfo | None:
    """A TypeInfo from the tokens of a type name (``character varying(20)[]``).

    >>> from dbops.lint.sqltext import tokenize
    >>> type_from_tokens(tokenize("numeric(12, 2)"))
    TypeInfo(name='numeric', params=(12, 2), array=False)
    """
    words = []
    params: list[int] = []
    array = False
    i = 0
    n = len(toks)
    not_a_word = _NOT_A_TYPE_WORD
    while i < n:
        tok = toks[i]
        ttype = tok.token_type
        if ttype is _T_L_PAREN:
            close = _matching_paren(toks, i)
            if close is None:
                return None
            for inner in toks[i + 1:close]:
                if inner.token_type is _T_NUMBER:
                    params.append(int(inner.text))
                elif inner.token_type is not _T_COMMA:
                    return None
            i = close + 1
            continue
        if ttype is _T_L_BRACKET:
            array = True
            while i < n and toks[i].token_type is not _T_R_BRACKET:
                i += 1
            i += 1
            continue
        if ttype is _T_DOT:
            words.append(".")
            i += 1
            continue
        if ttype in not_a_word:
            return None
        text = tok.text
        if text.upper() == "ARRAY":
            array = True
        elif ttype is _T_IDENTIFIER:
            words.append(text)
        else:
            words.append(text.lower())
        i += 1
    if not words:
        return None
    return _type_info(" ".join(words).replace(" . ", "."), tuple(params), array)


@lru_cache(maxsize=4096)
def _type_info(name: str, params: tuple[int, ...], array: bool) -> TypeInfo:
    """One (immutable, shared) TypeInfo per type as written: migrations repeat a handful of types."""
    return TypeInfo(canonical(name), params, array)


_SERIAL_WORDS = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL4", "SERIAL8", "SERIAL2"})


def _column_def_tokens(action: Action, toks: list[Any], upper: list[str] | None = None) -> bool:
    """Fill ``action`` from a column definition's tokens; False when sqlglot is needed.

    ``upper`` is the upper-cased text of ``toks`` when the caller has it already.
    """
    if not toks:
        return False
    if upper is None:
        upper = [t.text.upper() for t in toks]
    action.column = _bare(toks[0])
    i = 1
    n = len(toks)
    stop = _COLDEF_STOP
    while i < n and upper[i] not in stop:
        i += 1
    type_toks = toks[1:i]
    info = action.type = type_from_tokens(type_toks)
    if info is None:
        return False
    if i > 1 and upper[1] in _SERIAL_WORDS:
        action.generated = "serial"
    action.json = info.name == "json" and not info.array
    if i == n:
        return True
    rest = toks[i:]
    words = upper[i:]
    k = 0
    n = len(rest)
    while k < n:
        word = words[k]
        if word == "DEFAULT":
            end = k + 1
            depth = 0
            while end < n:
                ttype = rest[end].token_type
                if ttype is _T_L_PAREN:
                    depth += 1
                elif ttype is _T_R_PAREN:
                    depth -= 1
                elif depth == 0 and words[end] in _COLDEF_STOP:
                    break
                end += 1
            expr = rest[k + 1:end]
            action.has_default = True
            action.default_sql = " ".join(t.text for t in expr)
            volatile: bool | None = False
            for m, tok in enumerate(expr):
                if m + 1 < len(expr) and expr[m + 1].token_type is _T_L_PAREN and tok.token_type not in _PUNCT:
                    fname = tok.text.lower()
                    if fname in VOLATILE_FUNCTIONS:
                        volatile = True
                        break
                    if fname not in _STABLE_FUNCTIONS and tok.token_type in (_T_VAR, _T_IDENTIFIER):
                        return False  # an unknown function: let sqlglot's tree decide
                elif tok.token_type in (_T_SELECT,):
                    return False
            action.default_volatile = volatile
            k = end
            continue
        if word == "NOT" and k + 1 < n and words[k + 1] == "NULL":
            action.not_null = True
            k += 2
            continue
        if word in ("PRIMARY KEY", "PRIMARY"):
            action.constraint = "primary_key"
            action.not_null = True
        elif word == "UNIQUE":
            action.constraint = action.constraint or "unique"
        elif word == "REFERENCES":
            action.constraint = action.constraint or "foreign_key"
            action.references, _, _ = read_name(rest, k + 1)
        elif word == "CHECK":
            action.constraint = action.constraint or "check"
        elif word == "GENERATED":
            top = words[k:]
            if "IDENTITY" in top:
                action.generated = "identity"
            elif "STORED" in top:
                action.generated = "stored"
            elif "VIRTUAL" not in top:
                return False
            break
        k += 1
    return True


def _reparse_action(piece: list[Any], text: str) -> Any:
    from sqlglot import exp

    tree = _parse_sql("ALTER TABLE _dbops_ " + _span(text, piece))
    if isinstance(tree, exp.Alter) and len(tree.args.get("actions") or []) == 1:
        return tree.args["actions"][0]
    return None


def _add_column(action: Action, piece: list[Any], words: list[str], text: str, node: Any) -> None:
    action.kind = "add_column"
    if node is None:
        j = 2 if len(words) > 1 and words[1] == "COLUMN" else 1
        j = _skip_words(piece, j, "IF", "NOT", "EXISTS")
        if _column_def_tokens(action, piece[j:], words[j:]):
            _column_costs(action)
            return
        action.column = action.type = action.references = action.constraint = action.generated = None
        action.has_default = action.not_null = action.json = False
        action.default_sql, action.default_volatile = None, False
    from sqlglot import exp  # only when the token view is not enough

    if not isinstance(node, exp.ColumnDef):
        node = _reparse_action(piece, text)
    if not isinstance(node, exp.ColumnDef):
        action.unknown = "ADD COLUMN that sqlglot cannot parse"
        return
    ident = node.this
    action.column = ident.name if getattr(ident, "quoted", False) else ident.name.lower()
    kind = node.args.get("kind")
    action.type = from_datatype(kind)
    dtype_name = getattr(getattr(kind, "this", None), "name", "")
    if dtype_name in SERIAL_DTYPES:
        action.generated = "serial"
    action.json = action.type is not None and action.type.name == "json" and not action.type.array
    top = _top_words(piece)
    for constraint in node.args.get("constraints") or []:
        ckind = constraint.args.get("kind")
        cname = type(ckind).__name__
        if cname == "DefaultColumnConstraint":
            action.has_default = True
            expr = ckind.this
            action.default_sql = expr.sql("postgres") if expr is not None else None
            action.default_volatile = default_volatility(expr) if expr is not None else False
        elif cname == "NotNullColumnConstraint":
            if not ckind.args.get("allow_null"):
                action.not_null = True
        elif cname == "PrimaryKeyColumnConstraint":
            action.not_null = True
            action.constraint = "primary_key"
        elif cname == "UniqueColumnConstraint":
            action.constraint = action.constraint or "unique"
        elif cname == "Reference":
            action.constraint = action.constraint or "foreign_key"
            target = ckind.this
            table = target.this if isinstance(target, exp.Schema) else target
            if isinstance(table, exp.Table):
                action.references = table.name if table.this.quoted else table.name.lower()
        elif cname == "CheckColumnConstraint":
            action.constraint = action.constraint or "check"
        elif cname == "ComputedColumnConstraint":
            if "VIRTUAL" not in top:
                action.generated = "stored"
        elif cname == "GeneratedAsIdentityColumnConstraint":
            if ckind.args.get("expression") is not None and "STORED" in top:
                action.generated = "stored"
            else:
                action.generated = "identity"
    _column_costs(action)


def _column_costs(action: Action) -> None:
    if action.generated in ("serial", "identity", "stored"):
        action.rewrite = True
    if action.has_default and action.default_volatile is not False:
        action.rewrite = True
    if action.constraint in ("primary_key", "unique", "check", "foreign_key"):
        action.scan = True


def _alter_column(action: Action, piece: list[Any], words: list[str], text: str, node: Any) -> None:
    j = 2 if len(words) > 1 and words[1] == "COLUMN" else 1
    if j >= len(piece):
        action.unknown = "ALTER COLUMN without a column"
        return
    action.column = _bare(piece[j])
    rest = words[j + 1:]
    if rest[:2] == ["SET", "NOT"]:
        action.kind = "set_not_null"
        action.scan = True
    elif rest[:2] == ["DROP", "NOT"]:
        action.kind = "drop_not_null"
    elif rest[:2] == ["DROP", "DEFAULT"]:
        action.kind = "drop_default"
    elif rest[:2] == ["SET", "DEFAULT"]:
        action.kind = "set_default"
    elif rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
        action.kind = "alter_type"
        k = j + 2 if rest[:1] == ["TYPE"] else j + 4
        end = k
        while end < len(piece) and _up(piece[end]) not in ("USING", "COLLATE"):
            end += 1
        info = type_from_tokens(piece[k:end]) if node is None else None
        if info is not None:
            action.type = info
            action.json = info.name == "json" and not info.array
            action.default_sql = "USING" if end < len(piece) and _up(piece[end]) == "USING" else None
            return
        from sqlglot import exp  # only when the token view is not enough

        if not isinstance(node, exp.AlterColumn) or node.args.get("dtype") is None:
            node = _reparse_action(piece, text)
        if not isinstance(node, exp.AlterColumn) or node.args.get("dtype") is None:
            action.unknown = "ALTER COLUMN TYPE that sqlglot cannot parse"
            return
        action.type = from_datatype(node.args["dtype"])
        action.json = action.type is not None and action.type.name == "json" and not action.type.array
        action.default_sql = "USING" if node.args.get("using") else None
    elif rest[:2] in (["SET", "STATISTICS"],) or rest[:1] == ["RESET"] or (
        rest[:1] == ["SET"] and len(rest) > 1 and rest[1] == "("
    ):
        action.kind = "alter_column_other"
        action.lock = L.SHARE_UPDATE_EXCLUSIVE
    elif rest[:1] in (["SET"], ["DROP"], ["ADD"], ["RESTART"]):
        action.kind = "alter_column_other"
        if rest[:2] == ["ADD", "GENERATED"]:
            action.generated = "identity"
    else:
        action.unknown = f"unknown ALTER COLUMN action {' '.join(rest[:2])}"


# --- DROP / TRUNCATE ----------------------------------------------------------------------------


def _names_list(toks: list[Any], i: int) -> list[tuple[str, str]]:
    out = []
    for part in _split_top(toks[i:]):
        name, display, _ = read_name(part, 0)
        if name and _up(part[0]) not in ("CASCADE", "RESTRICT"):
            out.append((name, display))
    return out


def _strip_tail(toks: list[Any], words: tuple[str, ...]) -> tuple[list[Any], str | None]:
    if toks and _up(toks[-1]) in words:
        return toks[:-1], _up(toks[-1])
    return toks, None


def _drop(stmt: Stmt, toks: list[Any]) -> None:
    what = _up(toks[1]) if len(toks) > 1 else ""
    body, tail = _strip_tail(toks, ("CASCADE", "RESTRICT"))
    stmt.option = tail
    if what == "INDEX":
        stmt.kind = "drop_index"
        i = 2
        if i < len(body) and _up(body[i]) == "CONCURRENTLY":
            stmt.concurrently = True
            i += 1
        if _skip_words(body, i, "IF", "EXISTS") != i:
            stmt.if_exists = True
            i += 2
        names = _names_list(body, i)
        stmt.index_names = [n for n, _ in names]
        stmt.index_name = stmt.index_names[0] if names else None
        stmt.display = ", ".join(d for _, d in names)
        stmt.lock = L.SHARE_UPDATE_EXCLUSIVE if stmt.concurrently else L.ACCESS_EXCLUSIVE
    elif what in ("TABLE", "FOREIGN") or (what == "MATERIALIZED" and len(toks) > 2):
        stmt.kind = "drop_table"
        i = 2 if what == "TABLE" else 3
        if _skip_words(body, i, "IF", "EXISTS") != i:
            stmt.if_exists = True
            i += 2
        names = _names_list(body, i)
        stmt.tables = [n for n, _ in names]
        stmt.table = stmt.tables[0] if names else None
        stmt.display = ", ".join(d for _, d in names)
        stmt.lock = L.ACCESS_EXCLUSIVE
        if what == "MATERIALIZED":
            stmt.kind = "drop_view"
    elif what == "VIEW":
        stmt.kind = "drop_view"
        stmt.lock = L.ACCESS_EXCLUSIVE
    else:
        stmt.kind = "other"  # DROP FUNCTION/TYPE/TRIGGER/…: no table lock worth a rule
        if what == "TRIGGER" or what == "POLICY" or what == "RULE":
            upper = [t.text.upper() for t in body]
            if "ON" in upper:
                stmt.table, stmt.display, _ = read_name(body, upper.index("ON") + 1)
                stmt.lock = L.ACCESS_EXCLUSIVE


def _truncate(stmt: Stmt, toks: list[Any]) -> None:
    stmt.kind = "truncate"
    body = toks
    tail = None
    while body and _up(body[-1]) in ("CASCADE", "RESTRICT", "IDENTITY"):
        if _up(body[-1]) in ("CASCADE", "RESTRICT"):
            tail = _up(body[-1])
        body = body[:-1]
        if body and _up(body[-1]) in ("RESTART", "CONTINUE"):
            body = body[:-1]
    stmt.option = tail
    i = 1
    if i < len(body) and _up(body[i]) == "TABLE":
        i += 1
    if i < len(body) and _up(body[i]) == "ONLY":
        i += 1
    names = _names_list(body, i)
    stmt.tables = [n for n, _ in names]
    stmt.table = stmt.tables[0] if names else None
    stmt.display = ", ".join(d for _, d in names)
    stmt.lock = L.ACCESS_EXCLUSIVE


# --- DML ----------------------------------------------------------------------------------------


def _dml(stmt: Stmt, raw: RawStatement, text: str, first: str) -> None:
    toks = raw.tokens
    if first in ("SELECT", "VALUES", "TABLE"):
        stmt.kind = "select"
        upper = _top_words(toks)
        if "INTO" in upper and "FROM" in upper and upper.index("INTO") < upper.index("FROM"):
            stmt.kind = "create_table"  # SELECT … INTO new_table
            stmt.table, stmt.display, _ = read_name(toks, _index_of(toks, "INTO") + 1)
        return
    if first == "COPY":
        stmt.kind = "insert"
        stmt.table, stmt.display, _ = read_name(toks, 1)
        upper = [t.text.upper() for t in toks]
        if "TO" in upper and "FROM" not in upper:
            stmt.kind = "select"
        stmt.lock = L.ROW_EXCLUSIVE
        return
    if first == "WITH":
        from sqlglot import exp

        tree = _parse(toks, text)
        kinds = {exp.Update: "update", exp.Delete: "delete", exp.Insert: "insert", exp.Merge: "update"}
        found = None
        if isinstance(tree, (exp.Select, exp.Union, *kinds)):
            stmt.source = "sqlglot"
            for node in tree.walk():
                if type(node) in kinds:
                    found = node
                    break
            if found is None:
                stmt.kind = "select"
                return
            stmt.kind = kinds[type(found)]
            target = found.this
            if isinstance(target, exp.Schema):
                target = target.this
            if isinstance(target, exp.Table):
                stmt.table = target.name if target.this.quoted else target.name.lower()
                stmt.display = target.sql("postgres")
            stmt.lock = L.ROW_EXCLUSIVE
            stmt.slow = True
            return
        stmt.unanalysed = "WITH query that sqlglot cannot parse"
        return
    i = 1
    if first == "UPDATE":
        stmt.kind = "update"
    elif first == "DELETE":
        stmt.kind = "delete"
        i = 2
    elif first == "INSERT":
        stmt.kind = "insert"
        i = 2
    else:  # MERGE INTO
        stmt.kind = "update"
        i = 2
    if i < len(toks) and _up(toks[i]) == "ONLY":
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    if stmt.table is None:
        stmt.unanalysed = f"{first} without a target table"
        return
    stmt.lock = L.ROW_EXCLUSIVE
    if stmt.kind == "insert":
        top = _top_words(toks)
        stmt.slow = "SELECT" in top
    else:
        stmt.slow = True


def _index_of(toks: list[Any], word: str) -> int:
    for k, tok in enumerate(toks):
        if _up(tok) == word:
            return k
    return -1


# --- command families (from tokens) -------------------------------------------------------------


_LOCK_MODES = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE",
               "SHARE", "EXCLUSIVE", "ACCESS EXCLUSIVE")


def _lock(stmt: Stmt, toks: list[Any]) -> None:
    stmt.kind = "lock"
    words = [t.text.upper() for t in toks]
    i = 1
    if i < len(toks) and words[i] == "TABLE":
        i += 1
    if i < len(toks) and words[i] == "ONLY":
        i += 1
    end = words.index("IN") if "IN" in words else len(toks)
    if words and words[-1] == "NOWAIT":
        end = min(end, len(toks) - 1)
    names = _names_list(toks[:end], i)
    stmt.tables = [n for n, _ in names]
    stmt.table = stmt.tables[0] if names else None
    stmt.display = ", ".join(d for _, d in names)
    mode = "ACCESS EXCLUSIVE"
    if "IN" in words:
        tail = words[words.index("IN") + 1:]
        if "MODE" in tail:
            mode = " ".join(tail[:tail.index("MODE")])
    if mode not in _LOCK_MODES:
        stmt.unanalysed = f"unknown lock mode {mode}"
        return
    stmt.option = mode
    stmt.lock = L.BY_NAME[mode]


def _options_words(toks: list[Any], i: int) -> tuple[list[str], int]:
    if i < len(toks) and toks[i].token_type is _T_L_PAREN:
        close = _matching_paren(toks, i)
        if close is not None:
            return [t.text.upper() for t in toks[i + 1:close]], close + 1
    return [], i


def _reindex(stmt: Stmt, toks: list[Any]) -> None:
    stmt.kind = "reindex"
    options, i = _options_words(toks, 1)
    words = [t.text.upper() for t in toks]
    if i >= len(toks):
        stmt.unanalysed = "REINDEX without a target"
        return
    target = words[i]
    stmt.option = target
    i += 1
    if "CONCURRENTLY" in options and not _has_seq(options, "CONCURRENTLY", "FALSE"):
        stmt.concurrently = True
    if i < len(toks) and words[i] == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    name, display, _ = read_name(toks, i)
    stmt.display = display
    if target == "INDEX":
        stmt.index_name = name
    else:
        stmt.table = name
    stmt.lock = L.SHARE_UPDATE_EXCLUSIVE if stmt.concurrently else L.SHARE
    stmt.slow = True


def _vacuum(stmt: Stmt, toks: list[Any]) -> None:
    stmt.kind = "vacuum"
    words = [t.text.upper() for t in toks]
    options, i = _options_words(toks, 1)
    flags = set(options)
    while i < len(toks) and words[i] in ("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
        flags.add(words[i])
        i += 1
    full = "FULL" in flags and not _has_seq(options, "FULL", "FALSE")
    names = _names_list(toks, i)
    stmt.tables = [n for n, _ in names]
    stmt.table = stmt.tables[0] if names else None
    stmt.display = ", ".join(d for _, d in names) or None
    stmt.option = "FULL" if full else None
    stmt.lock = L.ACCESS_EXCLUSIVE if full else L.SHARE_UPDATE_EXCLUSIVE
    stmt.slow = True


def _cluster(stmt: Stmt, toks: list[Any]) -> None:
    stmt.kind = "cluster"
    words = [t.text.upper() for t in toks]
    _options, i = _options_words(toks, 1)
    if i < len(toks) and words[i] == "VERBOSE":
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    stmt.lock = L.ACCESS_EXCLUSIVE
    stmt.slow = True


def _refresh(stmt: Stmt, toks: list[Any]) -> None:
    words = [t.text.upper() for t in toks]
    if words[1:3] != ["MATERIALIZED", "VIEW"]:
        stmt.unanalysed = "unknown REFRESH"
        return
    stmt.kind = "refresh_matview"
    i = 3
    if i < len(toks) and words[i] == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    stmt.lock = L.EXCLUSIVE if stmt.concurrently else L.ACCESS_EXCLUSIVE
    stmt.slow = True


def _opaque(stmt: Stmt, toks: list[Any]) -> None:
    first = _up(toks[0])
    if first == "DO":
        stmt.kind = "do"
    else:
        stmt.unanalysed = f"{first} runs code dbops cannot see"


# --- DO blocks ----------------------------------------------------------------------------------

_PLPGSQL_SKIP = {"RAISE", "RETURN", "NULL", "EXIT", "CONTINUE", "GET", "OPEN", "FETCH", "CLOSE", "MOVE", "ASSERT"}


def _do_block(stmt: Stmt, raw: RawStatement, text: str, index: LineIndex | None, base: int, offset: int,
              rest_toks: list[Any] | None = None) -> None:
    """Analyse the SQL statements inside a PL/pgSQL DO block (each as if it ran).

    ``rest_toks``: the tokens of the text after ``DO`` when the caller has them already.
    """
    rest = text[offset:raw.end]
    if rest_toks is None:
        rest_toks = tokenize(rest)
    body_tok = next((t for t in rest_toks if t.token_type is _T_HEREDOC_STRING), None)
    if body_tok is None:
        body_tok = next((t for t in rest_toks if t.token_type is _T_STRING), None)
    words = [t.text.upper() for t in rest_toks]
    if "LANGUAGE" in words and words.index("LANGUAGE") + 1 < len(words) and words[words.index("LANGUAGE") + 1] not in (
        "PLPGSQL", "'PLPGSQL'"
    ):
        stmt.unanalysed = "DO block in a language other than plpgsql"
        return
    if body_tok is None:
        stmt.unanalysed = "DO block without a body"
        return
    body = body_tok.text
    body_offset = text.find(body, offset) if body else -1
    if body_offset == -1:
        stmt.unanalysed = "DO block body not found"
        return
    body_base = base + body_offset
    if index is None:
        index = LineIndex(text) if base == 0 else None
    body_tokens = tokenize(body)
    pieces = _plpgsql_statements(body_tokens)
    reasons = []
    for piece in pieces:
        if isinstance(piece, str):
            reasons.append(piece)
            continue
        inner_raw = RawStatement(tokens=piece, start=piece[0].start, end=piece[-1].end + 1, line=0, column=0)
        inner = analyse(inner_raw, body, index=index, base=body_base)
        stmt.inner.append(inner)
        if inner.unanalysed:
            reasons.append(inner.unanalysed)
    if reasons:
        stmt.unanalysed = "DO block: " + "; ".join(reasons[:2])
    stmt.slow = any(s.slow for s in stmt.inner)


def _plpgsql_statements(tokens: list[Any]) -> list[Any]:
    """The SQL statements of a PL/pgSQL body, with control structure stripped.

    Returns token lists, or a string (the reason) for a piece that is dynamic SQL.
    """
    out: list[Any] = []
    in_declare = False
    for piece in _split_top(tokens, _T_SEMICOLON):
        toks = piece
        while toks:
            word = _up(toks[0])
            if toks[0].token_type is _T_LT and len(toks) > 1:  # <<label>>
                k = next((m for m in range(len(toks)) if toks[m].token_type is _T_GT and m > 2), None)
                toks = toks[k + 2:] if k is not None else []
                continue
            if word == "DECLARE":
                in_declare = True
                toks = toks[1:]
                continue
            if in_declare:
                k = next((m for m, t in enumerate(toks) if _up(t) == "BEGIN"), None)
                if k is None:
                    toks = []
                    break
                in_declare = False
                toks = toks[k + 1:]
                continue
            if word == "BEGIN":
                toks = toks[1:]
                continue
            if word in ("IF", "ELSIF", "ELSEIF", "WHILE", "WHEN"):
                stop = "LOOP" if word == "WHILE" else "THEN"
                k = next((m for m, t in enumerate(toks) if _up(t) == stop), None)
                toks = toks[k + 1:] if k is not None else []
                continue
            if word in ("FOR", "FOREACH"):
                k = next((m for m, t in enumerate(toks) if _up(t) == "LOOP"), None)
                toks = toks[k + 1:] if k is not None else []
                continue
            if word in ("ELSE", "LOOP", "EXCEPTION"):
                toks = toks[1:]
                continue
            if word == "END":
                toks = []
                break
            break
        if not toks:
            continue
        word = _up(toks[0])
        second = toks[1].text if len(toks) > 1 else ""
        if word in _PLPGSQL_SKIP or second in (":=", ":", "=") or toks[0].token_type is _T_COLON:
            continue
        if word == "PERFORM":
            continue
        if word == "EXECUTE":
            out.append("dynamic SQL (EXECUTE) in a DO block")
            continue
        out.append(toks)
    return out


# --- sqlglot ------------------------------------------------------------------------------------


def _parse(toks: list[Any], text: str) -> Any:
    """sqlglot's tree for already-tokenized statement tokens; None on a parse error."""
    from sqlglot.errors import ParseError

    from dbops.lint.sqltext import dialect

    try:
        trees = dialect().parser().parse(toks, text)
    except (ParseError, Exception):
        return None
    return trees[0] if trees else None


def _parse_sql(sql: str) -> Any:
    try:
        return _parse(tokenize(sql), sql)
    except Exception:
        return None


def canonical_table(name: str) -> str:
    return canonical(name)
