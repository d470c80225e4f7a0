"""Splitting SQL text into statements, then tokenizing each on the sqlglot Postgres tokenizer.

One regex-driven pass (``scan``) finds the top-level semicolons — skipping quoted strings,
quoted identifiers, dollar-quoted bodies and (nested) comments, psql meta-commands and
``COPY … FROM stdin`` data — and collects the comments that carry directives
(``-- dbops: ignore[rule] reason``), so a directive inside a string literal is never read.
Each statement is then tokenized on its own (sqlglot's tokenizer slows down on one huge
text: this keeps time and memory linear), ``BEGIN ATOMIC … END`` function bodies stay whole,
and each statement's line/column is its first character's.

>>> [s.line for s in split("SELECT 1;\\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\\n")]
[1, 2]
"""

from __future__ import annotations

import bisect
import re
from array import array
from bisect import bisect_right as _bisect_right
from collections.abc import Iterator
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
        # A big text (a dump): 8 bytes a line instead of a list's 36; a migration: a list (faster bisect).
        self.starts: list[int] | array[int] = array("q", starts) if len(starts) > 50_000 else starts

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
    """One statement: where it is in the file, and its tokens.

    ``start``/``end`` are offsets in the file (``end`` before the ``;``, trailing blanks cut);
    ``source`` is the statement's own text (``text[start:end]``) and ``tokens`` are its sqlglot
    tokens with offsets into ``source`` (each statement is tokenized on its own: time and memory
    stay linear in the size of the file).
    """

    tokens: list[Any]
    start: int
    end: int
    line: int
    column: int
    stop_line_end: int = 0  # end of the line holding the terminating ``;``
    region_start: int = 0  # comments from here up to stop_line_end belong to this statement
    source: str = ""
    error: str | None = None  # why it could not be tokenized
    local: bool = True  # token offsets are into ``source`` (else into the file's text)


def rest_text(text: str, raw: RawStatement, after: int = 0) -> tuple[str, int]:
    """The statement text after its token number ``after`` and that text's offset.

    sqlglot turns everything after a command keyword (LOCK, DO, REINDEX,
    VACUUM…) into one string token with unreliable offsets: callers re-read
    the text from here instead.
    """
    start = raw.tokens[after].end + 1
    return text[start:raw.end], start


@dataclass(slots=True)
class Scanned:
    """A SQL text cut into statements: each one's span, and the comments that matter.

    ``spans`` holds three numbers per statement, flat: its first character, its end (before the
    ``;`` and trailing blanks) and the offset of its ``;`` (-1 for a last statement without one).
    """

    spans: array[int]
    comments: list[Comment]
    tokens: list[Any] | None = None  # the whole text's tokens, when it was small enough to tokenize at once
    bounds: list[int] | None = None  # with ``tokens``: each statement's first token and end token, flat
    atomic: bool = False  # with ``tokens``: a ``BEGIN ATOMIC`` body somewhere

    def __len__(self) -> int:
        return len(self.spans) // 3

    def span(self, k: int) -> tuple[int, int, int]:
        spans = self.spans
        return spans[3 * k], spans[3 * k + 1], spans[3 * k + 2]


def split(text: str, *, index: LineIndex | None = None, needles: tuple[str, ...] = ("dbops:",)) -> list[RawStatement]:
    """Split ``text`` into statements, each tokenized on its own.

    Top-level semicolons end statements; ``BEGIN ATOMIC … END`` bodies stay whole; empty
    statements, psql meta-commands (``\\connect``) and ``COPY … FROM stdin`` data are skipped.
    Raises ``UnterminatedError`` for an unterminated quote, dollar quote or comment.
    """
    return list(statements(text, scan(text, needles), index=index or LineIndex(text)))


# Up to this size one tokenizer call for the whole text is cheaper than one per statement (a
# typical migration); above it, per statement (sqlglot's tokenizer slows down on a huge text).
WHOLE_TEXT_LIMIT = 1 << 16


def statements(text: str, scanned: Scanned, *, index: LineIndex) -> Iterator[RawStatement]:
    """The statements of a scanned text, one at a time (tokenized; ``BEGIN ATOMIC`` bodies merged)."""
    if scanned.tokens is not None:
        yield from _from_text_tokens(text, scanned, scanned.tokens, index)
    else:
        yield from _one_by_one(text, scanned, index)


def _from_text_tokens(text: str, scanned: Scanned, tokens: list[Any], index: LineIndex) -> Iterator[RawStatement]:
    """Statements cut from the whole text's tokens (offsets into ``text``); a span whose tokens do not
    fit it exactly (the scanner and the tokenizer disagree) is tokenized on its own."""
    spans, bounds, atomic = scanned.spans, scanned.bounds or [], scanned.atomic
    region_start = 0
    k, count = 0, len(scanned)
    while k < count:
        start, end, semi = spans[3 * k], spans[3 * k + 1], spans[3 * k + 2]
        lo = bounds[2 * k]
        toks = tokens[lo:bounds[2 * k + 1]]
        if atomic and toks and _BEGIN in [t.token_type for t in toks] and _has_atomic(toks):
            while _atomic_depth(toks) > 0 and k + 1 < count:
                k += 1
                _, end, semi = scanned.span(k)
                toks = tokens[lo:bounds[2 * k + 1]]
        if toks and toks[-1].end < end:
            raw = _make(text, toks, start, end, semi, index, region_start, "")
            raw.local = False
        else:
            raw = _tokenized(text, start, end, semi, index, region_start)
        region_start = raw.stop_line_end + 1
        k += 1
        yield raw


def _tokenized(text: str, start: int, end: int, semi: int, index: LineIndex, region_start: int) -> RawStatement:
    source = text[start:end]
    try:
        tokens, error = tokenize(source), None
    except Exception as exc:  # sqlglot's TokenError: this statement is unanalysed, not the file
        tokens, error = [], str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    raw = _make(text, tokens, start, end, semi, index, region_start, source)
    raw.error = error
    return raw


def _one_by_one(text: str, scanned: Scanned, index: LineIndex) -> Iterator[RawStatement]:
    region_start = 0
    k, count = 0, len(scanned)
    while k < count:
        start, end, semi = scanned.span(k)
        source = text[start:end]
        try:
            tokens = tokenize(source)
            if _BEGIN in [t.token_type for t in tokens] and _has_atomic(tokens):
                k, end, semi, source, tokens = _atomic_body(text, scanned, k, tokens)
            error = None
        except Exception as exc:  # sqlglot's TokenError: this statement is unanalysed, not the file
            tokens, error = [], str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raw = _make(text, tokens, start, end, semi, index, region_start, source)
        raw.error = error
        region_start = raw.stop_line_end + 1
        k += 1
        yield raw


def _atomic_body(text: str, scanned: Scanned, k: int, tokens: list[Any]) -> tuple[int, int, int, str, list[Any]]:
    """Merge spans ``k``, ``k+1``… until the ``BEGIN ATOMIC`` body opened in span ``k`` is closed."""
    start, end, semi = scanned.span(k)
    while _atomic_depth(tokens) > 0 and k + 1 < len(scanned):
        k += 1
        _, end, semi = scanned.span(k)
        tokens = tokenize(text[start:end])
    return k, end, semi, text[start:end], tokens


def _atomic_depth(tokens: list[Any]) -> int:
    """How many BEGIN/CASE blocks of a ``BEGIN ATOMIC`` body are still open at the end of ``tokens``."""
    depth = 0
    last = len(tokens) - 1
    for k, tok in enumerate(tokens):
        ttype = tok.token_type
        if depth:
            if ttype is _CASE or ttype is _BEGIN:
                depth += 1
            elif ttype is _END:
                depth -= 1
        elif ttype is _BEGIN and k < last and tokens[k + 1].text.upper() == "ATOMIC":
            depth = 1
    return depth


def _has_atomic(tokens: list[Any]) -> bool:
    """Is some BEGIN followed by ATOMIC (a SQL-standard function body)?"""
    last = len(tokens) - 1
    return any(
        tok.token_type is _BEGIN and k < last and tokens[k + 1].text.upper() == "ATOMIC" for k, tok in enumerate(tokens)
    )


def _make(text: str, toks: list[Any], start: int, end: int, semi: int, index: LineIndex, region_start: int,
          source: str) -> RawStatement:
    starts = index.starts
    row = _bisect_right(starts, start) - 1  # LineIndex.position, inlined: called for every statement
    stop = semi if semi >= 0 else end
    stop_row = _bisect_right(starts, stop if stop > start else start)  # LineIndex.line_end
    stop_line_end = starts[stop_row] - 1 if stop_row < len(starts) else 1 << 60
    return RawStatement(toks, start, end, row + 1, start - starts[row] + 1, stop_line_end, region_start, source)


# --- comments -------------------------------------------------------------------------------

# The scanner jumps from one character that may matter to the next (``_CANDIDATE``: a fast
# search), then reads the token there (``_TOKEN``): what can hide a semicolon (quotes, comments)
# and the semicolon itself. Quoted texts are matched whole (unrolled loops: linear, no
# backtracking blow-up); an opening quote that matches no whole text is unterminated.
_CANDIDATE = re.compile(r"[;'\"$/-]")
_TOKEN = re.compile(r"""
    (?P<semi>;)
  | (?P<line>--[^\n]*)
  | (?P<block>/\*)
  | (?P<string>'[^']*(?:''[^']*)*')
  | (?P<ident>"[^"]*(?:""[^"]*)*")
  | (?P<dollar>\$(?:[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$)
  | (?P<open>['"])
""", re.X | re.S)
_ESTRING = re.compile(r"[eE]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.S)  # E'…' with backslash escapes
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\uffff]")
_NONSPACE = re.compile(r"\S")
_COMMENT_MARK = re.compile(r"/\*|\*/")
_COPY_FROM_STDIN = re.compile(r"copy\b.*\bfrom\s+stdin\b", re.I | re.S)
_END_OF_COPY = re.compile(r"^\\\.[ \t\r]*$", re.M)


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


@dataclass(slots=True)
class _Scanner:
    """The state of one scan: the statement being read, what was found so far."""

    text: str
    needles: tuple[str, ...] | None
    spans: array[int] = field(default_factory=lambda: array("q"))
    comments: list[Comment] = field(default_factory=list)
    start: int = -1  # first character of the current statement, -1 before it

    def gap(self, pos: int, stop: int) -> int:
        """Note the statement's first character in ``text[pos:stop]``; the position to go on from."""
        if self.start >= 0:
            return pos
        found = _NONSPACE.search(self.text, pos, stop)
        if found is None:
            return pos
        if self.text[found.start()] == "\\":  # a psql meta-command (\connect …): skip its line
            end = self.text.find("\n", found.start())
            return len(self.text) if end == -1 else end
        self.start = found.start()
        return pos

    def comment(self, start: int, body: str) -> None:
        if self.needles is None or any(n in body for n in self.needles):
            self.comments.append(Comment(start, body))

    def end_statement(self, semi: int) -> int:
        """Close the statement at ``semi`` (-1: end of text); the position to go on from."""
        text = self.text
        if self.start < 0:
            return semi + 1
        end = semi if semi >= 0 else len(text)
        while end > self.start and text[end - 1].isspace():
            end -= 1
        self.spans.extend((self.start, end, semi))
        copy = _COPY_FROM_STDIN.match(text, self.start, end)
        self.start = -1
        if copy is None or semi < 0:
            return semi + 1
        return _after_copy_data(text, semi)


def _after_copy_data(text: str, semi: int) -> int:
    """The end of the data of ``COPY … FROM stdin`` (psql: the next lines, up to a line ``\\.``)."""
    line_end = text.find("\n", semi)
    if line_end == -1:
        return len(text)
    found = _END_OF_COPY.search(text, line_end + 1)
    return len(text) if found is None else found.end()


def _needs_scanner(text: str) -> bool:
    """Might the text hold what the tokenizer cannot cut by itself (psql meta-commands, COPY … FROM stdin
    data)? A cheap over-approximation: a backslash, or the word stdin."""
    return "\\" in text or "stdin" in text.lower()


def scan(text: str, needles: tuple[str, ...] | None = None) -> Scanned:
    """Cut ``text`` into statement spans, and collect its comments holding one of ``needles`` (all when None).

    A small text (a typical migration) is tokenized at once and cut at its semicolon tokens; a
    large one (a dump) is cut by a character scanner first, so that each statement can be
    tokenized on its own. Raises ``UnterminatedError`` at the opening of an unterminated quote,
    dollar quote or comment.
    """
    if len(text) <= WHOLE_TEXT_LIMIT and not _needs_scanner(text):
        try:
            tokens = tokenize(text)
        except Exception:  # unterminated or odd: the scanner says where, or cuts around it
            tokens = None
        if tokens is not None:
            comments = scan_text(text, needles).comments if _mentions(text, needles) else []
            return _token_spans(text, tokens, comments)
    return scan_text(text, needles)


def _mentions(text: str, needles: tuple[str, ...] | None) -> bool:
    return needles is None or any(needle in text for needle in needles)


def _token_spans(text: str, tokens: list[Any], comments: list[Comment]) -> Scanned:
    """Statement spans cut at the semicolon tokens (the same spans as the character scanner's)."""
    flat: list[int] = []
    bounds: list[int] = []
    types = [tok.token_type for tok in tokens]
    first, position = 0, -1
    for _ in range(types.count(_SEMI)):
        position = types.index(_SEMI, position + 1)
        if position > first:
            start, semi = tokens[first].start, tokens[position].start
            end = semi
            while end > start and text[end - 1].isspace():
                end -= 1
            flat += (start, end, semi)
            bounds += (first, position)
        first = position + 1
    if first < len(tokens):
        start = tokens[first].start
        flat += (start, _trim(text, start, len(text)), -1)
        bounds += (first, len(tokens))
    atomic = _BEGIN in types and _has_atomic(tokens)
    return Scanned(array("q", flat), comments, tokens, bounds, atomic)


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def scan_text(text: str, needles: tuple[str, ...] | None = None) -> Scanned:
    """Cut ``text`` into statement spans in one pass of a character scanner, and collect its comments.

    Only comments containing one of ``needles`` are kept (all when None). Raises
    ``UnterminatedError`` at the opening of an unterminated quote, dollar quote or comment.

    >>> scanned = scan("SELECT ';'; -- x\\nSELECT 2", needles=None)
    >>> [scanned.span(k) for k in range(len(scanned))], [c.body for c in scanned.comments]
    ([(0, 10, 10), (17, 25, -1)], [' x'])
    """
    state = _Scanner(text, needles)
    pos, n = 0, len(text)
    search = _CANDIDATE.search
    while pos < n:
        found = search(text, pos)
        stop = n if found is None else found.start()
        after = state.gap(pos, stop)
        if after != pos:  # a psql meta-command line was skipped: look again from its end
            pos = after
            continue
        if found is None:
            break
        pos = _step(state, found.start())
    state.end_statement(-1)
    return Scanned(state.spans, state.comments)


def _step(state: _Scanner, at: int) -> int:
    """Read the token at ``at`` (a candidate character); the position to go on from."""
    text = state.text
    if text[at] == "'" and at > 0 and text[at - 1] in "eE" and (at < 2 or not _IDENT_CHAR.match(text, at - 2)):
        estring = _ESTRING.match(text, at - 1)
        if estring is None:
            raise UnterminatedError("unterminated quoted string", at)
        return estring.end()
    token = _TOKEN.match(text, at)
    if token is None or (token.lastgroup == "dollar" and at > 0 and _IDENT_CHAR.match(text, at - 1)):
        return at + 1  # a lone ``-``, ``/`` or ``$`` (``$1``, ``a$b``)
    return _consume(state, token, token.lastgroup)


def _consume(state: _Scanner, found: re.Match[str], kind: str | None) -> int:
    """Act on one scanner token; the position after it."""
    text = state.text
    if kind == "semi":
        return state.end_statement(found.start())
    if kind == "line":
        state.comment(found.start(), found.group()[2:])
        return found.end()
    if kind == "block":
        end = _block_end(text, found.start())
        state.comment(found.start(), text[found.start() + 2:end - 2])
        return end
    if state.start < 0:
        state.start = found.start()
    if kind == "dollar":
        close = text.find(found.group(), found.end())
        if close == -1:
            raise UnterminatedError(f"unterminated dollar-quoted string {found.group()}", found.start())
        return close + len(found.group())
    if kind == "open":
        what = "unterminated quoted string" if found.group() == "'" else "unterminated quoted identifier"
        raise UnterminatedError(what, found.start())
    return found.end()


def _block_end(text: str, start: int) -> int:
    """The end of the (nested) ``/* */`` comment opening at ``start``."""
    depth, j = 1, start + 2
    while depth:
        mark = _COMMENT_MARK.search(text, j)
        if mark is None:
            raise UnterminatedError("unterminated /* comment", start)
        depth += 1 if mark.group() == "/*" else -1
        j = mark.end()
    return j


def scan_comments(text: str) -> list[Comment]:
    """The comments of ``text`` (``--`` and nested ``/* */``), skipping quoted text.

    Raises ``UnterminatedError`` at the opening of an unterminated quote/comment.

    >>> [c.body for c in scan_comments("SELECT '--no' -- yes\\n/* b */")]
    [' yes', ' b ']
    """
    return scan(text).comments
