"""Which index serves an access path, and which index would.

An access path (``Need``) is what one table reference of a query asks of an
index: columns pinned by equality (``=``, ``IN``, ``IS NULL``, join keys),
then one range column or the ORDER BY columns. An index serves it when its
leading keys are the pinned columns (any order), followed by the range
column or the ORDER BY columns in a consistent direction — "equalities
first, then range or order". A unique index whose keys are all pinned
serves a single-row lookup. A partial index is usable only when the query
implies its predicate.

>>> from dbops.budgets.catalog import Index
>>> need = Need("users", equal=("clinic_id",), order=(("created_at", True),),
...             fixed=frozenset({("is_active", "is_active = TRUE")}), conjuncts=frozenset({"is_active = TRUE"}))
>>> need = need.with_equal(("clinic_id", "is_active"))
>>> partial = Index("ix_active", "users", ("clinic_id", "created_at"), (False, True),
...                 where="is_active", predicate=frozenset({"is_active = TRUE"}))
>>> plain = Index("ix_clinic", "users", ("clinic_id",))
>>> serving_index(need, [plain, partial]).name
'ix_active'
>>> create_index_sql(ideal_index(need))
'CREATE INDEX CONCURRENTLY ix_users_clinic_id_created_at ON users (clinic_id, created_at DESC) WHERE is_active;'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from dbops.budgets.catalog import Index


@dataclass(frozen=True)
class Need:
    """What one table reference of a query asks of an index.

    ``equal``: keys pinned by equality that must lead the index (query order);
    ``optional``: keys pinned too, that may lead it but need not (a tenant key
    implied by another key, declared residual filters); ``range``: keys with a
    range condition (one may follow the equalities); ``order``: ORDER BY keys
    with their direction (served by the keys after the equalities when the
    query has a LIMIT); ``fixed``: (key, conjunct) pairs pinning a key to a
    literal, which a partial index predicate can absorb; ``conjuncts``: every
    condition the query guarantees on this table.
    """

    table: str
    equal: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()
    range: tuple[str, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    fixed: frozenset[tuple[str, str]] = frozenset()
    conjuncts: frozenset[str] = frozenset()

    def with_equal(self, equal: Sequence[str]) -> Need:
        return replace(self, equal=tuple(dict.fromkeys(equal)))

    @property
    def pinned(self) -> frozenset[str]:
        return frozenset(self.equal) | self.optional

    @property
    def order_keys(self) -> tuple[tuple[str, bool], ...]:
        """ORDER BY keys that are not pinned (a pinned key does not change the order)."""
        return tuple((k, d) for k, d in self.order if k not in self.pinned)

    def is_empty(self) -> bool:
        return not (self.equal or self.range or self.order_keys)

    def describe(self) -> str:
        """``clinic_id = ·, created_at range, ORDER BY created_at DESC``."""
        parts = [f"{k} = ·" for k in self.equal]
        parts += [f"{k} range" for k in self.range]
        if self.order_keys:
            parts.append("ORDER BY " + ", ".join(k + (" DESC" if d else "") for k, d in self.order_keys))
        return ", ".join(parts) or "no indexable condition"


@dataclass(frozen=True)
class Match:
    """How well one index serves a Need."""

    index: Index
    served: bool
    prefix: tuple[str, ...] = ()
    tail: str | None = None  # "unique", "order", "range" or None
    missing: frozenset[str] = frozenset()
    in_index: frozenset[str] = field(default_factory=frozenset)

    @property
    def score(self) -> tuple[int, int, int, int]:
        return (int(self.served), int(self.tail == "unique"), len(self.prefix) + int(self.tail is not None),
                -len(self.index.keys))


def implied_conjuncts(need: Need) -> frozenset[str]:
    """The query's conditions plus ``key IS NOT NULL`` for keys compared with ``=``/``<``/``IN``.

    >>> sorted(implied_conjuncts(Need("t", equal=("a",), range=("b",))))
    ['a IS NOT NULL', 'b IS NOT NULL']
    """
    null_pinned = {k for k, c in need.fixed if c.endswith(" IS NULL")}
    strict = [k for k in (*need.equal, *need.range) if k not in null_pinned]
    return need.conjuncts | {f"{k} IS NOT NULL" for k in strict}


def match_index(need: Need, index: Index) -> Match | None:
    """How ``index`` serves ``need``; None when it cannot be used at all (predicate not implied, not a btree).

    >>> from dbops.budgets.catalog import Index
    >>> need = Need("appointments", equal=("clinic_id",), range=("appointment_date_time",))
    >>> match_index(need, Index("i", "appointments", ("clinic_id", "appointment_date_time"))).served
    True
    >>> m = match_index(need.with_equal(("clinic_id", "rating")), Index("i", "appointments", ("clinic_id",)))
    >>> m.served, sorted(m.missing)
    (False, ['rating'])
    """
    if index.method != "btree" or not index.predicate <= implied_conjuncts(need):
        return None
    absorbed = {k for k, c in need.fixed if c in index.predicate}
    pinned = need.pinned | absorbed
    equal = set(need.equal) - absorbed
    keys = index.keys
    if index.unique and keys and set(keys) <= pinned:
        return Match(index, True, keys, "unique")
    k = 0
    while k < len(keys) and keys[k] in pinned:
        k += 1
    prefix, rest = keys[:k], keys[k:]
    missing = frozenset(equal - set(prefix))
    order = tuple((key, d) for key, d in need.order if key not in pinned)
    tail: str | None = None
    used = 0
    if order and len(rest) >= len(order) and all(rest[i] == key for i, (key, _) in enumerate(order)):
        flips = {d != index.is_descending(k + i) for i, (_, d) in enumerate(order)}
        if len(flips) == 1:
            tail, used = "order", len(order)
    if tail is None and need.range and rest and rest[0] in need.range:
        tail, used = "range", 1
    # An equality checked inside the index after the range/order column is accepted once the index
    # already seeks on a leading equality (clinic_id, date, status); never for an index led by the range.
    in_index = frozenset(missing & set(rest[used:])) if tail and k > 0 else frozenset()
    missing = missing - in_index
    tail_needed = bool(order or need.range)
    served = not missing and (tail is not None or not tail_needed) and (k > 0 or tail is not None)
    return Match(index, served, prefix, tail, missing, in_index)


def best_match(need: Need, indexes: Iterable[Index]) -> Match | None:
    """The serving index (single-row lookups, then the narrowest), else the closest one; None if none usable."""
    matches = [m for m in (match_index(need, i) for i in indexes) if m is not None]
    if not matches:
        return None
    return max(matches, key=lambda m: m.score)


def serving_index(need: Need, indexes: Iterable[Index]) -> Index | None:
    """The index that serves ``need``, or None.

    >>> from dbops.budgets.catalog import Index
    >>> need = Need("orders", equal=("studio_id",), order=(("ordered_at", True),))
    >>> serving_index(need, [Index("ix", "orders", ("studio_id", "ordered_at"), (False, True))]).name
    'ix'
    >>> serving_index(need, [Index("ix", "orders", ("studio_id", "status"))]) is None
    True
    """
    match = best_match(need, indexes)
    return match.index if match is not None and match.served else None


_PREDICATE_SUFFIXES = (" = TRUE", " = FALSE", " IS NULL", " IS NOT NULL")


def ideal_index(need: Need, *, tenant_key: str | None = None) -> Index:
    """The index that would serve ``need``: equalities (tenant key first), then ORDER BY or the range.

    Keys pinned to TRUE/FALSE/NULL move to a partial-index predicate rather
    than into the keys.

    >>> ideal_index(Need("appointments", equal=("doctor_id", "clinic_id"), range=("appointment_date_time",)),
    ...             tenant_key="clinic_id").keys
    ('clinic_id', 'doctor_id', 'appointment_date_time')
    """
    to_predicate = {k: c for k, c in need.fixed if c.endswith(_PREDICATE_SUFFIXES) and k in need.equal}
    equal = [k for k in need.equal if k not in to_predicate]
    if tenant_key in equal:
        equal.remove(tenant_key)
        equal.insert(0, tenant_key)
    keys = list(equal)
    descending = [False] * len(keys)
    order = [(k, d) for k, d in need.order if k not in need.pinned]
    if order:
        for key, desc in order:
            if key not in keys:
                keys.append(key)
                descending.append(desc)
    elif need.range:
        keys.append(need.range[0])
        descending.append(False)
    predicate = frozenset(to_predicate.values())
    where = " AND ".join(_predicate_sql(c) for c in sorted(predicate)) or None
    base = "_".join(k if k.isidentifier() else "expr" for k in keys) or "keys"
    name = f"ix_{need.table}_{base}"[:63]
    return Index(name, need.table, tuple(keys), tuple(descending), where=where, predicate=predicate)


def _predicate_sql(conjunct: str) -> str:
    """``is_active = TRUE`` → ``is_active`` (the usual way to write a partial index).

    >>> _predicate_sql("is_active = FALSE"), _predicate_sql("deleted_at IS NULL")
    ('NOT is_active', 'deleted_at IS NULL')
    """
    if conjunct.endswith(" = TRUE"):
        return conjunct[: -len(" = TRUE")]
    if conjunct.endswith(" = FALSE"):
        return "NOT " + conjunct[: -len(" = FALSE")]
    return conjunct


def create_index_sql(index: Index) -> str:
    """The ``CREATE INDEX CONCURRENTLY`` statement that builds ``index`` without blocking writes.

    >>> from dbops.budgets.catalog import Index
    >>> create_index_sql(Index("ix_u_lower_email", "users", ("LOWER(email)",)))
    'CREATE INDEX CONCURRENTLY ix_u_lower_email ON users ((LOWER(email)));'
    >>> create_index_sql(Index("ix_p_name_trgm", "products", ("name",), method="gin", opclasses=("gin_trgm_ops",)))
    'CREATE INDEX CONCURRENTLY ix_p_name_trgm ON products USING gin (name gin_trgm_ops);'
    """
    return f"CREATE INDEX CONCURRENTLY {_index_body(index)};"


def index_definition(index: Index) -> str:
    """``CREATE INDEX name ON …`` without CONCURRENTLY (what hypopg accepts)."""
    return f"CREATE INDEX {_index_body(index)}"


def _index_body(index: Index) -> str:
    parts = []
    for i, key in enumerate(index.keys):
        text = key if key.isidentifier() else f"({key})"
        if index.opclass(i):
            text += f" {index.opclass(i)}"
        if index.is_descending(i):
            text += " DESC"
        parts.append(text)
    using = f" USING {index.method}" if index.method != "btree" else ""
    where = f" WHERE {index.where}" if index.where else ""
    return f"{index.name} ON {index.table}{using} ({', '.join(parts)}){where}"


def trigram_index(indexes: Iterable[Index], column: str) -> Index | None:
    """A GIN/GiST trigram index on ``column`` (what a leading-wildcard LIKE needs), or None.

    >>> from dbops.budgets.catalog import Index
    >>> trigram_index([Index("t", "p", ("name",), method="gin", opclasses=("gin_trgm_ops",))], "name").name
    't'
    """
    for index in indexes:
        if index.method not in ("gin", "gist"):
            continue
        if any(key == column and "trgm" in (index.opclass(i) or "") for i, key in enumerate(index.keys)):
            return index
    return None
