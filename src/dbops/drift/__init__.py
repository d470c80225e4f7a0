"""Drift between a schema's models and a live database (``dbops status``, ``dbops check all``).

``model_drift(settings, schema, url)`` runs Alembic's autogenerate comparison
(types, nullability, server defaults, indexes, unique constraints, foreign
keys) and adds what Alembic does not compare: native enum labels, CHECK
constraint names and the partitioning of partitioned tables. It returns one
human-readable line per difference, empty when the database equals the models.

Ignored: Alembic's and dbops' bookkeeping tables (``alembic_version``,
``dbops_*``), the partitions of partitioned tables
(``appointment_audit_logs_p202611`` …) and the old partitions
``partitions ensure --retention`` detached and kept: they are created by
migrations and partition maintenance, not declared in the models. A table
made by hand is drift.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings, display_path
from dbops.db import create_engine
from dbops.errors import ConfigError
from dbops.findings import Finding, Severity
from dbops.partitions import detached_partitions
from dbops.revisions import is_bookkeeping_table, load_metadata, partition_names

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["describe_diff", "drift_finding", "locate_difference", "model_drift"]

def model_drift(settings: Settings, schema: SchemaSettings, url: str) -> list[str]:
    """Differences between ``schema``'s models and the database at ``url`` (empty when equal)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.pool import NullPool

    metadata = _metadata(schema)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            partitions = partition_names(conn) | detached_partitions(conn)

            def ignored(table: str | None) -> bool:
                return is_bookkeeping_table(table) or table in partitions

            def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
                if type_ == "table":
                    return not ignored(name)
                table = getattr(obj, "table", None)
                return not (table is not None and ignored(table.name))

            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_object": include_object,
                    "target_metadata": metadata,
                },
            )
            raw = _flatten(compare_metadata(context, metadata))
            # A missing or extra table is one line, not one more per index/constraint of it.
            whole = {d[1].name for d in raw if d[0] in ("add_table", "remove_table")}
            diffs = [describe_diff(d) for d in raw if d[0].endswith("table") or _table_of(d) not in whole]
            diffs += _enum_drift(conn, metadata)
            diffs += _check_drift(conn, metadata)
            diffs += _partition_drift(conn, metadata)
    finally:
        engine.dispose()
    return sorted(diffs)


_SUBJECT = re.compile(
    r"^(?:table (?P<table>\w+)"
    r"|column (?P<ctable>\w+)\.(?P<column>\w+)"
    r"|enum type (?P<enum>\w+)"
    r"|(?:unique index|index|constraint|check constraint|foreign key) (?P<name>\S+) on (?P<otable>\w+))"
)


def locate_difference(schema: SchemaSettings, difference: str) -> tuple[str, int] | None:
    """Where in the models a difference of ``model_drift`` points: (file, 1-based line), or None.

    The model class of the table (its column's line when the difference is
    about a column, the line naming an index or constraint when it is one);
    an enum type's definition; the models module's first line for a table the
    models do not declare.
    """
    if not schema.models:
        return None
    match = _SUBJECT.match(difference)
    try:
        module = importlib.import_module(schema.models)
        path = inspect.getsourcefile(module)
        lines = inspect.getsource(module).splitlines()
    except (ImportError, OSError, TypeError):
        return None
    if path is None:
        return None
    if match is None:
        return path, 1
    table = match["table"] or match["ctable"] or match["otable"]
    start, end = _class_span(module, table, len(lines)) if table else (1, len(lines))
    patterns = []
    if match["column"]:
        patterns.append(rf"^\s*{re.escape(match['column'])}\s*[:=]|[\"']{re.escape(match['column'])}[\"']")
    for name in (match["name"], match["enum"]):
        if name:
            patterns.append(rf"[\"']{re.escape(name)}[\"']")
    for pattern in patterns:
        regex = re.compile(pattern)
        for number in range(start, end + 1):
            if regex.search(lines[number - 1]):
                return path, number
        if match["enum"]:  # an enum named by its Python type: search the whole module
            for number, line in enumerate(lines, start=1):
                if regex.search(line):
                    return path, number
    return path, start


def drift_finding(settings: Settings, schema: SchemaSettings, difference: str, what: str) -> Finding:
    """A ``model-drift`` error located at the model's file and line (``locate_difference``)."""
    where = locate_difference(schema, difference)
    file, line = (display_path(where[0], settings.root), where[1]) if where else (None, None)
    return Finding("model-drift", Severity.ERROR, f"{schema.name}: {what}: {difference}", file=file, line=line,
                   object=schema.name, check="drift",
                   fix=f"dbops migrate create {schema.name} <name> (or fix the models)")


def _class_span(module: Any, table: str, total: int) -> tuple[int, int]:
    """(first, last) line of the model class mapped to ``table``; (1, 1) when no class maps it."""
    base = getattr(module, "Base", None)
    registry = getattr(base, "registry", None)
    for mapper in getattr(registry, "mappers", ()):
        if getattr(mapper.local_table, "name", None) == table:
            try:
                source, first = inspect.getsourcelines(mapper.class_)
            except (OSError, TypeError):
                break
            return first, min(total, first + len(source) - 1)
    return 1, 1


def _metadata(schema: SchemaSettings) -> sa.MetaData:
    if not schema.models:
        raise ConfigError(
            f"schema {schema.name!r} has no models module",
            hint=f"set tool.dbops.schemas.{schema.name}.models in pyproject.toml",
        )
    try:
        metadata = load_metadata(schema.models)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import models module {schema.models!r}: {exc}",
            hint=f"check tool.dbops.schemas.{schema.name}.models in pyproject.toml",
        ) from None
    if metadata is None:
        raise ConfigError(
            f"models module {schema.models!r} defines neither Base nor metadata",
            hint="expose a DeclarativeBase subclass named Base",
        )
    return metadata


def _flatten(diffs: list[Any]) -> list[Any]:
    out: list[Any] = []
    for diff in diffs:
        # Column modifications come as a list of tuples per column.
        out.extend(diff if isinstance(diff, list) else [diff])
    return out


def _table_of(diff: tuple[Any, ...]) -> str | None:
    """The table a comparison result is about (None when unknown)."""
    kind = diff[0]
    if kind.startswith(("add_column", "remove_column", "modify_")):
        return diff[2]
    obj = diff[1] if len(diff) > 1 else None
    table = getattr(obj, "table", None) if not kind.endswith("_fk") else getattr(obj, "parent", None)
    return getattr(table, "name", None)


def describe_diff(diff: tuple[Any, ...]) -> str:
    """One line for one Alembic comparison result.

    >>> import sqlalchemy as sa
    >>> t = sa.Table("users", sa.MetaData(), sa.Column("id", sa.Integer))
    >>> describe_diff(("add_table", t))
    'table users: in the models, missing in the database'
    >>> describe_diff(("modify_nullable", None, "users", "email", {}, True, False))
    'column users.email: nullable in the database, NOT NULL in the models'
    """
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        return f"table {diff[1].name}: {_where(kind)}"
    if kind in ("add_column", "remove_column"):
        return f"column {diff[2]}.{diff[3].name}: {_where(kind)}"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        columns = ", ".join(getattr(e, "name", None) or str(e) for e in index.expressions)
        unique = "unique index" if index.unique else "index"
        return f"{unique} {index.name} on {index.table.name} ({columns}): {_where(kind)}"
    if kind in ("add_constraint", "remove_constraint"):
        constraint = diff[1]
        columns = ", ".join(c.name for c in constraint.columns)
        return f"constraint {constraint.name} on {constraint.table.name} ({columns}): {_where(kind)}"
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        columns = ", ".join(c.name for c in fk.columns)
        return f"foreign key {fk.name} on {fk.parent.name} ({columns}) -> {fk.referred_table.name}: {_where(kind)}"
    if kind == "modify_nullable":
        _, _, table, column, _, db_value, model_value = diff
        return f"column {table}.{column}: {_null(db_value)} in the database, {_null(model_value)} in the models"
    if kind == "modify_type":
        _, _, table, column, _, db_type, model_type = diff
        return f"column {table}.{column}: type {db_type} in the database, {model_type} in the models"
    if kind == "modify_default":
        _, _, table, column, _, db_default, model_default = diff
        return (
            f"column {table}.{column}: default {_default(db_default)} in the database, "
            f"{_default(model_default)} in the models"
        )
    if kind == "modify_comment":
        return f"column {diff[2]}.{diff[3]}: comment differs"
    return f"{kind}: " + " ".join(str(part) for part in diff[1:] if part is not None)


def _where(kind: str) -> str:
    return "in the models, missing in the database" if kind.startswith("add") else "in the database, not in the models"


def _null(nullable: bool) -> str:
    return "nullable" if nullable else "NOT NULL"


def _default(value: Any) -> str:
    if value is None:
        return "none"
    arg = getattr(value, "arg", value)
    return str(getattr(arg, "text", arg))


def _enum_drift(conn: Any, metadata: sa.MetaData) -> list[str]:
    from sqlalchemy import Enum

    wanted: dict[str, tuple[str, ...]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Enum) and column.type.native_enum and column.type.name:
                wanted[column.type.name] = tuple(column.type.enums)
    rows = conn.exec_driver_sql(
        "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
        "JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname"
    )
    found = {name: tuple(labels) for name, labels in rows}
    out = []
    for name in sorted(set(wanted) | set(found)):
        if name not in found:
            out.append(f"enum type {name}: in the models, missing in the database")
        elif name not in wanted:
            out.append(f"enum type {name}: in the database, not in the models")
        elif found[name] != wanted[name]:
            out.append(
                f"enum type {name}: labels {', '.join(found[name])} in the database, "
                f"{', '.join(wanted[name])} in the models"
            )
    return out


def _check_drift(conn: Any, metadata: sa.MetaData) -> list[str]:
    from sqlalchemy import CheckConstraint

    existing = _reflected_tables(conn)  # a missing table is reported once, as a table
    wanted = {
        (table.name, str(c.name))
        for table in metadata.tables.values()
        if table.name in existing
        for c in table.constraints
        if isinstance(c, CheckConstraint) and c.name
    }
    tables = set(metadata.tables)
    rows = conn.exec_driver_sql(
        "SELECT r.relname, c.conname FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
        "WHERE c.contype = 'c' AND r.relnamespace = 'public'::regnamespace AND NOT r.relispartition"
    )
    found = {(t, n) for t, n in rows if t in tables}
    out = [f"check constraint {n} on {t}: in the models, missing in the database" for t, n in wanted - found]
    out += [f"check constraint {n} on {t}: in the database, not in the models" for t, n in found - wanted]
    return out


def _partition_drift(conn: Any, metadata: sa.MetaData) -> list[str]:
    rows = conn.exec_driver_sql(
        "SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c "
        "WHERE c.relkind = 'p' AND c.relnamespace = 'public'::regnamespace"
    )
    found = {name: key for name, key in rows}
    existing = _reflected_tables(conn)
    out = []
    for name, table in sorted(metadata.tables.items()):
        if name not in existing:
            continue
        wanted = table.dialect_options["postgresql"].get("partition_by")
        actual = found.get(name)
        if _norm(wanted) != _norm(actual):
            out.append(
                f"table {name}: partitioned by {actual or 'nothing'} in the database, "
                f"by {wanted or 'nothing'} in the models"
            )
    return out


def _reflected_tables(conn: Any) -> set[str]:
    rows = conn.exec_driver_sql(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace"
    )
    return {r[0] for r in rows}


def _norm(value: str | None) -> str:
    return " ".join((value or "").upper().split())
