"""Column definitions and column changes: types, defaults, constraints, generated columns.

The token view is tried first; sqlglot's tree is consulted only for what the tokens cannot
settle (an unknown function in a default, an odd type).

>>> from dbops.lint.sqltext import tokenize
>>> type_from_tokens(tokenize("numeric(12, 2)"))
TypeInfo(name='numeric', params=(12, 2), array=False)
>>> a = Action(ActionKind.ADD_COLUMN)
>>> column_def_tokens(a, tokenize("token uuid NOT NULL DEFAULT gen_random_uuid()"))
True
>>> (a.column, a.type.name, a.not_null, a.default_volatile)
('token', 'uuid', True, True)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dbops.lint import locks as L
from dbops.lint.facts.model import Action, ActionKind
from dbops.lint.facts.tokens import (
    NOT_A_TYPE_WORD,
    PUNCT,
    T_COMMA,
    T_DOT,
    T_IDENTIFIER,
    T_L_BRACKET,
    T_L_PAREN,
    T_NUMBER,
    T_R_BRACKET,
    T_R_PAREN,
    T_SELECT,
    T_VAR,
    Token,
    bare,
    matching_paren,
    parse_sql,
    read_name,
    skip_words,
    span,
    top_words,
    up,
    upper_words,
)
from dbops.lint.pgtypes import SERIAL_DTYPES, VOLATILE_FUNCTIONS, TypeInfo, canonical, default_volatility, from_datatype

COLDEF_STOP = frozenset({"DEFAULT", "NOT", "NULL", "PRIMARY KEY", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK",
                         "CONSTRAINT", "GENERATED", "COLLATE", "DEFERRABLE", "INITIALLY", "COMPRESSION", "STORAGE"})
_STABLE_FUNCTIONS = frozenset({"now", "current_timestamp", "current_date", "transaction_timestamp",
                               "statement_timestamp", "localtimestamp", "current_time", "localtime", "lower", "upper",
                               "array", "jsonb_build_object", "json_build_object", "to_jsonb", "coalesce",
                               "make_interval", "interval", "timezone"})
_SERIAL_WORDS = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL4", "SERIAL8", "SERIAL2"})
_NEEDS_TREE = "tree"  # a default the tokens cannot judge: sqlglot's tree decides


# --- types --------------------------------------------------------------------------------------


def type_from_tokens(toks: list[Token]) -> TypeInfo | None:
    """A TypeInfo from the tokens of a type name (``character varying(20)[]``), None when not one."""
    words: list[str] = []
    params: list[int] = []
    array = False
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        ttype = tok.token_type
        if ttype is T_L_PAREN:
            i = _type_params(toks, i, params)
            if i < 0:
                return None
        elif ttype is T_L_BRACKET:
            array = True
            i = _after_bracket(toks, i)
        elif ttype in NOT_A_TYPE_WORD:
            return None
        else:
            array = _type_word(tok, words) or array
            i += 1
    if not words:
        return None
    return _type_info(" ".join(words).replace(" . ", "."), tuple(params), array)


def _type_params(toks: list[Token], i: int, params: list[int]) -> int:
    """Read ``(12, 2)`` into ``params``; the index after it, -1 when it is not a plain list of numbers."""
    close = matching_paren(toks, i)
    if close is None:
        return -1
    for inner in toks[i + 1:close]:
        if inner.token_type is T_NUMBER:
            params.append(int(inner.text))
        elif inner.token_type is not T_COMMA:
            return -1
    return close + 1


def _after_bracket(toks: list[Token], i: int) -> int:
    while i < len(toks) and toks[i].token_type is not T_R_BRACKET:
        i += 1
    return i + 1


def _type_word(tok: Token, words: list[str]) -> bool:
    """Add one word of a type name to ``words``; True when it says ARRAY."""
    if tok.token_type is T_DOT:
        words.append(".")
        return False
    text = tok.text
    if text.upper() == "ARRAY":
        return True
    words.append(text if tok.token_type is T_IDENTIFIER else text.lower())
    return False


@lru_cache(maxsize=4096)
def _type_info(name: str, params: tuple[int, ...], array: bool) -> TypeInfo:
    """One (immutable, shared) TypeInfo per type as written: migrations repeat a handful of types."""
    return TypeInfo(canonical(name), params, array)


# --- column definitions from tokens -------------------------------------------------------------


def column_def_tokens(action: Action, toks: list[Token], upper: list[str] | None = None) -> bool:
    """Fill ``action`` from a column definition's tokens; False when sqlglot is needed.

    ``upper`` is the upper-cased text of ``toks`` when the caller has it already.
    """
    if not toks:
        return False
    if upper is None:
        upper = upper_words(toks)
    action.column = bare(toks[0])
    i, n = 1, len(toks)
    while i < n and upper[i] not in COLDEF_STOP:
        i += 1
    info = action.type = type_from_tokens(toks[1:i])
    if info is None:
        return False
    if i > 1 and upper[1] in _SERIAL_WORDS:
        action.generated = "serial"
    action.json = info.name == "json" and not info.array
    return _column_constraints(action, toks[i:], upper[i:])


def _column_constraints(action: Action, rest: list[Token], words: list[str]) -> bool:
    """DEFAULT, NOT NULL, PRIMARY KEY, UNIQUE, REFERENCES, CHECK, GENERATED after a column's type."""
    k, n = 0, len(rest)
    while k < n:
        word = words[k]
        if word == "DEFAULT":
            k = _default(action, rest, words, k)
            if k < 0:
                return False
        elif word == "NOT" and k + 1 < n and words[k + 1] == "NULL":
            action.not_null = True
            k += 2
        elif word == "GENERATED":
            return _generated(action, words[k:])
        else:
            _constraint_word(action, rest, word, k)
            k += 1
    return True


def _default(action: Action, rest: list[Token], words: list[str], k: int) -> int:
    """Read ``DEFAULT expr`` at ``k``; the index after it, -1 when sqlglot's tree must judge it."""
    end, depth, n = k + 1, 0, len(rest)
    while end < n:
        ttype = rest[end].token_type
        if ttype is T_L_PAREN:
            depth += 1
        elif ttype is T_R_PAREN:
            depth -= 1
        elif depth == 0 and words[end] in COLDEF_STOP:
            break
        end += 1
    expr = rest[k + 1:end]
    volatile = _token_volatility(expr)
    if volatile == _NEEDS_TREE:
        return -1
    action.has_default = True
    action.default_sql = " ".join(t.text for t in expr)
    action.default_volatile = bool(volatile)
    return end


def _token_volatility(expr: list[Token]) -> bool | str:
    """True for a known volatile call, False when every call is known stable, else ``_NEEDS_TREE``."""
    for m, tok in enumerate(expr):
        ttype = tok.token_type
        if ttype is T_SELECT:
            return _NEEDS_TREE
        if m + 1 < len(expr) and expr[m + 1].token_type is T_L_PAREN and ttype not in PUNCT:
            fname = tok.text.lower()
            if fname in VOLATILE_FUNCTIONS:
                return True
            if fname not in _STABLE_FUNCTIONS and ttype in (T_VAR, T_IDENTIFIER):
                return _NEEDS_TREE
    return False


def _generated(action: Action, words: list[str]) -> bool:
    if "IDENTITY" in words:
        action.generated = "identity"
    elif "STORED" in words:
        action.generated = "stored"
    elif "VIRTUAL" not in words:
        return False
    return True


def _constraint_word(action: Action, rest: list[Token], word: str, k: int) -> None:
    if word in ("PRIMARY KEY", "PRIMARY"):
        action.constraint = "primary_key"
        action.not_null = True
    elif word == "UNIQUE":
        action.constraint = action.constraint or "unique"
    elif word == "REFERENCES":
        action.constraint = action.constraint or "foreign_key"
        action.references, _, _ = read_name(rest, k + 1)
    elif word == "CHECK":
        action.constraint = action.constraint or "check"


def column_costs(action: Action) -> None:
    """Rewrite/scan flags of an added column (serial/identity/stored, volatile default, constraints)."""
    if action.generated in ("serial", "identity", "stored"):
        action.rewrite = True
    if action.has_default and action.default_volatile is not False:
        action.rewrite = True
    if action.constraint in ("primary_key", "unique", "check", "foreign_key"):
        action.scan = True


# --- ADD COLUMN ---------------------------------------------------------------------------------


def add_column(action: Action, piece: list[Token], words: list[str], text: str) -> None:
    """``ADD [COLUMN] [IF NOT EXISTS] name type …``: tokens first, sqlglot's tree when they cannot tell."""
    action.kind = ActionKind.ADD_COLUMN
    j = 2 if len(words) > 1 and words[1] == "COLUMN" else 1
    j = skip_words(piece, j, "IF", "NOT", "EXISTS")
    if column_def_tokens(action, piece[j:], words[j:]):
        column_costs(action)
        return
    _reset_column(action)
    node = reparse_action(piece, text)
    from sqlglot import exp  # only when the token view is not enough

    if not isinstance(node, exp.ColumnDef):
        action.unknown = "ADD COLUMN that sqlglot cannot parse"
        return
    _column_from_tree(action, node, top_words(piece))
    column_costs(action)


def _reset_column(action: Action) -> None:
    action.column = action.references = action.constraint = action.generated = None
    action.type = None
    action.has_default = action.not_null = action.json = False
    action.default_sql, action.default_volatile = None, False


def reparse_action(piece: list[Token], text: str) -> Any:
    """sqlglot's tree of one ALTER TABLE action (parsed on its own), or None."""
    from sqlglot import exp

    tree = parse_sql("ALTER TABLE _dbops_ " + span(text, piece))
    if isinstance(tree, exp.Alter) and len(tree.args.get("actions") or []) == 1:
        return tree.args["actions"][0]
    return None


def _column_from_tree(action: Action, node: Any, top: list[str]) -> None:
    ident = node.this
    action.column = ident.name if getattr(ident, "quoted", False) else ident.name.lower()
    kind = node.args.get("kind")
    action.type = from_datatype(kind)
    if getattr(getattr(kind, "this", None), "name", "") in SERIAL_DTYPES:
        action.generated = "serial"
    action.json = action.type is not None and action.type.name == "json" and not action.type.array
    for constraint in node.args.get("constraints") or []:
        ckind = constraint.args.get("kind")
        handler = _TREE_CONSTRAINTS.get(type(ckind).__name__)
        if handler is not None:
            handler(action, ckind, top)


def _tree_default(action: Action, ckind: Any, top: list[str]) -> None:
    action.has_default = True
    expr = ckind.this
    action.default_sql = expr.sql("postgres") if expr is not None else None
    action.default_volatile = default_volatility(expr) if expr is not None else False


def _tree_not_null(action: Action, ckind: Any, top: list[str]) -> None:
    if not ckind.args.get("allow_null"):
        action.not_null = True


def _tree_primary_key(action: Action, ckind: Any, top: list[str]) -> None:
    action.not_null = True
    action.constraint = "primary_key"


def _tree_unique(action: Action, ckind: Any, top: list[str]) -> None:
    action.constraint = action.constraint or "unique"


def _tree_reference(action: Action, ckind: Any, top: list[str]) -> None:
    from sqlglot import exp

    action.constraint = action.constraint or "foreign_key"
    target = ckind.this
    table = target.this if isinstance(target, exp.Schema) else target
    if isinstance(table, exp.Table):
        action.references = table.name if table.this.quoted else table.name.lower()


def _tree_check(action: Action, ckind: Any, top: list[str]) -> None:
    action.constraint = action.constraint or "check"


def _tree_computed(action: Action, ckind: Any, top: list[str]) -> None:
    if "VIRTUAL" not in top:
        action.generated = "stored"


def _tree_identity(action: Action, ckind: Any, top: list[str]) -> None:
    if ckind.args.get("expression") is not None and "STORED" in top:
        action.generated = "stored"
    else:
        action.generated = "identity"


_TREE_CONSTRAINTS = {
    "DefaultColumnConstraint": _tree_default,
    "NotNullColumnConstraint": _tree_not_null,
    "PrimaryKeyColumnConstraint": _tree_primary_key,
    "UniqueColumnConstraint": _tree_unique,
    "Reference": _tree_reference,
    "CheckColumnConstraint": _tree_check,
    "ComputedColumnConstraint": _tree_computed,
    "GeneratedAsIdentityColumnConstraint": _tree_identity,
}


# --- ALTER COLUMN -------------------------------------------------------------------------------


def alter_column(action: Action, piece: list[Token], words: list[str], text: str) -> None:
    """``ALTER [COLUMN] name SET/DROP NOT NULL | TYPE … | SET/DROP DEFAULT | …``."""
    j = 2 if len(words) > 1 and words[1] == "COLUMN" else 1
    if j >= len(piece):
        action.unknown = "ALTER COLUMN without a column"
        return
    action.column = bare(piece[j])
    rest = words[j + 1:]
    simple = _SIMPLE_COLUMN_ACTIONS.get(tuple(rest[:2]))
    if simple is not None:
        action.kind = simple
        action.scan = simple is ActionKind.SET_NOT_NULL
    elif rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
        _alter_type(action, piece, text, j + 2 if rest[:1] == ["TYPE"] else j + 4)
    elif rest[:2] == ["SET", "STATISTICS"] or rest[:1] == ["RESET"] or (rest[:1] == ["SET"] and rest[1:2] == ["("]):
        action.kind = ActionKind.ALTER_COLUMN_OTHER
        action.lock = L.SHARE_UPDATE_EXCLUSIVE
    elif rest[:1] in (["SET"], ["DROP"], ["ADD"], ["RESTART"]):
        action.kind = ActionKind.ALTER_COLUMN_OTHER
        if rest[:2] == ["ADD", "GENERATED"]:
            action.generated = "identity"
    else:
        action.unknown = f"unknown ALTER COLUMN action {' '.join(rest[:2])}"


_SIMPLE_COLUMN_ACTIONS: dict[tuple[str, ...], ActionKind] = {
    ("SET", "NOT"): ActionKind.SET_NOT_NULL,
    ("DROP", "NOT"): ActionKind.DROP_NOT_NULL,
    ("DROP", "DEFAULT"): ActionKind.DROP_DEFAULT,
    ("SET", "DEFAULT"): ActionKind.SET_DEFAULT,
}


def _alter_type(action: Action, piece: list[Token], text: str, k: int) -> None:
    action.kind = ActionKind.ALTER_TYPE
    end = k
    while end < len(piece) and up(piece[end]) not in ("USING", "COLLATE"):
        end += 1
    info = type_from_tokens(piece[k:end])
    if info is not None:
        action.type = info
        action.json = info.name == "json" and not info.array
        action.using = end < len(piece) and up(piece[end]) == "USING"
        return
    from sqlglot import exp  # only when the token view is not enough

    node = reparse_action(piece, text)
    if not isinstance(node, exp.AlterColumn) or node.args.get("dtype") is None:
        action.unknown = "ALTER COLUMN TYPE that sqlglot cannot parse"
        return
    action.type = from_datatype(node.args["dtype"])
    action.json = action.type is not None and action.type.name == "json" and not action.type.array
    action.using = bool(node.args.get("using"))
