"""What the studio knows about a database's relations, read once per request through SQLAlchemy inspection.

The catalog is not cached between requests (a migration applied while the
studio runs shows up on the next page). One ``Catalog`` per request, on the
request's connection; the SQLAlchemy ``Inspector`` under it memoises what it
read, so asking for a relation twice costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from psycopg import sql

from dbops.studio.errors import NotFound, StudioError
from dbops.studio.secrets import SecretRules, ViewSecrets, view_secrets

if TYPE_CHECKING:
    import psycopg
    import sqlalchemy as sa
    from psycopg.abc import AdaptContext
    from sqlalchemy.engine.interfaces import ReflectedColumn, ReflectedForeignKeyConstraint
    from sqlalchemy.engine.reflection import Inspector

# Column kinds decide the editor widget, the filter operators and what the search box looks at.
KINDS = (
    "bool",
    "enum",
    "int",
    "number",
    "timestamp",
    "date",
    "time",
    "interval",
    "json",
    "uuid",
    "array",
    "text",
    "other",
)
RANGE_KINDS = frozenset({"int", "number", "timestamp", "date", "time", "interval", "text", "uuid", "enum"})
TEXT_KINDS = frozenset({"text", "enum", "uuid"})

# Page through relations with a key by keyset; heaps without one by ctid; views with OFFSET (capped).
KEYSET, CTID, OFFSET = "key", "ctid", "offset"


class Ident(sql.Identifier):
    """A quoted identifier whose ``%`` survives psycopg's placeholder parsing (a table named ``ta%ble``).

    Statements holding one must be executed with a parameter list (possibly empty), never None.
    """

    def as_bytes(self, context: AdaptContext | None = None) -> bytes:
        return super().as_bytes(context).replace(b"%", b"%%")


@dataclass(frozen=True)
class Column:
    """One column as the studio uses it."""

    name: str
    type_name: str
    kind: str
    nullable: bool
    has_default: bool = False
    generated: bool = False  # GENERATED … STORED or GENERATED ALWAYS AS IDENTITY: never written
    identity: bool = False
    enum_values: tuple[str, ...] = ()
    secret: bool = False

    @property
    def filter_ops(self) -> tuple[str, ...]:
        ops: tuple[str, ...] = ("eq", "ne")
        if self.kind in RANGE_KINDS:
            ops += ("lt", "le", "gt", "ge")
        if self.kind not in ("bool",):
            ops += ("contains", "startswith")
        if self.nullable:
            ops += ("null", "notnull")
        return ops


@dataclass(frozen=True)
class ForeignKey:
    """``columns`` of ``namespace.table`` reference ``ref_columns`` of ``ref_namespace.ref_table``."""

    name: str
    namespace: str
    table: str
    columns: tuple[str, ...]
    ref_namespace: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """A table, partitioned table, view, materialized view or foreign table, with what the studio may do on it."""

    schema: str  # the dbops schema (database): healthcare, fashion
    namespace: str  # the PostgreSQL schema: public, …
    name: str
    kind: str  # table, partitioned table, view, materialized view, foreign table
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # primary key, else a unique key of NOT NULL columns, else ()
    key_is_primary: bool
    sortable: tuple[str, ...]  # columns an index can deliver in order (leading columns of btree indexes)
    foreign_keys: tuple[ForeignKey, ...]

    @cached_property
    def fk_by_column(self) -> dict[str, ForeignKey]:
        """Single-column foreign keys by column (the grid links those cells)."""
        return {fk.columns[0]: fk for fk in self.foreign_keys if len(fk.columns) == 1}

    @property
    def qualified(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def is_view(self) -> bool:
        return self.kind in ("view", "materialized view", "foreign table")

    @property
    def paging(self) -> str:
        if self.key and not self.key_is_secret:  # ordering by a secret key would be an oracle on it
            return KEYSET
        if self.kind in ("table", "materialized view"):
            return CTID
        return OFFSET

    @cached_property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @property
    def visible(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.secret)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.secret)

    @property
    def key_is_secret(self) -> bool:
        return any(self.by_name[k].secret for k in self.key)

    @property
    def addressable(self) -> bool:
        """Rows have a stable, showable identity: a row page, edits and deletes are possible."""
        return bool(self.key) and not self.key_is_secret and not self.is_view

    @property
    def editable(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.secret and not c.generated and c.name not in self.key)

    @property
    def insertable(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.secret and not c.generated)

    @property
    def required_secrets(self) -> tuple[str, ...]:
        """Secret NOT NULL columns without a default: rows cannot be inserted from the studio."""
        return tuple(
            c.name for c in self.columns if c.secret and not c.nullable and not c.has_default and not c.generated
        )

    def column(self, name: str, *, purpose: str) -> Column:
        """A visible column by name; a 400 naming what was tried for an unknown or secret one."""
        column = self.by_name.get(name)
        if column is None:
            raise StudioError(400, f"{self.qualified} has no column {name!r}")
        if column.secret:
            raise StudioError(400, f"{self.qualified}.{name} is a secret column: it cannot be {purpose}")
        return column

    def outgoing(self, column: str) -> ForeignKey | None:
        """The single-column foreign key of ``column``, if any (for links in the grid)."""
        return self.fk_by_column.get(column)


@dataclass
class TableStats:
    """A line of the table list."""

    namespace: str
    name: str
    kind: str
    estimated_rows: int | None  # None: never analysed, or a view
    exact: bool
    bytes: int | None
    partitions: int = 0


_KIND_NAMES = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table"}

_LIST = """
SELECT n.nspname, c.relname, c.relkind::text,
       CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(p.reltuples, 0))::bigint
                                       FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid
                                       WHERE t.isleaf)
            WHEN c.relkind IN ('r', 'm') AND c.reltuples >= 0 THEN c.reltuples::bigint END,
       CASE WHEN c.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(t.relid))::bigint
                                       FROM pg_partition_tree(c.oid) t)
            WHEN c.relkind IN ('r', 'm') THEN pg_total_relation_size(c.oid) END,
       CASE WHEN c.relkind = 'p' THEN (SELECT count(*) FROM pg_partition_tree(c.oid) t WHERE t.isleaf) ELSE 0 END,
       CASE WHEN c.relkind = 'p' THEN (SELECT sum(p.relpages)::bigint FROM pg_partition_tree(c.oid) t
                                       JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf)
            WHEN c.relkind IN ('r', 'm') THEN c.relpages END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname <> 'public', n.nspname, c.relname
"""

# Below this many pages a table is counted exactly (a COUNT(*) of a few thousand rows is instant).
EXACT_COUNT_MAX_PAGES = 128


@dataclass
class Catalog:
    """The relations of one database, read lazily on one connection (one request)."""

    connection: sa.Connection
    schema: str
    rules: SecretRules = field(default_factory=SecretRules)
    _relations: dict[tuple[str, str], Relation] = field(default_factory=dict)
    _view_secrets: ViewSecrets | None = None

    @cached_property
    def inspector(self) -> Inspector:
        import sqlalchemy as sa

        return sa.inspect(self.connection)

    @cached_property
    def namespaces(self) -> list[str]:
        names = [
            n for n in self.inspector.get_schema_names() if n not in ("information_schema",) and not n.startswith("pg_")
        ]
        return sorted(names, key=lambda n: (n != "public", n))

    def _kinds(self, namespace: str) -> dict[str, str]:
        key = ("kinds", namespace)
        cache = self.inspector.info_cache
        if key not in cache:
            import sqlalchemy as sa

            rows = self.connection.execute(
                sa.text(
                    "SELECT c.relname, c.relkind::text, c.relispartition FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :ns AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
                ),
                {"ns": namespace},
            ).all()
            cache[key] = {name: _KIND_NAMES[kind] for name, kind, _ in rows}
            cache[("partitions", namespace)] = {name for name, _, partition in rows if partition}
        return cache[key]

    def _partitions(self, namespace: str) -> set[str]:
        self._kinds(namespace)
        return self.inspector.info_cache[("partitions", namespace)]

    def relation(self, namespace: str, name: str) -> Relation:
        """One relation (404 when it does not exist or is in a system namespace)."""
        cached = self._relations.get((namespace, name))
        if cached is not None:
            return cached
        if namespace not in self.namespaces or name not in self._kinds(namespace):
            raise NotFound(f"no table or view {namespace}.{name} in {self.schema}")
        relation = self._reflect(namespace, name, self._kinds(namespace)[name])
        self._relations[(namespace, name)] = relation
        return relation

    def _reflect(self, namespace: str, name: str, kind: str) -> Relation:
        inspector = self.inspector
        raw_columns = inspector.get_columns(name, schema=namespace)
        foreign: tuple[ForeignKey, ...] = ()
        if kind in ("table", "partitioned table"):
            foreign = tuple(
                _foreign_key(namespace, name, fk) for fk in inspector.get_foreign_keys(name, schema=namespace)
            )
        derived: set[str] = set()
        if kind in ("view", "materialized view"):
            derived = self.view_secrets().secret_columns(namespace, name)
        for fk in foreign:  # a column holding a copy of a secret (it references one) is a secret
            for column, referenced in zip(fk.columns, fk.ref_columns, strict=True):
                if self.rules.is_secret(self.schema, fk.ref_namespace, fk.ref_table, referenced):
                    derived.add(column)
        columns = tuple(
            _column(c, secret=c["name"] in derived or self.rules.is_secret(self.schema, namespace, name, c["name"]))
            for c in raw_columns
        )
        not_null = {c.name for c in columns if not c.nullable}
        key: tuple[str, ...] = ()
        primary = False
        sortable: list[str] = []
        if kind in ("table", "partitioned table", "materialized view"):
            indexes = inspector.get_indexes(name, schema=namespace)
            for index in indexes:
                cols = index.get("column_names") or []
                options = index.get("dialect_options") or {}
                partial = options.get("postgresql_where") is not None
                using = options.get("postgresql_using", "btree")
                if cols and cols[0] is not None and not partial and using == "btree" and cols[0] not in sortable:
                    sortable.append(cols[0])
        if kind in ("table", "partitioned table"):
            pk = inspector.get_pk_constraint(name, schema=namespace)
            if pk and pk.get("constrained_columns"):
                key, primary = tuple(pk["constrained_columns"]), True
            else:
                for unique in inspector.get_unique_constraints(name, schema=namespace):
                    unique_columns = tuple(unique["column_names"])
                    if (
                        unique_columns
                        and set(unique_columns) <= not_null
                        and not unique.get("dialect_options", {}).get("postgresql_nulls_not_distinct")
                    ):
                        key = unique_columns
                        break
        if key and key[0] not in sortable:
            sortable.insert(0, key[0])
        return Relation(
            schema=self.schema,
            namespace=namespace,
            name=name,
            kind=kind,
            columns=columns,
            key=key,
            key_is_primary=primary,
            sortable=tuple(s for s in sortable if s in {c.name for c in columns if not c.secret}),
            foreign_keys=foreign,
        )

    def referenced_by(self, relation: Relation) -> tuple[ForeignKey, ...]:
        """The foreign keys of other tables pointing at ``relation`` (read only for a row's page)."""
        if relation.kind not in ("table", "partitioned table"):
            return ()
        namespace, name = relation.namespace, relation.name
        out = []
        for ns in self.namespaces:
            partitions = self._partitions(ns)  # a partition repeats its parent's foreign keys
            for (_, table), fks in self.inspector.get_multi_foreign_keys(schema=ns).items():
                if table in partitions:
                    continue
                for fk in fks:
                    if fk["referred_table"] == name and (fk.get("referred_schema") or ns) == namespace:
                        out.append(_foreign_key(ns, table, fk))
        return tuple(sorted(out, key=lambda f: (f.namespace, f.table, f.columns)))

    def view_secrets(self) -> ViewSecrets:
        if self._view_secrets is None:
            self._view_secrets = view_secrets(driver(self.connection), self.schema, self.rules)
        return self._view_secrets

    def tables(self) -> list[TableStats]:
        """Every relation with its estimated rows and size (exact counts for small tables)."""
        rows = driver(self.connection).execute(_LIST).fetchall()
        stats = []
        small: list[TableStats] = []
        for nspname, relname, relkind, estimate, size, partitions, pages in rows:
            item = TableStats(nspname, relname, _KIND_NAMES[relkind], estimate, False, size, partitions)
            stats.append(item)
            if relkind in ("r", "m", "p") and pages is not None and pages <= EXACT_COUNT_MAX_PAGES:
                small.append(item)
        if small:
            counts = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(i), Ident(t.namespace, t.name))
                for i, t in enumerate(small)
            )
            for i, count in driver(self.connection).execute(counts, []).fetchall():
                small[i].estimated_rows, small[i].exact = count, True
        return stats


def driver(connection: sa.Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection (same transaction)."""
    raw = connection.connection.driver_connection
    if raw is None:  # SQLAlchemy has detached it (invalidated after a lost connection)
        raise StudioError(503, "the connection to the database was lost: try again")
    return raw


def _foreign_key(namespace: str, table: str, fk: ReflectedForeignKeyConstraint) -> ForeignKey:
    return ForeignKey(
        name=fk.get("name") or "",
        namespace=namespace,
        table=table,
        columns=tuple(fk["constrained_columns"]),
        ref_namespace=fk.get("referred_schema") or namespace,
        ref_table=fk["referred_table"],
        ref_columns=tuple(fk["referred_columns"]),
    )


def _column(raw: ReflectedColumn, *, secret: bool) -> Column:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    type_ = raw["type"]
    kind = column_kind(type_)
    try:
        type_name = type_.compile(dialect=postgresql.dialect()).lower()
    except Exception:  # a type SQLAlchemy does not know (citext, ltree…): still browsable as text
        type_name = "unknown type"
    identity = raw.get("identity")
    computed = raw.get("computed")
    generated = bool(computed) or bool(identity and identity.get("always"))
    enum_values = tuple(type_.enums) if isinstance(type_, sa.Enum) else ()
    has_default = raw.get("default") is not None or bool(identity) or generated
    return Column(
        name=raw["name"],
        type_name=type_name,
        kind=kind,
        nullable=bool(raw.get("nullable", True)),
        has_default=has_default,
        generated=generated,
        identity=bool(identity),
        enum_values=enum_values,
        secret=secret,
    )


def column_kind(type_: sa.types.TypeEngine) -> str:
    """The studio's kind of a reflected SQLAlchemy type.

    >>> import sqlalchemy as sa
    >>> from sqlalchemy.dialects import postgresql as pg
    >>> [column_kind(t) for t in (sa.BigInteger(), pg.ENUM("a", name="e"), pg.JSONB(), sa.DateTime(timezone=True),
    ...                           sa.Text(), pg.ARRAY(sa.Integer()), sa.Numeric(), pg.UUID(), sa.types.NullType())]
    ['int', 'enum', 'json', 'timestamp', 'text', 'array', 'number', 'uuid', 'other']
    """
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql as pg
    from sqlalchemy.sql import sqltypes

    if isinstance(type_, pg.DOMAIN):
        return column_kind(type_.data_type)
    checks: tuple[tuple[type, str], ...] = (
        (sa.Boolean, "bool"),
        (sa.Enum, "enum"),
        (sa.Integer, "int"),
        (sqltypes.NumericCommon, "number"),  # Numeric, Float, Double
        (sa.DateTime, "timestamp"),
        (sa.Date, "date"),
        (sa.Time, "time"),
        (sqltypes._AbstractInterval, "interval"),
        (sa.JSON, "json"),
        (sa.ARRAY, "array"),
        (sa.Uuid, "uuid"),
        (sa.String, "text"),
    )
    for cls, kind in checks:
        if isinstance(type_, cls):
            return kind
    return "other"
