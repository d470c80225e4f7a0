"""Commands read from tokens: transaction control, SET, LOCK, REINDEX, VACUUM, CLUSTER, REFRESH, COMMENT.

sqlglot leaves most of these as an opaque ``Command``; their lock facts are fully determined by
their keywords.

>>> from dbops.lint.facts import analyse_sql
>>> s = analyse_sql("LOCK TABLE a, b IN SHARE ROW EXCLUSIVE MODE NOWAIT")
>>> (s.kind.value, list(s.tables), s.option, s.lock)
('lock', ['a', 'b'], 'SHARE ROW EXCLUSIVE', 6)
>>> s = analyse_sql("REINDEX (VERBOSE) TABLE CONCURRENTLY public.t")
>>> (s.kind.value, s.table, s.concurrently)
('reindex', 't', True)
>>> analyse_sql("SET LOCAL lock_timeout TO '2s'").setting
('lock_timeout', '2s', True)
>>> s = analyse_sql("COMMENT ON COLUMN public.users.email IS 'x'")
>>> (s.kind.value, s.table, s.lock)
('comment', 'users', 4)
"""

from __future__ import annotations

from dbops.lint import locks as L
from dbops.lint.facts.drop import set_tables
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.facts.tokens import (
    T_DOT,
    T_EQ,
    Token,
    bare,
    has_seq,
    name_after,
    names_list,
    options_words,
    read_name,
    up,
    upper_words,
)
from dbops.lint.sqltext import RawStatement

_LOCK_MODES = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE",
               "SHARE", "EXCLUSIVE", "ACCESS EXCLUSIVE")


def read(stmt: Stmt, raw: RawStatement, text: str, first: str) -> None:
    """Transaction control, SET/RESET, COMMENT."""
    if first in ("SET", "RESET"):
        set_(stmt, raw.tokens, first)
    elif first == "COMMENT":
        comment(stmt, raw.tokens)
    else:
        transaction(stmt, raw.tokens, first)


def transaction(stmt: Stmt, toks: list[Token], first: str) -> None:
    """BEGIN/START TRANSACTION, COMMIT/END, ROLLBACK/ABORT (not ROLLBACK TO, COMMIT PREPARED)."""
    second = up(toks[1]) if len(toks) > 1 else ""
    if first == "START" and second != "TRANSACTION":
        stmt.unanalysed = "unknown statement"
    elif first in ("BEGIN", "START"):
        stmt.kind = Kind.BEGIN
    elif (first == "ROLLBACK" and "TO" in upper_words(toks[1:3])) or (first == "COMMIT" and second == "PREPARED"):
        stmt.kind = Kind.OTHER
    else:
        stmt.kind = Kind.ROLLBACK if first in ("ROLLBACK", "ABORT") else Kind.COMMIT


def set_(stmt: Stmt, toks: list[Token], first: str) -> None:
    """SET [SESSION|LOCAL] name {=|TO} value, RESET name."""
    stmt.kind = Kind.SET
    i = 1
    local = False
    if i < len(toks) and up(toks[i]) in ("SESSION", "LOCAL"):
        local = up(toks[i]) == "LOCAL"
        i += 1
    if i >= len(toks):
        return
    name = toks[i].text.lower()
    if first == "RESET":
        stmt.setting = (name, "default", False)
        return
    i += 1
    if i < len(toks) and (toks[i].token_type is T_EQ or up(toks[i]) == "TO"):
        i += 1
    stmt.setting = (name, " ".join(t.text for t in toks[i:]).strip().lower(), local)


def comment(stmt: Stmt, toks: list[Token]) -> None:
    """COMMENT ON … takes SHARE UPDATE EXCLUSIVE on a table it comments (or on a column of)."""
    stmt.kind = Kind.COMMENT
    stmt.lock = L.SHARE_UPDATE_EXCLUSIVE
    what = up(toks[2]) if len(toks) > 2 else ""
    if what == "TABLE":
        stmt.table, stmt.display, _ = read_name(toks, 3)
    elif what == "COLUMN":
        parts = _dotted(toks, 3)
        if len(parts) >= 2:
            stmt.table = bare(parts[-2])
            stmt.display = ".".join(p.text for p in parts[:-1])
    elif what in ("CONSTRAINT", "TRIGGER", "POLICY", "RULE"):
        stmt.table, stmt.display = name_after(toks[3:], "ON")


def _dotted(toks: list[Token], i: int) -> list[Token]:
    parts = []
    while i < len(toks):
        parts.append(toks[i])
        if i + 1 < len(toks) and toks[i + 1].token_type is T_DOT:
            i += 2
            continue
        break
    return parts


def lock(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.LOCK
    words = upper_words(toks)
    i = 1
    if i < len(toks) and words[i] == "TABLE":
        i += 1
    if i < len(toks) and words[i] == "ONLY":
        i += 1
    end = words.index("IN") if "IN" in words else len(toks)
    if words and words[-1] == "NOWAIT":
        end = min(end, len(toks) - 1)
    set_tables(stmt, names_list(toks[:end], i))
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


def reindex(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.REINDEX
    options, i = options_words(toks, 1)
    if i >= len(toks):
        stmt.unanalysed = "REINDEX without a target"
        return
    words = upper_words(toks)
    target = stmt.option = words[i]
    i += 1
    stmt.concurrently = "CONCURRENTLY" in options and not has_seq(options, "CONCURRENTLY", "FALSE")
    if i < len(toks) and words[i] == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    name, stmt.display, _ = read_name(toks, i)
    if target == "INDEX":
        stmt.index_name = name
    else:
        stmt.table = name
    stmt.lock = L.SHARE_UPDATE_EXCLUSIVE if stmt.concurrently else L.SHARE
    stmt.slow = True


def vacuum(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.VACUUM
    words = upper_words(toks)
    options, i = options_words(toks, 1)
    flags = set(options)
    while i < len(toks) and words[i] in ("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
        flags.add(words[i])
        i += 1
    full = "FULL" in flags and not has_seq(options, "FULL", "FALSE")
    set_tables(stmt, names_list(toks, i))
    stmt.display = stmt.display or None
    stmt.option = "FULL" if full else None
    stmt.lock = L.ACCESS_EXCLUSIVE if full else L.SHARE_UPDATE_EXCLUSIVE
    stmt.slow = True


def cluster(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.CLUSTER
    _options, i = options_words(toks, 1)
    if i < len(toks) and up(toks[i]) == "VERBOSE":
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    stmt.lock = L.ACCESS_EXCLUSIVE
    stmt.slow = True


def refresh(stmt: Stmt, toks: list[Token]) -> None:
    words = upper_words(toks)
    if words[1:3] != ["MATERIALIZED", "VIEW"]:
        stmt.unanalysed = "unknown REFRESH"
        return
    stmt.kind = Kind.REFRESH_MATVIEW
    i = 3
    if i < len(toks) and words[i] == "CONCURRENTLY":
        stmt.concurrently = True
        i += 1
    stmt.table, stmt.display, _ = read_name(toks, i)
    stmt.lock = L.EXCLUSIVE if stmt.concurrently else L.ACCESS_EXCLUSIVE
    stmt.slow = True


def opaque(stmt: Stmt, toks: list[Token]) -> None:
    """CALL / EXECUTE: code dbops cannot see."""
    stmt.unanalysed = f"{up(toks[0])} runs code dbops cannot see"


COMMANDS = {"LOCK": lock, "REINDEX": reindex, "VACUUM": vacuum, "CLUSTER": cluster, "REFRESH": refresh,
            "CALL": opaque, "EXECUTE": opaque}
