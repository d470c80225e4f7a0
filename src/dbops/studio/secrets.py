"""Which columns the studio never reads: secrets by name, by configuration, and through views.

A secret column is never selected (its values never leave the database), and
cannot be sorted, filtered, searched, exported or written.

By name: the column name is split into words (``_``, digits, camelCase) and a
column is secret when one word is a secret word, or the name contains a
secret stem anywhere.

>>> [name for name in ("passwd", "private_key", "credentials", "totp_seed", "password_hash",
...                    "apiKey", "refresh_tokens", "pwd", "salt", "otp_code", "monkey", "hotpot",
...                    "keyboard", "email", "clinic_id", "notes") if is_secret_name(name)]
['passwd', 'private_key', 'credentials', 'totp_seed', 'password_hash', 'apiKey', 'refresh_tokens', 'pwd', 'salt', 'otp_code']

By configuration (``[tool.dbops.studio] secret_columns``): glob patterns on
``column``, ``table.column``, ``namespace.table.column`` or
``schema.namespace.table.column`` (the pattern's dots say which):

>>> rules = SecretRules(("users.phone", "*.iban", "fashion.public.clients.email"))
>>> rules.is_secret("healthcare", "public", "users", "phone"), rules.is_secret("healthcare", "public", "patients", "phone")
(True, False)
>>> rules.is_secret("fashion", "public", "orders", "iban"), rules.is_secret("fashion", "public", "clients", "email")
(True, True)
>>> rules.is_secret("healthcare", "public", "clients", "email")
False

Through views: PostgreSQL records, for each output column of a view that is a
plain reference to a column of a table or view (through subqueries and CTEs),
that origin in the view's rewrite rule (``pg_rewrite.ev_action``,
``resorigtbl``/``resorigcol``). A view column is secret when its origin is.
An output column that is an expression has no recorded origin: it is secret
when the view depends (``pg_depend``) on any secret column, since PostgreSQL
does not say which inputs the expression uses.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

# A secret when one of the name's words is one of these.
SECRET_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "keys",
        "credential",
        "credentials",
        "salt",
        "hash",
        "hashed",
        "totp",
        "otp",
        "hotp",
        "mfa",
        "pin",
        "cvv",
        "cvc",
        "apikey",
        "jwt",
        "bearer",
        "cookie",
        "cookies",
    }
)
# A secret when the name contains one of these anywhere ("userpassword", "apitoken", "clientsecret").
SECRET_STEMS = ("password", "passwd", "secret", "credential", "token", "apikey", "privatekey", "totp")

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def name_words(name: str) -> list[str]:
    """The lower-case words of a column name.

    >>> name_words("refreshToken_v2"), name_words("API_KEY"), name_words("totpSeed")
    (['refresh', 'token', 'v'], ['api', 'key'], ['totp', 'seed'])
    """
    return [w.lower() for w in _WORDS.findall(name)]


def is_secret_name(name: str) -> bool:
    """True when the name looks like a secret (see the module docstring)."""
    lowered = re.sub(r"[^a-z]", "", name.lower())
    if any(stem in lowered for stem in SECRET_STEMS):
        return True
    return any(word in SECRET_WORDS for word in name_words(name))


@dataclass(frozen=True)
class SecretRules:
    """Name patterns plus the configured ``secret_columns`` globs."""

    configured: tuple[str, ...] = ()

    def is_secret(self, schema: str, namespace: str, table: str, column: str) -> bool:
        if is_secret_name(column):
            return True
        parts = (schema, namespace, table, column)
        for pattern in self.configured:
            depth = pattern.count(".") + 1
            if depth <= 4 and fnmatch.fnmatchcase(".".join(parts[-depth:]), pattern):
                return True
        return False


_VIEW_RULES = """
SELECT r.ev_class, r.ev_action
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE r.rulename = '_RETURN' AND c.relkind IN ('v', 'm')
"""

# Every column each view/materialized view depends on (through its _RETURN rule).
_VIEW_DEPENDENCIES = """
SELECT r.ev_class, d.refobjid, d.refobjsubid
FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                 AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
WHERE r.rulename = '_RETURN' AND c.relkind IN ('v', 'm') AND d.refobjid <> r.ev_class
"""

_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, n.nspname, c.relname, c.relkind
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
"""


@dataclass
class _Column:
    namespace: str
    relation: str
    name: str
    kind: str


@dataclass
class ViewSecrets:
    """Secret columns of every view of a database, derived from their sources."""

    by_relation: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def secret_columns(self, namespace: str, relation: str) -> set[str]:
        return self.by_relation.get((namespace, relation), set())


def view_secrets(conn: psycopg.Connection, schema: str, rules: SecretRules) -> ViewSecrets:
    """Follow every view's column origins and dependencies to the secret columns of its sources."""
    columns: dict[tuple[int, int], _Column] = {}
    relation_of: dict[int, tuple[str, str, str]] = {}
    for relid, attnum, attname, nspname, relname, relkind in conn.execute(_COLUMNS).fetchall():
        columns[(relid, attnum)] = _Column(nspname, relname, attname, relkind)
        relation_of[relid] = (nspname, relname, relkind)
    origins = {relid: target_origins(action) for relid, action in conn.execute(_VIEW_RULES).fetchall()}
    depends: dict[int, list[tuple[int, int]]] = {}
    for view, refobjid, refobjsubid in conn.execute(_VIEW_DEPENDENCIES).fetchall():
        depends.setdefault(view, []).append((refobjid, refobjsubid))

    memo: dict[tuple[int, int], bool] = {}

    def secret(relid: int, attnum: int, seen: frozenset[tuple[int, int]] = frozenset()) -> bool:
        key = (relid, attnum)
        if key in memo:
            return memo[key]
        column = columns.get(key)
        if column is None or key in seen:
            return False
        result = rules.is_secret(schema, column.namespace, column.relation, column.name)
        if not result and relid in origins:
            origin = origins[relid].get(attnum)
            if origin is not None and origin[0] != 0:
                result = secret(origin[0], origin[1], seen | {key})
            else:  # an expression: secret when the view reads any secret column
                result = any(secret(ref, sub, seen | {key}) for ref, sub in depends.get(relid, ()))
        memo[key] = result
        return result

    out = ViewSecrets()
    for (relid, attnum), column in columns.items():
        if relid in origins and secret(relid, attnum):
            out.by_relation.setdefault((column.namespace, column.relation), set()).add(column.name)
    return out


def target_origins(node_tree: str) -> dict[int, tuple[int, int]]:
    """``resno -> (resorigtbl, resorigcol)`` of the top-level query's target list of a rewrite rule.

    ``node_tree`` is ``pg_rewrite.ev_action`` (PostgreSQL's node-tree text). Subqueries
    (inside the range table) are skipped: only the outer query's target entries count.

    >>> tree = ('({QUERY :rtable ({RANGETBLENTRY :subquery {QUERY :targetList ({TARGETENTRY :resno 1 '
    ...         ':resorigtbl 9 :resorigcol 9})}}) :targetList ({TARGETENTRY :expr {VAR :varno 1} :resno 1 '
    ...         ':resname id :resorigtbl 16446 :resorigcol 1 :resjunk false} {TARGETENTRY :expr {FUNCEXPR} '
    ...         ':resno 2 :resname lower\\\\ ph :resorigtbl 0 :resorigcol 0 :resjunk false})})')
    >>> target_origins(tree)
    {1: (16446, 1), 2: (0, 0)}
    """
    tokens = _node_tokens(node_tree)
    out: dict[int, tuple[int, int]] = {}
    depth = 0  # brace depth: 1 inside the outer QUERY node
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:  # the outer QUERY node ended (a rule may hold several queries: first one wins)
                break
        elif token == ":targetList" and depth == 1:
            i = _read_target_list(tokens, i + 1, out)
            continue
        i += 1
    return out


def _read_target_list(tokens: list[str], i: int, out: dict[int, tuple[int, int]]) -> int:
    """Read ``( {TARGETENTRY …} … )`` from ``tokens[i]``; return the index after it."""
    if i >= len(tokens) or tokens[i] != "(":
        return i
    parens, depth = 0, 0
    fields: dict[str, str] = {}
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            parens += 1
        elif token == ")":
            parens -= 1
            if parens == 0 and depth == 0:
                return i + 1
        elif token == "{":
            depth += 1
            if depth == 1:
                fields = {}
        elif token == "}":
            depth -= 1
            if depth == 0 and "resno" in fields:
                out[int(fields["resno"])] = (int(fields.get("resorigtbl", "0")), int(fields.get("resorigcol", "0")))
        elif depth == 1 and token.startswith(":") and i + 1 < len(tokens):
            fields[token[1:]] = tokens[i + 1]
        i += 1
    return i


def _node_tokens(text: str) -> list[str]:
    """Split node-tree text into braces, parentheses and words (backslash escapes kept inside words)."""
    tokens: list[str] = []
    word: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            word.append(text[i + 1])
            i += 2
            continue
        if ch in "{}()" or ch.isspace():
            if word:
                tokens.append("".join(word))
                word = []
            if not ch.isspace():
                tokens.append(ch)
        else:
            word.append(ch)
        i += 1
    if word:
        tokens.append("".join(word))
    return tokens


def merge_secrets(
    names: Iterable[str],
    rules: SecretRules,
    schema: str,
    namespace: str,
    relation: str,
    through_views: Mapping[tuple[str, str], set[str]] | None = None,
) -> set[str]:
    """The secret columns among ``names`` of one relation."""
    derived = (through_views or {}).get((namespace, relation), set())
    return {name for name in names if name in derived or rules.is_secret(schema, namespace, relation, name)}
