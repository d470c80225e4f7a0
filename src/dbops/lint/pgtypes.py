"""Column types: canonical names, and which type changes rewrite the table.

PostgreSQL skips the table rewrite (and the index rebuilds) of
``ALTER COLUMN … TYPE`` when the old type is binary-coercible to the new one
and the new type modifier accepts every old value; a smaller limit needs the
length check of every value, which PostgreSQL does by rewriting the table
(checked against PostgreSQL 15 in ``tests/lint/test_type_changes.py``):

>>> change_cost(TypeInfo("varchar", (20,)), TypeInfo("varchar", (50,)))
'none'
>>> change_cost(TypeInfo("varchar", (50,)), TypeInfo("text"))
'none'
>>> change_cost(TypeInfo("numeric", (10, 2)), TypeInfo("numeric", (12, 2)))
'none'
>>> change_cost(TypeInfo("varchar", (50,)), TypeInfo("varchar", (20,)))
'rewrite'
>>> change_cost(TypeInfo("int4"), TypeInfo("int8"))
'rewrite'
>>> change_cost(None, TypeInfo("text"))
'unknown'
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_ALIASES = {
    "int": "int4", "integer": "int4", "int4": "int4", "serial": "int4", "serial4": "int4",
    "bigint": "int8", "int8": "int8", "bigserial": "int8", "serial8": "int8",
    "smallint": "int2", "int2": "int2", "smallserial": "int2", "serial2": "int2",
    "varchar": "varchar", "character varying": "varchar", "char varying": "varchar",
    "char": "bpchar", "character": "bpchar", "bpchar": "bpchar", "nchar": "bpchar",
    "text": "text", "citext": "citext", "name": "name",
    "numeric": "numeric", "decimal": "numeric",
    "real": "float4", "float4": "float4", "float": "float8", "double precision": "float8", "double": "float8",
    "float8": "float8",
    "bool": "bool", "boolean": "bool",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp", "datetime": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "time": "time", "time without time zone": "time", "timetz": "timetz", "time with time zone": "timetz",
    "date": "date", "interval": "interval", "json": "json", "jsonb": "jsonb", "uuid": "uuid", "bytea": "bytea",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "xml": "xml", "money": "money",
    "bit": "bit", "bit varying": "varbit", "varbit": "varbit", "tsvector": "tsvector", "oid": "oid",
}

# sqlglot DType enum names -> canonical PostgreSQL names.
_DTYPE = {
    "INT": "int4", "BIGINT": "int8", "SMALLINT": "int2", "TINYINT": "int2", "SERIAL": "int4", "BIGSERIAL": "int8",
    "SMALLSERIAL": "int2", "VARCHAR": "varchar", "NVARCHAR": "varchar", "CHAR": "bpchar", "NCHAR": "bpchar",
    "TEXT": "text", "DECIMAL": "numeric", "FLOAT": "float4", "DOUBLE": "float8", "BOOLEAN": "bool",
    "TIMESTAMP": "timestamp", "TIMESTAMPTZ": "timestamptz", "TIMESTAMPLTZ": "timestamptz", "TIME": "time",
    "TIMETZ": "timetz", "DATE": "date", "INTERVAL": "interval", "JSON": "json", "JSONB": "jsonb", "UUID": "uuid",
    "VARBINARY": "bytea", "BINARY": "bytea", "INET": "inet", "CIDR": "cidr", "XML": "xml", "MONEY": "money",
    "BIT": "bit", "TSVECTOR": "tsvector", "OID": "oid", "NAME": "name", "CITEXT": "citext", "MACADDR": "macaddr",
    "UDECIMAL": "numeric", "BPCHAR": "bpchar", "DATETIME": "timestamp",
}
SERIAL_DTYPES = {"SERIAL", "BIGSERIAL", "SMALLSERIAL"}


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """A column type: canonical name, type modifiers, array-ness."""

    name: str
    params: tuple[int, ...] = ()
    array: bool = False

    def sql(self) -> str:
        text = self.name + (f"({','.join(map(str, self.params))})" if self.params else "")
        return text + ("[]" if self.array else "")


@lru_cache(maxsize=4096)
def canonical(name: str) -> str:
    """The canonical PostgreSQL name of a type name as written.

    >>> canonical("Character Varying")
    'varchar'
    """
    lowered = " ".join(name.lower().split())
    if lowered.startswith("pg_catalog."):
        lowered = lowered[len("pg_catalog."):]
    return _ALIASES.get(lowered, lowered)


def from_datatype(node: Any) -> TypeInfo | None:
    """TypeInfo of a sqlglot ``exp.DataType`` (None when it is not one)."""
    from sqlglot import exp

    if not isinstance(node, exp.DataType):
        return None
    dtype = node.this.name if hasattr(node.this, "name") else str(node.this)
    if dtype == "ARRAY":
        inner = node.expressions[0] if node.expressions else None
        base = from_datatype(inner) if inner is not None else None
        return TypeInfo(base.name if base else "unknown", base.params if base else (), True)
    if dtype == "USERDEFINED":
        kind = node.args.get("kind")
        name = kind.sql("postgres") if kind is not None else node.sql("postgres")
        return TypeInfo(canonical(name.replace('"', "")))
    name = _DTYPE.get(dtype)
    if name is None:
        name = canonical(node.sql("postgres").split("(")[0])
    params = []
    for param in node.expressions:
        value = getattr(param, "this", None)
        text = getattr(value, "this", value)
        with contextlib.suppress(TypeError, ValueError):
            params.append(int(str(text)))
    return TypeInfo(name, tuple(params))


_BINARY_COERCIBLE = {
    ("varchar", "text"), ("text", "varchar"), ("cidr", "inet"), ("xml", "text"),
    ("xml", "varchar"), ("citext", "text"), ("text", "citext"), ("varchar", "citext"),
}
_LENGTH_TYPES = {"varchar", "bpchar", "bit", "varbit"}
_PRECISION_TYPES = {"timestamp", "timestamptz", "time", "timetz", "interval"}


def change_cost(old: TypeInfo | None, new: TypeInfo) -> str:
    """What ``ALTER COLUMN … TYPE new`` costs on a column of type ``old``.

    ``none`` (catalog only), ``rewrite`` (table and indexes rewritten),
    ``unknown`` (old type not known to dbops).
    """
    if old is None:
        return "unknown"
    if old.array or new.array:  # an array's elements are coerced one by one: PostgreSQL rewrites
        return "none" if old == new else "rewrite"
    if old.name == new.name:
        return "none" if old.params == new.params else _modifier_cost(old, new)
    if (old.name, new.name) in _BINARY_COERCIBLE:
        return "rewrite" if new.name == "varchar" and new.params else "none"
    return "rewrite"


def _modifier_cost(old: TypeInfo, new: TypeInfo) -> str:
    """Same type, other modifiers: ``varchar(20)`` → ``varchar(50)``, ``numeric(10,2)`` → ``numeric(12,2)``…"""
    if not new.params:  # dropping the modifier accepts every old value
        return "none" if old.name in ("varchar", "varbit", "numeric", *_PRECISION_TYPES) else "rewrite"
    if old.name in ("varchar", "varbit"):
        return "rewrite" if not old.params or new.params[0] < old.params[0] else "none"
    if old.name == "numeric":
        return _numeric_cost(old.params, new.params)
    if old.name in _PRECISION_TYPES:
        return "rewrite" if not old.params or new.params[0] < old.params[0] else "none"
    return "rewrite"


def _numeric_cost(old: tuple[int, ...], new: tuple[int, ...]) -> str:
    if not old:
        return "rewrite"
    old_scale = old[1] if len(old) > 1 else 0
    new_scale = new[1] if len(new) > 1 else 0
    if new_scale != old_scale:
        return "rewrite"
    return "none" if new[0] >= old[0] else "rewrite"


# Default expressions: which functions are volatile (a rewrite when used as ADD COLUMN … DEFAULT).
VOLATILE_FUNCTIONS = {
    "random", "rand", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
    "uuidv4", "uuidv7", "clock_timestamp", "timeofday", "nextval", "setseed", "gen_random_bytes",
    "random_normal", "txid_current", "pg_current_xact_id",
}
_VOLATILE_NODES = {"Rand", "Uuid", "Randn", "GenRandomUuid"}


def default_volatility(expr: Any) -> bool | None:
    """True when the default calls a volatile function, None when a function is unknown.

    >>> import sqlglot
    >>> default_volatility(sqlglot.parse_one("now()", read="postgres"))
    False
    >>> default_volatility(sqlglot.parse_one("gen_random_uuid()", read="postgres"))
    True
    >>> default_volatility(sqlglot.parse_one("my_func()", read="postgres")) is None
    True
    """
    from sqlglot import exp

    unknown = False
    for node in expr.walk():
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower().split(".")[-1]
            if name in VOLATILE_FUNCTIONS:
                return True
            unknown = True
        elif isinstance(node, exp.Func) and type(node).__name__ in _VOLATILE_NODES:
            return True
    return None if unknown else False
