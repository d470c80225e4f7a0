"""Reading a statement's sqlglot tokens: names, keyword sequences, top-level pieces.

>>> from dbops.lint.sqltext import tokenize
>>> toks = tokenize('ALTER TABLE "Public".users ADD a int, DROP b')
>>> read_name(toks, 2)[:2]
('users', '"Public".users')
>>> [len(p) for p in split_top(toks[5:])]
[3, 2]
"""

from __future__ import annotations

from typing import Any

from sqlglot.tokens import TokenType

Token = Any  # sqlglot.tokens.Token (a compiled class: no useful static type)

# Token types as module constants: the hot loops compare every token's type (an enum attribute
# lookup per comparison otherwise).
T_L_PAREN = TokenType.L_PAREN
T_R_PAREN = TokenType.R_PAREN
T_L_BRACKET = TokenType.L_BRACKET
T_R_BRACKET = TokenType.R_BRACKET
T_COMMA = TokenType.COMMA
T_DOT = TokenType.DOT
T_STAR = TokenType.STAR
T_IDENTIFIER = TokenType.IDENTIFIER
T_NUMBER = TokenType.NUMBER
T_VAR = TokenType.VAR
T_SELECT = TokenType.SELECT
T_COLON = TokenType.COLON
T_COMMAND = TokenType.COMMAND
T_EQ = TokenType.EQ
T_GT = TokenType.GT
T_LT = TokenType.LT
T_HEREDOC_STRING = TokenType.HEREDOC_STRING
T_LOCK = TokenType.LOCK
T_SEMICOLON = TokenType.SEMICOLON
T_STRING = TokenType.STRING

PUNCT = frozenset({T_L_PAREN, T_R_PAREN, T_COMMA, T_SEMICOLON, T_L_BRACKET, T_R_BRACKET, T_EQ, T_STAR})
STRINGS = frozenset({T_STRING, T_HEREDOC_STRING, TokenType.NATIONAL_STRING, TokenType.RAW_STRING,
                     TokenType.BYTE_STRING, TokenType.UNICODE_STRING})
NOT_A_NAME = frozenset(PUNCT | {T_DOT} | STRINGS)
NOT_A_TYPE_WORD = frozenset(NOT_A_NAME | {T_NUMBER})
OPENING = frozenset({T_L_PAREN, T_L_BRACKET})
CLOSING = frozenset({T_R_PAREN, T_R_BRACKET})


def up(tok: Token) -> str:
    return tok.text.upper()


def upper_words(toks: list[Token]) -> list[str]:
    return [t.text.upper() for t in toks]


def bare(tok: Token) -> str:
    """An identifier as PostgreSQL stores it: quoted kept, unquoted folded to lower case."""
    return tok.text if tok.token_type is T_IDENTIFIER else tok.text.lower()


def bare_at(toks: list[Token], i: int) -> str | None:
    return bare(toks[i]) if i < len(toks) else None


def read_name(toks: list[Token], i: int) -> tuple[str | None, str | None, int]:
    """A possibly qualified name at ``toks[i]``: (bare name, as written, next index)."""
    n = len(toks)
    if i >= n or toks[i].token_type in NOT_A_NAME:
        return None, None, i
    first = toks[i]
    i += 1
    if i + 1 < n and toks[i].token_type is T_DOT:
        parts = [first]
        while i + 1 < n and toks[i].token_type is T_DOT:
            parts.append(toks[i + 1])
            i += 2
        display = ".".join(f'"{p.text}"' if p.token_type is T_IDENTIFIER else p.text for p in parts)
        return bare(parts[-1]), display, i
    if first.token_type is T_IDENTIFIER:
        return first.text, f'"{first.text}"', i
    return first.text.lower(), first.text, i


def name_after(toks: list[Token], word: str) -> tuple[str | None, str | None]:
    """The name following the first ``word`` (``ON``, ``INTO``…), or (None, None)."""
    k = index_of(toks, word)
    if k < 0:
        return None, None
    name, display, _ = read_name(toks, k + 1)
    return name, display


def skip_words(toks: list[Token], i: int, *words: str) -> int:
    """Skip the optional word sequence ``words`` when it is present at ``i``."""
    if i + len(words) > len(toks):
        return i
    k = i
    for word in words:
        if toks[k].text.upper() != word:
            return i
        k += 1
    return k


def index_of(toks: list[Token], word: str) -> int:
    for k, tok in enumerate(toks):
        if tok.text.upper() == word:
            return k
    return -1


def split_top(toks: list[Token], sep: Any = T_COMMA) -> list[list[Token]]:
    """``toks`` cut at the separators outside parentheses/brackets (empty parts dropped)."""
    return [toks[a:b] for a, b in top_level_spans(toks, sep)]


def top_level_spans(toks: list[Token], sep: Any = T_COMMA) -> list[tuple[int, int]]:
    """``split_top`` as (start, end) index pairs into ``toks``."""
    spans = []
    depth = 0
    start = 0
    opening, closing = OPENING, CLOSING
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


def top_words(toks: list[Token]) -> list[str]:
    """Upper-case words outside parentheses."""
    out = []
    depth = 0
    for tok in toks:
        ttype = tok.token_type
        if ttype is T_L_PAREN:
            depth += 1
        elif ttype is T_R_PAREN:
            depth -= 1
        elif depth == 0:
            out.append(tok.text.upper())
    return out


def has_seq(words: list[str], *seq: str) -> bool:
    """Does ``seq`` occur, contiguous, in ``words``?

    >>> has_seq(["ADD", "NOT", "VALID"], "NOT", "VALID"), has_seq(["NOT"], "NOT", "VALID")
    (True, False)
    """
    n = len(seq)
    if not n:
        return True
    first, target = seq[0], list(seq)
    return any(words[k] == first and words[k:k + n] == target for k in range(len(words) - n + 1))


def span(text: str, toks: list[Token]) -> str:
    """The source text from the first to the last of ``toks``."""
    return text[toks[0].start:toks[-1].end + 1] if toks else ""


def matching_paren(toks: list[Token], i: int) -> int | None:
    """Index of the ``)`` closing the ``(`` at ``toks[i]``."""
    if i >= len(toks) or toks[i].token_type is not T_L_PAREN:
        return None
    depth = 0
    for k in range(i, len(toks)):
        ttype = toks[k].token_type
        if ttype is T_L_PAREN:
            depth += 1
        elif ttype is T_R_PAREN:
            depth -= 1
            if depth == 0:
                return k
    return None


def names_list(toks: list[Token], i: int) -> list[tuple[str, str]]:
    """The comma-separated names from ``toks[i]`` on (``a, public.b``), as (bare, as written)."""
    out = []
    for part in split_top(toks[i:]):
        name, display, _ = read_name(part, 0)
        if name and display and up(part[0]) not in ("CASCADE", "RESTRICT"):
            out.append((name, display))
    return out


def strip_tail(toks: list[Token], words: tuple[str, ...]) -> tuple[list[Token], str | None]:
    """``toks`` without a trailing word of ``words`` (``CASCADE``), and that word."""
    if toks and up(toks[-1]) in words:
        return toks[:-1], up(toks[-1])
    return toks, None


def options_words(toks: list[Token], i: int) -> tuple[list[str], int]:
    """A parenthesised option list at ``i`` (``REINDEX (CONCURRENTLY)``): its words, the next index."""
    if i < len(toks) and toks[i].token_type is T_L_PAREN:
        close = matching_paren(toks, i)
        if close is not None:
            return [t.text.upper() for t in toks[i + 1:close]], close + 1
    return [], i


def parse(toks: list[Token], text: str) -> Any:
    """sqlglot's tree for already-tokenized statement tokens; None on a parse error."""
    from dbops.lint.sqltext import dialect

    try:
        trees = dialect().parser().parse(toks, text)
    except Exception:  # sqlglot raises ParseError, and sometimes plain errors on odd input
        return None
    return trees[0] if trees else None


def parse_sql(sql: str) -> Any:
    """sqlglot's tree for a SQL text; None when it does not tokenize or parse."""
    from dbops.lint.sqltext import tokenize

    try:
        return parse(tokenize(sql), sql)
    except Exception:
        return None
