"""DO blocks: the SQL statements inside a PL/pgSQL body, each analysed as if it ran.

Control structure (DECLARE, BEGIN/END, IF/ELSIF/WHILE/FOR … LOOP, labels) is stripped;
assignments, RAISE, PERFORM and friends are skipped; ``EXECUTE`` is dynamic SQL that dbops
cannot see (the block is then unanalysed, with the reason).

>>> from dbops.lint.facts import analyse_sql
>>> s = analyse_sql("DO $$ BEGIN IF true THEN ALTER TABLE t DROP COLUMN c; END IF; END $$")
>>> [(i.kind.value, i.table) for i in s.inner]
[('alter_table', 't')]
"""

from __future__ import annotations

from collections.abc import Callable

from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.facts.tokens import T_COLON, T_GT, T_HEREDOC_STRING, T_LT, T_SEMICOLON, T_STRING, Token, split_top, up
from dbops.lint.sqltext import LineIndex, RawStatement, tokenize

Analyse = Callable[..., Stmt]

_SKIP = frozenset({"RAISE", "RETURN", "NULL", "EXIT", "CONTINUE", "GET", "OPEN", "FETCH", "CLOSE", "MOVE", "ASSERT",
                   "PERFORM"})
_OPENERS = {"IF": "THEN", "ELSIF": "THEN", "ELSEIF": "THEN", "WHEN": "THEN", "WHILE": "LOOP", "FOR": "LOOP",
            "FOREACH": "LOOP"}


def do_block(stmt: Stmt, text: str, end: int, offset: int, rest_toks: list[Token], *, index: LineIndex | None,
             base: int, analyse: Analyse) -> None:
    """Analyse the statements of the DO block whose text after ``DO`` starts at ``offset``.

    ``analyse`` is the statement analyser (passed in: this module is below it).
    """
    stmt.kind = Kind.DO
    body_tok = _body_token(rest_toks)
    if _language(rest_toks) not in (None, "PLPGSQL", "'PLPGSQL'"):
        stmt.unanalysed = "DO block in a language other than plpgsql"
        return
    if body_tok is None:
        stmt.unanalysed = "DO block without a body"
        return
    body = body_tok.text
    body_offset = text.find(body, offset, end) if body else -1
    if body_offset == -1:
        stmt.unanalysed = "DO block body not found"
        return
    if index is None and base == 0:
        index = LineIndex(text)
    inner: list[Stmt] = []
    reasons: list[str] = []
    for piece in plpgsql_statements(tokenize(body)):
        if isinstance(piece, str):
            reasons.append(piece)
            continue
        raw = RawStatement(tokens=piece, start=piece[0].start, end=piece[-1].end + 1, line=0, column=0)
        found = analyse(raw, body, index=index, base=base + body_offset)
        inner.append(found)
        if found.unanalysed:
            reasons.append(found.unanalysed)
    stmt.inner = inner
    if reasons:
        stmt.unanalysed = "DO block: " + "; ".join(reasons[:2])
    stmt.slow = any(s.slow for s in inner)


def _body_token(toks: list[Token]) -> Token | None:
    body = next((t for t in toks if t.token_type is T_HEREDOC_STRING), None)
    return body if body is not None else next((t for t in toks if t.token_type is T_STRING), None)


def _language(toks: list[Token]) -> str | None:
    words = [up(t) for t in toks]
    if "LANGUAGE" in words and words.index("LANGUAGE") + 1 < len(words):
        return words[words.index("LANGUAGE") + 1]
    return None


def plpgsql_statements(tokens: list[Token]) -> list[list[Token] | str]:
    """The SQL statements of a PL/pgSQL body, with control structure stripped.

    Returns token lists, or a string (the reason) for a piece that is dynamic SQL.
    """
    out: list[list[Token] | str] = []
    state = {"declare": False}
    for piece in split_top(tokens, T_SEMICOLON):
        toks = _strip_control(piece, state)
        if not toks or _skipped(toks):
            continue
        out.append("dynamic SQL (EXECUTE) in a DO block" if up(toks[0]) == "EXECUTE" else toks)
    return out


def _strip_control(toks: list[Token], state: dict[str, bool]) -> list[Token]:
    """``toks`` without leading labels, DECLARE sections, BEGIN, IF … THEN, … LOOP, ELSE, END."""
    while toks:
        word = up(toks[0])
        if toks[0].token_type is T_LT and len(toks) > 1:  # <<label>>
            toks = _after(toks, lambda m, t: t.token_type is T_GT and m > 2, 2)
        elif word == "DECLARE":
            state["declare"] = True
            toks = toks[1:]
        elif state["declare"]:  # declarations run up to the block's BEGIN
            begin = next((m for m, t in enumerate(toks) if up(t) == "BEGIN"), None)
            if begin is None:
                return []
            state["declare"] = False
            toks = toks[begin + 1:]
        elif word in _OPENERS:
            toks = _after(toks, _is_word(_OPENERS[word]))
        elif word in ("BEGIN", "ELSE", "LOOP", "EXCEPTION"):
            toks = toks[1:]
        elif word == "END":
            return []
        else:
            return toks
    return toks


def _is_word(word: str) -> Callable[[int, Token], bool]:
    def found(_position: int, tok: Token) -> bool:
        return up(tok) == word

    return found


def _after(toks: list[Token], found: Callable[[int, Token], bool], width: int = 1) -> list[Token]:
    """The tokens after the first one ``found`` says yes to (``width`` tokens long), or []."""
    k = next((m for m, t in enumerate(toks) if found(m, t)), None)
    return toks[k + width:] if k is not None else []


def _skipped(toks: list[Token]) -> bool:
    """Assignments, RAISE, PERFORM…: not SQL statements that take locks."""
    second = toks[1].text if len(toks) > 1 else ""
    return up(toks[0]) in _SKIP or second in (":=", ":", "=") or toks[0].token_type is T_COLON
