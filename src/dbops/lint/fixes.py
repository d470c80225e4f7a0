"""Fix texts that fit the file: SQL for ``.sql`` migrations, Alembic operations for revisions.

A rule describes its fix once, as SQL (complete statements, pasteable) plus what must run outside
a transaction or in a later one; ``render`` writes it for the file at hand. For an Alembic
revision a statement becomes ``op.execute(…)`` — or a native operation where one exists
(``op.create_index(…, postgresql_concurrently=True)``) — and "outside a transaction" becomes
``with op.get_context().autocommit_block():``.

>>> fix = Fix(sql="ALTER TABLE t VALIDATE CONSTRAINT c;", outside_transaction=True)
>>> print(render(fix, "sql"))
-- outside a transaction block (a file your runner does not wrap in one):
ALTER TABLE t VALIDATE CONSTRAINT c;
>>> print(render(fix, "alembic"))
with op.get_context().autocommit_block():
    op.execute("ALTER TABLE t VALIDATE CONSTRAINT c")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Syntax = Literal["sql", "alembic"]
AUTOCOMMIT = "with op.get_context().autocommit_block():"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_OUTSIDE_SQL = "-- outside a transaction block (a file your runner does not wrap in one):"


@dataclass(frozen=True)
class Fix:
    """A safe alternative, as SQL.

    ``sql``: the statements to run instead (each ending with ``;``); ``alembic``: the same as
    Alembic code when it is better written with a native operation (default: ``op.execute`` of
    each statement); ``outside_transaction``: they cannot run in a transaction block; ``then``:
    statements for a later transaction (after a COMMIT); ``note``: one line of advice.
    """

    sql: str = ""
    alembic: str | Callable[[], str | None] | None = None  # a callable is called only for a revision
    outside_transaction: bool = False
    then: str | None = None
    then_alembic: str | None = None
    note: str | None = None


def render(fix: Fix | str | None, syntax: Syntax) -> str | None:
    """The fix written for a ``.sql`` file or an Alembic revision."""
    if fix is None or isinstance(fix, str):
        return fix
    return _alembic(fix) if syntax == "alembic" else _sql(fix)


def _sql(fix: Fix) -> str:
    lines = []
    if fix.note:
        lines.append(f"-- {fix.note}")
    if fix.sql:
        if fix.outside_transaction:
            lines.append(_OUTSIDE_SQL)
        lines.append(fix.sql)
    if fix.then:
        lines += ["-- then, after a COMMIT (or in the next migration):", fix.then]
    return "\n".join(lines)


def _alembic(fix: Fix) -> str:
    lines = []
    if fix.note:
        lines.append(f"# {fix.note}")
    alembic = fix.alembic() if callable(fix.alembic) else fix.alembic
    body = alembic if alembic is not None else op_execute(fix.sql)
    if body:
        if fix.outside_transaction:
            lines.append(AUTOCOMMIT)
            lines += ["    " + line for line in body.splitlines()]
        else:
            lines.append(body)
    if fix.then:
        lines += ["# then, in a later revision (or after an autocommit_block()):",
                  fix.then_alembic if fix.then_alembic is not None else op_execute(fix.then)]
    return "\n".join(lines)


def op_execute(sql: str) -> str:
    """``op.execute("…")`` for each statement of ``sql``.

    >>> print(op_execute("SET lock_timeout = '2s'; ALTER TABLE t ADD c int;"))
    op.execute("SET lock_timeout = '2s'")
    op.execute("ALTER TABLE t ADD c int")
    """
    return "\n".join(f"op.execute({py_string(statement)})" for statement in statements(sql))


def statements(sql: str) -> list[str]:
    """``sql`` cut at semicolons outside quotes (fix texts are simple: no dollar quotes)."""
    out: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == ";":
            out.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    out.append("".join(current).strip())
    return [s for s in out if s and not s.startswith("--")]


def py_string(text: str) -> str:
    """A Python literal for ``text``, double-quoted unless that needs escapes.

    >>> py_string('say "hi"'), py_string("it's")
    ('\\'say "hi"\\'', '"it\\'s"')
    """
    if '"' not in text and "\\" not in text and "\n" not in text:
        return f'"{text}"'
    return repr(text)


def suppression(rule_id: str, syntax: Syntax, reason: str = "<why it is safe here>") -> str:
    """The suppression comment in the file's syntax.

    >>> suppression("lock-table", "alembic")
    '# dbops: ignore[lock-table] <why it is safe here>'
    """
    return f"{'#' if syntax == 'alembic' else '--'} dbops: ignore[{rule_id}] {reason}"


# --- native Alembic operations ------------------------------------------------------------------


def alembic_create_index(sql: str) -> str | None:
    """``op.create_index(…, postgresql_concurrently=True)`` for a CREATE INDEX, None when it has no
    native form (WITH, TABLESPACE, NULLS NOT DISTINCT …).

    >>> print(alembic_create_index("CREATE UNIQUE INDEX i ON public.users USING gin (lower(email), name) WHERE active"))
    op.create_index("i", "users", [sa.text("lower(email)"), "name"], schema="public", unique=True, postgresql_using="gin", postgresql_where=sa.text("active"), postgresql_concurrently=True)
    >>> alembic_create_index("CREATE INDEX i ON t (a) WITH (fillfactor = 70)") is None
    True
    """
    from dbops.lint.sqltext import tokenize

    sql = sql.strip().rstrip(";").rstrip()
    try:
        toks = tokenize(sql)
    except Exception:
        return None
    parts = _index_parts(toks, sql)
    if parts is None:
        return None
    name, schema, table, unique, keys, extras = parts
    args = [py_string(name) if name else "None", py_string(table), "[" + ", ".join(keys) + "]"]
    if schema:
        args.append(f"schema={py_string(schema)}")
    if unique:
        args.append("unique=True")
    args += [*extras, "postgresql_concurrently=True"]
    return f"op.create_index({', '.join(args)})"


def _index_parts(toks: list, sql: str) -> tuple[str | None, str | None, str, bool, list[str], list[str]] | None:
    from dbops.lint.facts.tokens import matching_paren, read_name, skip_words, split_top, up

    words = [up(t) for t in toks]
    unique = "UNIQUE" in words[:2]
    if "ON" not in words:
        return None
    on = words.index("ON")
    i = skip_words(toks, words.index("INDEX") + 1, "CONCURRENTLY")
    i = skip_words(toks, i, "IF", "NOT", "EXISTS")
    name = _plain(toks[i]) if i < on else None
    k = skip_words(toks, on + 1, "ONLY")
    _bare, display, k = read_name(toks, k)
    if display is None:
        return None
    schema, _, table = display.rpartition(".")
    extras: list[str] = []
    if k < len(toks) and words[k] == "USING":
        extras.append(f"postgresql_using={py_string(toks[k + 1].text.lower())}")
        k += 2
    close = matching_paren(toks, k)
    if close is None:
        return None
    keys = [_key(piece, sql) for piece in split_top(toks[k + 1:close])]
    if not _index_tail(toks, close + 1, sql, extras):
        return None
    return name, schema.strip('"') or None, table.strip('"'), unique, keys, extras


def _index_tail(toks: list, k: int, sql: str, extras: list[str]) -> bool:
    """INCLUDE and WHERE after the key list (into ``extras``); False when something else follows."""
    from dbops.lint.facts.tokens import matching_paren, span, split_top, up

    if k < len(toks) and up(toks[k]) == "INCLUDE":
        close = matching_paren(toks, k + 1)
        if close is None:
            return False
        cols = [_key(piece, sql) for piece in split_top(toks[k + 2:close])]
        extras.append(f"postgresql_include=[{', '.join(cols)}]")
        k = close + 1
    if k < len(toks) and up(toks[k]) == "WHERE":
        extras.append(f"postgresql_where=sa.text({py_string(span(sql, toks[k + 1:]))})")
        k = len(toks)
    return k >= len(toks)


def _plain(tok: object) -> str:
    from dbops.lint.facts.tokens import bare

    return bare(tok)


def _key(piece: list, sql: str) -> str:
    """A key column as Alembic takes it: its name, or ``sa.text("expr")``."""
    from dbops.lint.facts.tokens import T_IDENTIFIER, bare, span

    if len(piece) == 1 and (piece[0].token_type is T_IDENTIFIER or _NAME.match(piece[0].text)):
        return py_string(bare(piece[0]))
    return f"sa.text({py_string(span(sql, piece))})"


def alembic_drop_index(names: list[str]) -> str:
    """``op.drop_index(…, postgresql_concurrently=True, if_exists=True)`` for each index.

    >>> print(alembic_drop_index(["public.a_idx"]))
    op.drop_index("a_idx", schema="public", postgresql_concurrently=True, if_exists=True)
    """
    out = []
    for display in names:
        schema, _, name = display.rpartition(".")
        args = [py_string(name.strip('"'))]
        if schema:
            args.append(f"schema={py_string(schema.strip(chr(34)))}")
        out.append(f"op.drop_index({', '.join(args)}, postgresql_concurrently=True, if_exists=True)")
    return "\n".join(out)
