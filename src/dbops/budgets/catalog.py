"""What the static analysis knows about a schema: tables, columns, indexes, foreign keys.

Built from SQLAlchemy metadata: the models' ``Base.metadata`` (no database
needed), or metadata reflected from a live database. Index keys are column
names or normalised expressions (``LOWER(email)``); the index predicate is a
set of canonical conjuncts (``is_active = TRUE``) so that partial indexes can
be matched against a query's conditions.

>>> idx = Index("ix", "users", ("clinic_id", "created_at"), descending=(False, True))
>>> idx.describe()
'ix (clinic_id, created_at DESC)'
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dbops.errors import ConfigError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from dbops.config import SchemaSettings


@dataclass(frozen=True)
class Index:
    """One index (or the index behind a primary key / unique constraint)."""

    name: str
    table: str
    keys: tuple[str, ...]
    descending: tuple[bool, ...] = ()
    unique: bool = False
    method: str = "btree"
    opclasses: tuple[str | None, ...] = ()
    where: str | None = None
    predicate: frozenset[str] = frozenset()

    def is_descending(self, position: int) -> bool:
        return bool(self.descending) and position < len(self.descending) and self.descending[position]

    def opclass(self, position: int) -> str | None:
        return self.opclasses[position] if position < len(self.opclasses) else None

    def describe(self) -> str:
        """``name (col, col DESC) WHERE …`` for messages."""
        keys = ", ".join(k + (" DESC" if self.is_descending(i) else "") for i, k in enumerate(self.keys))
        using = f" USING {self.method}" if self.method != "btree" else ""
        where = f" WHERE {self.where}" if self.where else ""
        return f"{self.name}{using} ({keys}){where}"


@dataclass(frozen=True)
class TableInfo:
    """A table: column types (SQL), indexes, and single-column foreign keys."""

    name: str
    columns: Mapping[str, str]
    indexes: tuple[Index, ...] = ()
    foreign_keys: Mapping[str, str] = field(default_factory=dict)  # column -> referenced table


@dataclass(frozen=True)
class Catalog:
    """The tables of one schema and its tenant convention."""

    tables: Mapping[str, TableInfo]
    tenant_key: str | None = None
    tenant_table: str | None = None

    def table(self, name: str) -> TableInfo | None:
        return self.tables.get(name)

    def tenant_column(self, table: str) -> str | None:
        """The column that scopes ``table`` to one tenant (``id`` on the tenant table itself), or None.

        >>> cat = Catalog({"clinics": TableInfo("clinics", {"id": "BIGINT"}),
        ...                "users": TableInfo("users", {"id": "BIGINT", "clinic_id": "BIGINT"})},
        ...               tenant_key="clinic_id", tenant_table="clinics")
        >>> cat.tenant_column("users"), cat.tenant_column("clinics")
        ('clinic_id', 'id')
        """
        if not self.tenant_key:
            return None
        if table == self.tenant_table:
            return "id"
        info = self.tables.get(table)
        return self.tenant_key if info is not None and self.tenant_key in info.columns else None

    def sqlglot_schema(self) -> dict[str, object]:
        """``{table: {column: type}}`` for sqlglot's qualifier."""
        return {name: dict(info.columns) for name, info in self.tables.items()}

    @cached_property
    def mapping_schema(self) -> Any:
        """The sqlglot ``MappingSchema`` of this catalog, built once (qualifying many queries reuses it)."""
        from sqlglot.schema import MappingSchema

        return MappingSchema(self.sqlglot_schema(), dialect="postgres")


# -- building a catalog from SQLAlchemy metadata ---------------------------------------------------

_ORDER_SUFFIX = re.compile(r"^(?P<expr>.*?)\s+(?P<dir>ASC|DESC)(?:\s+NULLS\s+(?:FIRST|LAST))?\s*$", re.I | re.S)


def catalog_from_metadata(
    metadata: sa.MetaData, *, tenant_key: str | None = None, tenant_table: str | None = None
) -> Catalog:
    """A Catalog of every table in ``metadata`` (models or reflected)."""
    tables = {}
    for table in metadata.tables.values():
        tables[table.name] = _table_info(table)
    return Catalog(tables, tenant_key=tenant_key or None, tenant_table=tenant_table or None)


def catalog_from_database(url: str, *, tenant_key: str | None = None, tenant_table: str | None = None) -> Catalog:
    """A Catalog reflected from the ``public`` schema of a live database."""
    import sqlalchemy as sa

    from dbops.db import create_engine

    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        metadata = sa.MetaData()
        with engine.connect() as conn:
            metadata.reflect(conn)
    finally:
        engine.dispose()
    return catalog_from_metadata(metadata, tenant_key=tenant_key, tenant_table=tenant_table)


def models_module_name(schema: SchemaSettings) -> str:
    """``[tool.dbops.schemas.X].models`` or the convention ``platformdb.<schema>.models``.

    >>> from dbops.config import SchemaSettings
    >>> models_module_name(SchemaSettings("fashion"))
    'platformdb.fashion.models'
    """
    return schema.models or f"platformdb.{schema.name}.models"


def models_metadata(schema: SchemaSettings) -> sa.MetaData:
    """``Base.metadata`` (or ``metadata``) of the schema's models module."""
    name = models_module_name(schema)
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import the models of schema {schema.name!r} ({name}): {exc}",
            hint=f"set tool.dbops.schemas.{schema.name}.models to the module holding Base",
        ) from None
    base = getattr(module, "Base", None)
    metadata = getattr(base, "metadata", None) if base is not None else getattr(module, "metadata", None)
    if metadata is None:
        raise ConfigError(f"{name} has neither Base.metadata nor metadata", hint="expose the declarative Base")
    return metadata


def catalog_for_schema(schema: SchemaSettings) -> Catalog:
    """The catalog of a schema from its models."""
    return catalog_from_metadata(models_metadata(schema), tenant_key=schema.tenant_key, tenant_table=schema.tenant_table)


def _table_info(table: sa.Table) -> TableInfo:
    columns = {column.name: _type_sql(column.type) for column in table.columns}
    indexes: list[Index] = []
    if table.primary_key is not None and len(table.primary_key.columns):
        name = table.primary_key.name if isinstance(table.primary_key.name, str) else f"{table.name}_pkey"
        indexes.append(Index(name, table.name, tuple(c.name for c in table.primary_key.columns), unique=True))
    import sqlalchemy as sa

    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, sa.UniqueConstraint) and not isinstance(constraint, sa.PrimaryKeyConstraint):
            cols = tuple(c.name for c in constraint.columns)
            name = constraint.name if isinstance(constraint.name, str) else f"{table.name}_{'_'.join(cols)}_key"
            indexes.append(Index(name, table.name, cols, unique=True))
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        indexes.append(_index(table, index))
    foreign_keys = {}
    for fk in table.foreign_key_constraints:
        if len(fk.column_keys) == 1:
            foreign_keys[fk.elements[0].parent.name] = fk.elements[0].column.table.name
    return TableInfo(table.name, columns, tuple(indexes), foreign_keys)


def _index(table: sa.Table, index: sa.Index) -> Index:
    options = index.dialect_options["postgresql"]
    ops: Mapping[str, str] = options.get("ops") or {}
    keys: list[str] = []
    descending: list[bool] = []
    opclasses: list[str | None] = []
    for element in index.expressions:
        key, desc = _index_key(element)
        keys.append(key)
        descending.append(desc)
        opclasses.append(ops.get(key))
    where_clause = options.get("where")
    where = _compile(where_clause) if where_clause is not None else None
    predicate: frozenset[str] = frozenset()
    if where:
        from dbops.budgets.sqlnorm import conjunct_key, parse_expression, split_conjuncts

        predicate = frozenset(conjunct_key(c) for c in split_conjuncts(parse_expression(where)))
        from dbops.budgets.sqlnorm import normalize

        where = normalize(parse_expression(where))
    return Index(
        name=str(index.name),
        table=table.name,
        keys=tuple(keys),
        descending=tuple(descending),
        unique=bool(index.unique),
        method=str(options.get("using") or "btree").lower(),
        opclasses=tuple(opclasses),
        where=where,
        predicate=predicate,
    )


def _index_key(element: Any) -> tuple[str, bool]:
    """(key, descending) of one index element: a Column, ``col.desc()``, ``text("col DESC")``, ``func.lower(col)``."""
    import sqlalchemy as sa
    from sqlalchemy.sql import operators
    from sqlalchemy.sql.elements import UnaryExpression

    from dbops.budgets.sqlnorm import normalize, parse_expression, unwrap

    desc = False
    if isinstance(element, UnaryExpression) and element.modifier in (operators.desc_op, operators.asc_op):
        desc = element.modifier is operators.desc_op
        element = element.element
    if isinstance(element, sa.Column):
        return element.name, desc
    text = _compile(element)
    match = _ORDER_SUFFIX.match(text)
    if match:
        desc = match["dir"].upper() == "DESC"
        text = match["expr"]
    from sqlglot import exp

    node = unwrap(parse_expression(text))
    if isinstance(node, exp.Column):
        return node.name, desc
    return normalize(node), desc


def _compile(clause: Any) -> str:
    if isinstance(clause, str):
        return clause
    from sqlalchemy.dialects import postgresql

    return str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _type_sql(type_: Any) -> str:
    """The column type as SQL sqlglot understands; enums and exotic types become TEXT."""
    from sqlglot import exp

    try:
        from sqlalchemy.dialects import postgresql

        text = type_.compile(dialect=postgresql.dialect())
        exp.DataType.build(text, dialect="postgres")
        return text
    except Exception:
        return "TEXT"


def indexes_on(catalog: Catalog, tables: Iterable[str]) -> dict[str, tuple[Index, ...]]:
    """``{table: indexes}`` for the given tables that exist in the catalog."""
    return {t: catalog.tables[t].indexes for t in tables if t in catalog.tables}
