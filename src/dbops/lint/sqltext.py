"""Splitting SQL text into statements on the sqlglot Postgres tokenizer.

The tokenizer keeps ``$$`` bodies whole (one HEREDOC_STRING token); this
module also keeps ``BEGIN ATOMIC … END`` function bodies whole, takes each
statement's line/column from its first token, and finds the comments that
carry directives (``-- dbops: ignore[rule] reason``) with a small
quote-aware scanner, so a directive inside a string literal is never read.

>>> [s.line for s in split("SELECT 1;\\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\\n")]
[1, 2]
"""

from __future__ import annotations

import bisect
import re
from bisect import bisect_right as _bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlglot.tokens import TokenType

_SEMI = TokenType.SEMICOLON
_BEGIN = TokenType.BEGIN
_END = TokenType.END
_CASE = TokenType.CASE


@lru_cache(maxsize=1)
def dialect() -> Any:
    from sqlglot.dialects.postgres import Postgres

    return Postgres()


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    # One tokenizer for the whole run: building one (its compiled core, keyword trie) costs more
    # than tokenizing a small migration. ``tokenize`` resets its state and returns a new list.
    return dialect().tokenizer()


def tokenize(text: str) -> list[Any]:
    """The sqlglot Postgres tokens of ``text`` (raises sqlglot's TokenError)."""
    return _tokenizer().tokenize(text)


class LineIndex:
    """Offset → (line, column), both 1-based.

    >>> LineIndex("ab\\ncd").position(3)
    (2, 1)
    """

    __slots__ = ("starts",)

    def __init__(self, text: str) -> None:
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self.starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line_end(self, offset: int) -> int:
        """Offset of the end of the line holding ``offset`` (the newline or end of text)."""
        index = bisect.bisect_right(self.starts, offset)
        return self.starts[index] - 1 if index < len(self.starts) else 1 << 60


@dataclass(slots=True)
class RawStatement:
    """One statement's tokens (without the ``;``) and where it is in the text."""

    tokens: list[Any]
    start: int  # offset of the first token
    end: int  # offset just after the statement text (before the ``;``)
    line: int
    column: int
    stop_line_end: int = 0  # end of the line holding the terminating ``;``
    region_start: int = 0  # comments from here up to stop_line_end belong to this statement
    extra: dict[str, Any] = field(default_factory=dict)


def rest_text(text: str, raw: RawStatement, after: int = 0) -> tuple[str, int]:
    """The statement text after its token number ``after`` and that text's offset.

    sqlglot turns everything after a command keyword (LOCK, DO, REINDEX,
    VACUUM…) into one string token with unreliable offsets: callers re-read
    the text from here instead.
    """
    start = raw.tokens[after].end + 1
    return text[start:raw.end], start


def split(text: str, tokens: list[Any] | None = None, *, index: LineIndex | None = None) -> list[RawStatement]:
    """Split ``text`` into statements on top-level semicolons.

    ``BEGIN ATOMIC … END`` bodies stay whole; empty statements are skipped.
    """
    if tokens is None:
        tokens = tokenize(text)
    index = index or LineIndex(text)
    statements: list[RawStatement] = []
    types = [tok.token_type for tok in tokens]
    if _BEGIN not in types or not _has_atomic(tokens, types):
        # The common case: cut on every semicolon (no BEGIN ATOMIC body to keep whole).
        region_start = 0
        start = 0
        find = types.index
        position = -1
        for _ in range(types.count(_SEMI)):
            position = find(_SEMI, position + 1)
            if position > start:
                raw = _make(text, tokens[start:position], tokens[position].start, index, region_start)
                statements.append(raw)
                region_start = raw.stop_line_end + 1
            start = position + 1
        if start < len(tokens):
            statements.append(_make(text, tokens[start:], len(text.rstrip()), index, region_start))
        return statements
    current: list[Any] = []
    atomic_depth = 0
    region_start = 0
    for position, tok in enumerate(tokens):
        ttype = tok.token_type
        if atomic_depth:
            if ttype is _CASE or ttype is _BEGIN:
                atomic_depth += 1
            elif ttype is _END:
                atomic_depth -= 1
            current.append(tok)
            continue
        if ttype is _SEMI:
            if current:
                statements.append(_make(text, current, tok.start, index, region_start))
                region_start = statements[-1].stop_line_end + 1
            current = []
            continue
        if (
            ttype is _BEGIN and current and position + 1 < len(tokens)
            and tokens[position + 1].text.upper() == "ATOMIC"
        ):
            atomic_depth = 1
        current.append(tok)
    if current:
        statements.append(_make(text, current, len(text.rstrip()), index, region_start))
    return statements


def _has_atomic(tokens: list[Any], types: list[Any]) -> bool:
    """Is some BEGIN followed by ATOMIC (a SQL-standard function body)?"""
    last = len(tokens) - 1
    return any(
        ttype is _BEGIN and k < last and tokens[k + 1].text.upper() == "ATOMIC" for k, ttype in enumerate(types)
    )


def _make(text: str, toks: list[Any], end: int, index: LineIndex, region_start: int) -> RawStatement:
    start = toks[0].start
    starts = index.starts
    row = _bisect_right(starts, start) - 1  # LineIndex.position, inlined: called for every statement
    stmt_end = end
    while stmt_end > start and text[stmt_end - 1].isspace():
        stmt_end -= 1
    stop_row = _bisect_right(starts, end if end > start else start)  # LineIndex.line_end
    stop_line_end = starts[stop_row] - 1 if stop_row < len(starts) else 1 << 60
    return RawStatement(toks, start, stmt_end, row + 1, start - starts[row] + 1, stop_line_end, region_start)


# --- comments -------------------------------------------------------------------------------

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_INTERESTING = re.compile(r"[-/'\"$]")  # where a comment, a quote or a dollar quote may start
_COMMENT_MARK = re.compile(r"/\*|\*/")


@dataclass(frozen=True, slots=True)
class Comment:
    start: int
    body: str


class UnterminatedError(ValueError):
    """An unterminated quote or comment; ``offset`` is where it opens."""

    def __init__(self, what: str, offset: int) -> None:
        super().__init__(what)
        self.what = what
        self.offset = offset


def scan_comments(text: str) -> list[Comment]:
    """The comments of ``text`` (``--`` and nested ``/* */``), skipping quoted text.

    Raises ``UnterminatedError`` at the opening of an unterminated quote/comment.

    >>> [c.body for c in scan_comments("SELECT '--no' -- yes\\n/* b */")]
    [' yes', ' b ']
    """
    comments: list[Comment] = []
    n = len(text)
    search = _INTERESTING.search
    i = 0
    while True:
        found = search(text, i)
        if found is None:
            break
        i = found.start()
        ch = text[i]
        if ch == "-":
            if not text.startswith("--", i):
                i += 1
                continue
            j = text.find("\n", i)
            j = n if j == -1 else j
            comments.append(Comment(i, text[i + 2:j]))
            i = j
        elif ch == "/":
            if not text.startswith("/*", i):
                i += 1
                continue
            depth, j = 1, i + 2
            while depth:
                mark = _COMMENT_MARK.search(text, j)
                if mark is None:
                    raise UnterminatedError("unterminated /* comment", i)
                depth += 1 if mark.group() == "/*" else -1
                j = mark.end()
            comments.append(Comment(i, text[i + 2:j - 2]))
            i = j
        elif ch == "'" or ch == '"':
            escape = ch == "'" and i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            j = i + 1
            while True:
                k = text.find(ch, j)
                if k == -1:
                    raise UnterminatedError("unterminated quoted string" if ch == "'" else "unterminated quoted identifier", i)
                if escape and _odd_backslashes(text, k):
                    j = k + 1
                    continue
                if text.startswith(ch, k + 1):
                    j = k + 2
                    continue
                i = k + 1
                break
        else:  # "$"
            m = _DOLLAR.match(text, i)
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
                close = text.find(m.group(0), m.end())
                if close == -1:
                    raise UnterminatedError(f"unterminated dollar-quoted string {m.group(0)}", i)
                i = close + len(m.group(0))
            else:
                i += 1
    return comments


def _odd_backslashes(text: str, k: int) -> bool:
    count = 0
    k -= 1
    while k >= 0 and text[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1
