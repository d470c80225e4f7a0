"""ALTER statements: ALTER TABLE and its actions, ALTER INDEX/TYPE/VIEW, and the harmless rest.

Each ALTER TABLE action is read from its own top-level piece of tokens; sqlglot re-parses an
action only when the tokens cannot settle its column type or default.

>>> from dbops.lint.facts import analyse_sql
>>> s = analyse_sql("ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (a) REFERENCES u (id) NOT VALID, VALIDATE CONSTRAINT d")
>>> [(a.kind.value, a.constraint, a.not_valid, a.name) for a in s.actions]
[('add_constraint', 'foreign_key', True, 'c'), ('validate_constraint', None, False, 'd')]
>>> s = analyse_sql("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'ok'")
>>> (s.kind.value, s.table, s.value, s.option)
('enum_add_value', 'mood', 'meh', 'BEFORE')
"""

from __future__ import annotations

from collections.abc import Callable

from dbops.lint import locks as L
from dbops.lint.facts.columns import add_column, alter_column
from dbops.lint.facts.model import Action, ActionKind, Kind, Stmt
from dbops.lint.facts.tokens import (
    STRINGS,
    T_L_PAREN,
    T_STAR,
    Token,
    bare_at,
    has_seq,
    matching_paren,
    name_after,
    read_name,
    skip_words,
    span,
    split_top,
    top_words,
    up,
    upper_words,
)
from dbops.lint.sqltext import RawStatement

_OTHER_OBJECTS = frozenset({
    "SEQUENCE", "FUNCTION", "PROCEDURE", "SCHEMA", "ROLE", "USER", "DEFAULT", "DATABASE", "DOMAIN", "EXTENSION",
    "AGGREGATE", "COLLATION", "OPERATOR", "POLICY", "PUBLICATION", "SUBSCRIPTION", "SERVER", "STATISTICS", "TEXT",
    "TRIGGER", "EVENT", "LANGUAGE", "ROUTINE", "SYSTEM", "GROUP", "TABLESPACE", "CONVERSION", "LARGE", "RULE",
})
_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "EXCLUDE", "PRIMARY KEY",
                               "FOREIGN KEY"})
_CONSTRAINT_KINDS = {"CHECK": "check", "UNIQUE": "unique", "PRIMARY": "primary_key", "PRIMARY KEY": "primary_key",
                     "FOREIGN": "foreign_key", "FOREIGN KEY": "foreign_key", "EXCLUDE": "exclude"}


def read(stmt: Stmt, raw: RawStatement, text: str, first: str) -> None:
    """ALTER …"""
    toks = raw.tokens
    what = up(toks[1]) if len(toks) > 1 else ""
    if what == "TABLE" or (what == "FOREIGN" and len(toks) > 2 and up(toks[2]) == "TABLE"):
        alter_table(stmt, raw, text, 2 if what == "TABLE" else 3)
    elif what == "INDEX":
        _alter_index(stmt, toks)
    elif what == "TYPE":
        _alter_type(stmt, toks)
    elif what in ("MATERIALIZED", "VIEW"):
        _alter_view(stmt, toks, 3 if what == "MATERIALIZED" else 2)
    elif what in _OTHER_OBJECTS:
        stmt.kind = Kind.OTHER
        if what == "TRIGGER":  # ALTER TRIGGER … ON table RENAME TO …
            stmt.table, stmt.display = name_after(toks, "ON")
            if stmt.table:
                stmt.lock = L.ACCESS_EXCLUSIVE
    else:
        stmt.unanalysed = f"unknown ALTER {what}"


def _alter_index(stmt: Stmt, toks: list[Token]) -> None:
    stmt.kind = Kind.ALTER_INDEX
    i = skip_words(toks, 2, "IF", "EXISTS")
    stmt.index_name, stmt.display, i = read_name(toks, i)
    words = upper_words(toks[i:i + 2])
    stmt.option = " ".join(words)
    if words[:1] == ["RENAME"] or words[:2] == ["ATTACH", "PARTITION"]:
        stmt.lock = L.SHARE_UPDATE_EXCLUSIVE
    else:
        stmt.lock = L.ACCESS_EXCLUSIVE


def _alter_type(stmt: Stmt, toks: list[Token]) -> None:
    name, display, i = read_name(toks, 2)
    stmt.table, stmt.display = name, display
    if upper_words(toks[i:i + 2]) != ["ADD", "VALUE"]:
        stmt.kind = Kind.OTHER
        return
    stmt.kind = Kind.ENUM_ADD_VALUE
    i = skip_words(toks, i + 2, "IF", "NOT", "EXISTS")
    if i < len(toks) and toks[i].token_type in STRINGS:
        stmt.value = toks[i].text
        i += 1
    stmt.option = up(toks[i]) if i < len(toks) and up(toks[i]) in ("BEFORE", "AFTER") else None


def _alter_view(stmt: Stmt, toks: list[Token], i: int) -> None:
    stmt.kind = Kind.ALTER_VIEW
    i = skip_words(toks, i, "IF", "EXISTS")
    stmt.table, stmt.display, i = read_name(toks, i)
    stmt.option = " ".join(upper_words(toks[i:i + 2]))
    stmt.lock = L.ACCESS_EXCLUSIVE


# --- ALTER TABLE --------------------------------------------------------------------------------


def alter_table(stmt: Stmt, raw: RawStatement, text: str, i: int) -> None:
    toks = raw.tokens
    stmt.kind = Kind.ALTER_TABLE
    if skip_words(toks, i, "IF", "EXISTS") != i:
        stmt.if_exists = True
        i += 2
    if i < len(toks) and up(toks[i]) == "ONLY":
        stmt.only = True
        i += 1
    if i < len(toks) and up(toks[i]) == "ALL":
        stmt.unanalysed = "ALTER TABLE ALL IN TABLESPACE"
        return
    stmt.table, stmt.display, i = read_name(toks, i)
    if i < len(toks) and toks[i].token_type is T_STAR:
        i += 1
    if stmt.table is None or i >= len(toks):
        stmt.unanalysed = "ALTER TABLE without actions"
        return
    actions = [action(piece, text) for piece in split_top(toks[i:])]
    stmt.actions = actions
    lock, slow, unknown = L.NONE, False, []
    for a in actions:  # (one loop: this runs for most statements of a migration)
        lock = a.lock if a.lock > lock else lock
        slow = slow or a.rewrite or a.scan
        if a.references:
            stmt.add_other_lock(a.references, L.SHARE_ROW_EXCLUSIVE)
        if a.unknown:
            unknown.append(a.unknown)
    stmt.lock, stmt.slow = lock, slow
    if unknown:
        stmt.unanalysed = "; ".join(unknown)


def action(piece: list[Token], text: str) -> Action:
    """The facts of one ALTER TABLE action (one top-level piece of the action list)."""
    words = upper_words(piece)
    result = Action(ActionKind.OTHER, text=span(text, piece))
    reader = _ACTION_READERS.get(words[0])
    if reader is not None:
        reader(result, piece, words, text)
    elif words[0] not in ("OWNER", "FORCE", "NO", "INHERIT", "OF", "NOT", "REPLICA"):
        result.unknown = f"unknown ALTER TABLE action {words[0]}"
    return result


def _add(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    if len(words) > 1 and words[1] in _CONSTRAINT_WORDS:
        add_constraint(act, piece, words, 1)
    else:
        add_column(act, piece, words, text)


def _drop(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    if len(words) > 1 and words[1] == "CONSTRAINT":
        act.kind = ActionKind.DROP_CONSTRAINT
        act.name = bare_at(piece, skip_words(piece, 2, "IF", "EXISTS"))
    else:
        act.kind = ActionKind.DROP_COLUMN
        j = 2 if len(words) > 1 and words[1] == "COLUMN" else 1
        act.column = bare_at(piece, skip_words(piece, j, "IF", "EXISTS"))


def _alter(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    if len(words) > 1 and words[1] == "CONSTRAINT":
        act.kind = ActionKind.ALTER_CONSTRAINT
    else:
        alter_column(act, piece, words, text)


def _validate(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    act.kind = ActionKind.VALIDATE_CONSTRAINT
    act.name = bare_at(piece, 2)
    act.lock = L.SHARE_UPDATE_EXCLUSIVE
    act.scan = True


def _rename(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    second = words[1] if len(words) > 1 else ""
    if second == "TO":
        act.kind = ActionKind.RENAME_TABLE
        act.name = bare_at(piece, 2)
    elif second == "CONSTRAINT":
        act.kind = ActionKind.RENAME_CONSTRAINT
    else:
        act.kind = ActionKind.RENAME_COLUMN
        j = 2 if second == "COLUMN" else 1
        act.column = bare_at(piece, j)
        act.name = bare_at(piece, j + 2)


def _attach(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    act.kind = ActionKind.ATTACH_PARTITION
    act.name, _, _ = read_name(piece, 2)
    act.lock = L.SHARE_UPDATE_EXCLUSIVE
    act.scan = True


def _detach(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    act.kind = ActionKind.DETACH_PARTITION
    act.name, _, _ = read_name(piece, 2)
    act.concurrently = "CONCURRENTLY" in words
    act.lock = L.SHARE_UPDATE_EXCLUSIVE if act.concurrently or "FINALIZE" in words else L.ACCESS_EXCLUSIVE


def _set(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    second = words[1] if len(words) > 1 else ""
    if second in ("LOGGED", "UNLOGGED", "TABLESPACE", "ACCESS"):
        act.rewrite = True
    elif second == "SCHEMA":
        act.kind = ActionKind.SET_SCHEMA
    elif second == "WITHOUT" or (len(piece) > 1 and piece[1].token_type is T_L_PAREN):
        act.lock = L.SHARE_UPDATE_EXCLUSIVE


def _light(mode: int) -> Callable[[Action, list[Token], list[str], str], None]:
    def read(act: Action, piece: list[Token], words: list[str], text: str) -> None:
        act.lock = mode

    return read


def _triggers(act: Action, piece: list[Token], words: list[str], text: str) -> None:
    act.lock = L.SHARE_ROW_EXCLUSIVE if "TRIGGER" in words else L.ACCESS_EXCLUSIVE


_ACTION_READERS: dict[str, Callable[[Action, list[Token], list[str], str], None]] = {
    "ADD": _add,
    "DROP": _drop,
    "ALTER": _alter,
    "VALIDATE": _validate,
    "RENAME": _rename,
    "ATTACH": _attach,
    "DETACH": _detach,
    "SET": _set,
    "RESET": _light(L.SHARE_UPDATE_EXCLUSIVE),
    "CLUSTER": _light(L.SHARE_UPDATE_EXCLUSIVE),
    "ENABLE": _triggers,
    "DISABLE": _triggers,
}


def add_constraint(act: Action, piece: list[Token], words: list[str], j: int) -> None:
    """``ADD [CONSTRAINT name] CHECK|UNIQUE|PRIMARY KEY|FOREIGN KEY|EXCLUDE … [NOT VALID | USING INDEX]``."""
    act.kind = ActionKind.ADD_CONSTRAINT
    if words[j] == "CONSTRAINT":
        act.name = bare_at(piece, j + 1)
        j += 2
    kind = words[j] if j < len(words) else ""
    act.constraint = _CONSTRAINT_KINDS.get(kind)
    if act.constraint is None:
        act.unknown = f"unknown constraint {kind}"
        return
    top = top_words(piece)
    act.not_valid = has_seq(top, "NOT", "VALID")
    act.using_index = has_seq(top, "USING", "INDEX") and act.constraint in ("unique", "primary_key")
    if act.constraint == "foreign_key":
        act.lock = L.SHARE_ROW_EXCLUSIVE
        if "REFERENCES" in words:
            act.references, _, _ = read_name(piece, words.index("REFERENCES") + 1)
        act.scan = not act.not_valid
    elif act.constraint == "check":
        act.scan = not act.not_valid
        act.not_null_check_column = _not_null_check(piece, j + 1)
    elif act.constraint in ("unique", "primary_key"):
        act.scan = not act.using_index  # builds an index under the lock
    else:  # exclude
        act.scan = True


def _not_null_check(piece: list[Token], k: int) -> str | None:
    """``c`` when the CHECK's expression at ``piece[k]`` is exactly ``(c IS NOT NULL)``."""
    close = matching_paren(piece, k)
    if close is None:
        return None
    inner = piece[k + 1:close]
    if len(inner) == 4 and upper_words(inner[1:]) == ["IS", "NOT", "NULL"]:
        return bare_at(inner, 0)
    return None
