"""Named parameters (``:clinic_id``) in budget SQL, found with sqlglot's tokenizer.

Tokens, not a regular expression, so that ``::date`` casts, ``':x'`` strings
and comments are never mistaken for parameters.

>>> placeholders("SELECT a::date FROM t WHERE c = :clinic_id AND s = ':no' LIMIT :limit")
['clinic_id', 'limit']
>>> to_pyformat("SELECT 1 FROM t WHERE n LIKE '%x' AND c = :c")
"SELECT 1 FROM t WHERE n LIKE '%%x' AND c = %(c)s"
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _spans(sql: str) -> list[tuple[int, int, str]]:
    """(start, end exclusive, name) of each ``:name`` in ``sql``."""
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.tokens import TokenType

    tokens = Postgres().tokenize(sql)
    spans = []
    for colon, name in itertools.pairwise(tokens):
        if colon.token_type == TokenType.COLON and name.start == colon.end + 1 and _NAME.match(name.text):
            spans.append((colon.start, name.end + 1, name.text))
    return spans


def placeholders(sql: str) -> list[str]:
    """Parameter names in order of first appearance."""
    return list(dict.fromkeys(name for _, _, name in _spans(sql)))


def to_pyformat(sql: str) -> str:
    """``:name`` → ``%(name)s`` and ``%`` → ``%%`` (psycopg's client-side parameter style)."""
    out = []
    last = 0
    for start, end, name in _spans(sql):
        out.append(sql[last:start].replace("%", "%%"))
        out.append(f"%({name})s")
        last = end
    out.append(sql[last:].replace("%", "%%"))
    return "".join(out)


def render(conn: Any, sql: str, values: Mapping[str, Any]) -> str:
    """The SQL with the parameter values inlined as literals (psycopg's client-side binding)."""
    import psycopg

    cursor = psycopg.ClientCursor(conn)
    try:
        return cursor.mogrify(to_pyformat(sql), dict(values))
    finally:
        cursor.close()
