"""What a statement does, as far as locks go: the facts every rule reads.

``analyse(raw, text)`` turns one split statement into a ``Stmt``: its kind, target table,
CONCURRENTLY/NOT VALID/USING INDEX flags, the ALTER TABLE actions with their column types and
defaults, and the lock each takes. One module per statement family:

* ``model`` — ``Kind``, ``ActionKind``, ``Stmt``, ``Action``;
* ``tokens`` — reading names and keyword sequences from sqlglot tokens;
* ``create``, ``alter`` (with ``columns``), ``drop`` (and TRUNCATE), ``dml``, ``commands``
  (transactions, SET, LOCK, REINDEX, VACUUM, CLUSTER, REFRESH, COMMENT), ``plpgsql`` (DO blocks).

How (docs/design.md "Lock-safety lint: how to parse"):

* the statement family is read from its leading keywords;
* families whose lock facts are fully determined by their keyword structure are recognised
  from tokens (CREATE/DROP INDEX, DROP TABLE, TRUNCATE, LOCK, REINDEX, VACUUM, CLUSTER, REFRESH
  MATERIALIZED VIEW, ALTER TYPE … ADD VALUE, the ALTER TABLE actions sqlglot leaves as
  ``exp.Command``: VALIDATE CONSTRAINT, … USING INDEX, ATTACH/DETACH PARTITION, NOT VALID);
* column definitions, types and defaults come from tokens, or from sqlglot trees trusted only when
  the tree is an allow-listed class (``exp.ColumnDef``, ``exp.AlterColumn``, ``exp.Create`` …);
* anything else is ``unanalysed`` with a reason — never a silent pass.

>>> s = analyse_sql("CREATE INDEX CONCURRENTLY i ON public.users (email)")
>>> (s.kind, s.table, s.concurrently)
(<Kind.CREATE_INDEX: 'create_index'>, 'users', True)
>>> s = analyse_sql("ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (a) REFERENCES u (id) NOT VALID")
>>> a = s.actions[0]; (a.kind, a.constraint, a.not_valid, a.references)
(<ActionKind.ADD_CONSTRAINT: 'add_constraint'>, 'foreign_key', True, 'u')
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dbops.lint.facts import alter, commands, create, dml, drop
from dbops.lint.facts.model import DML, Action, ActionKind, Kind, Stmt
from dbops.lint.facts.plpgsql import do_block
from dbops.lint.facts.tokens import T_COMMAND, T_LOCK, Token, up
from dbops.lint.sqltext import LineIndex, RawStatement, rest_text, split, tokenize

__all__ = ["DML", "Action", "ActionKind", "Kind", "Stmt", "analyse", "analyse_raw", "analyse_sql"]

logging.getLogger("sqlglot").setLevel(logging.ERROR)

_HARMLESS_FIRST = frozenset({
    "GRANT", "REVOKE", "ANALYZE", "ANALYSE", "SAVEPOINT", "RELEASE", "NOTIFY", "LISTEN", "UNLISTEN", "SHOW",
    "DISCARD", "DEALLOCATE", "PREPARE", "CHECKPOINT", "SECURITY", "LOAD", "IMPORT", "REASSIGN",
})


def analyse_sql(sql: str) -> Stmt:
    """Facts of the first statement of ``sql`` (convenience for tests and doctests)."""
    return analyse_raw(split(sql)[0], text=sql)


def analyse_raw(raw: RawStatement, index: LineIndex | None = None, text: str = "") -> Stmt:
    """Facts of one statement of a split file ``text`` (its tokens relative to its own text, or to ``text``)."""
    if raw.error is not None:
        return Stmt(Kind.UNKNOWN, raw.line, raw.column, raw.start, raw.end, raw.source,
                    unanalysed=f"sqlglot cannot tokenize this statement ({raw.error})")
    if not raw.local:
        return analyse(raw, text, index=index)
    local = RawStatement(raw.tokens, 0, len(raw.source), raw.line, raw.column)
    return analyse(local, raw.source, index=index, base=raw.start)


def analyse(raw: RawStatement, text: str, *, index: LineIndex | None = None, base: int = 0) -> Stmt:
    """Facts of one statement; never raises (a crash is an ``unanalysed`` statement).

    ``raw``'s offsets are into ``text``; ``base`` is ``text``'s own offset in the file (a DO
    block body, a statement tokenized on its own) and ``index`` the file's line index.
    """
    stmt = Stmt(Kind.UNKNOWN, raw.line, raw.column, raw.start + base, raw.end + base, text[raw.start:raw.end])
    if index is not None and not raw.line:
        stmt.line, stmt.column = index.position(raw.start + base)
    try:
        _dispatch(stmt, raw, text, index, base)
    except Exception as exc:  # a parser crash is an unanalysed statement, never a crash of the lint
        stmt.kind = Kind.UNKNOWN
        stmt.unanalysed = f"the analyser failed on this statement ({type(exc).__name__}: {str(exc)[:80]})"
    return stmt


Reader = Callable[[Stmt, RawStatement, str, str], None]


def _dispatch(stmt: Stmt, raw: RawStatement, text: str, index: LineIndex | None, base: int) -> None:
    first = up(raw.tokens[0])
    reader = _READERS.get(first)
    if reader is not None:
        reader(stmt, raw, text, first)
    elif first in commands.COMMANDS or first == "DO":
        _command(stmt, raw, text, first, index, base)
    elif first in _HARMLESS_FIRST:
        stmt.kind = Kind.OTHER
    else:
        stmt.unanalysed = f"unknown statement {first}"


def _command(stmt: Stmt, raw: RawStatement, text: str, first: str, index: LineIndex | None, base: int) -> None:
    """Statements sqlglot tokenizes as one ``Command`` token plus the rest as a string: re-read the rest."""
    toks, offset, rest = _words(raw, text)
    if first == "DO":
        do_block(stmt, text, raw.end, offset, rest, index=index, base=base, analyse=analyse)
    else:
        commands.COMMANDS[first](stmt, toks)


def _words(raw: RawStatement, text: str) -> tuple[list[Token], int, list[Token]]:
    """The statement's tokens with the text after the first word tokenized again when sqlglot lumped it.

    Returns (all tokens, offset in ``text`` of what follows the first word, the tokens of that rest).
    """
    toks = raw.tokens
    if toks[0].token_type in (T_COMMAND, T_LOCK):
        rest, offset = rest_text(text, raw)
        rest_toks = tokenize(rest)
        return [toks[0], *rest_toks], offset, rest_toks
    return toks, toks[0].end + 1, toks[1:]


# First word -> the family module that reads the statement.
_READERS: dict[str, Reader] = {
    **dict.fromkeys(("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SET", "RESET", "COMMENT"), commands.read),
    "CREATE": create.read,
    "ALTER": alter.read,
    **dict.fromkeys(("DROP", "TRUNCATE"), drop.read),
    **dict.fromkeys(("UPDATE", "DELETE", "INSERT", "MERGE", "WITH", "SELECT", "VALUES", "TABLE", "COPY"), dml.read),
}
