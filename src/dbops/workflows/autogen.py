"""Safe-by-construction autogenerate: Alembic's diff rewritten into lock-safe revisions.

``migrate create`` lets Alembic compare the models with the shadow database,
then hands the operations to :func:`plan_changes` (what looks like a rename,
what drops data) and :func:`rewrite` (the revisions to write). A change
becomes up to three revisions, each written only when it has something to do:

- **expand** (one transaction): new tables and columns, foreign keys and
  CHECK constraints on existing tables added ``NOT VALID``, a ``CHECK (col IS
  NOT NULL) NOT VALID`` for a column that becomes NOT NULL, defaults, the
  sync trigger of a rename. Every statement is instant.
- **online**: opens with an ``autocommit_block()`` (each statement its own
  transaction: ``CREATE/DROP INDEX CONCURRENTLY``, ``VALIDATE CONSTRAINT``),
  then, in the revision's own transaction, ``SET NOT NULL`` (no scan: the
  validated CHECK proves it), dropping the helper CHECK, ``ADD CONSTRAINT …
  UNIQUE USING INDEX``. Every statement of the block may run twice (an
  invalid index left by a timed-out build is dropped first), so a deploy that
  gave up on a lock can simply run again.
- **contract** (``phase = "contract"``): dropped columns and tables, and the
  end of a rename (validate, drop the trigger and the old column).

A new NOT NULL column without a default is added nullable (existing rows have
no value yet); the models still say NOT NULL, so the next ``migrate create``,
after the backfill, adds it through a validated CHECK. The same goes for a
volatile default: the column is added without it, the default set for new
rows, and the existing rows are left to ``dbops backfill``.

Each revision's ``downgrade()`` is Alembic's reverse of the operations it
took over (plus the rename trigger's removal).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy.dialects import postgresql

from dbops.errors import UsageError

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

#: PostgreSQL's identifier limit (NAMEDATALEN - 1).
MAX_IDENTIFIER = 63
_DIALECT = postgresql.dialect()


# -- operations dbops adds, and how Alembic renders them ---------------------------------------


class AutocommitBlockOp(ops.MigrateOperation):
    """``with op.get_context().autocommit_block():`` around ``ops`` (each statement its own transaction)."""

    def __init__(self, block: list[ops.MigrateOperation], comment: str = "") -> None:
        self.ops = block
        self.comment = comment


class SQLOp(ops.MigrateOperation):
    """``op.execute(sql)``, the SQL written out readably (a triple-quoted string when it spans lines)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql


class NoteOp(ops.MigrateOperation):
    """A comment in the revision (why a step is there, what to run next)."""

    def __init__(self, text: str) -> None:
        self.text = text


@renderers.dispatch_for(AutocommitBlockOp)
def _render_autocommit_block(context: AutogenContext, op: AutocommitBlockOp) -> list[str]:
    from alembic.autogenerate.render import render_op

    lines = [f"# {line}" for line in op.comment.splitlines()]
    lines.append("with op.get_context().autocommit_block():")
    for inner in op.ops:
        lines.extend(render_op(context, inner))
    lines.append("")  # ends the block (Alembic's printer dedents on an empty line)
    return lines


@renderers.dispatch_for(SQLOp)
def _render_sql(context: AutogenContext, op: SQLOp) -> str:
    if "\n" not in op.sql:
        return f"op.execute({op.sql!r})"
    return 'op.execute("""\n' + op.sql.replace("\\", "\\\\").replace('"""', '\\"""') + '\n""")'


@renderers.dispatch_for(NoteOp)
def _render_note(context: AutogenContext, op: NoteOp) -> list[str]:
    return [f"# {line}".rstrip() for line in op.text.splitlines()]


# -- what a change contains ------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRename:
    """``--rename table.old=new``: generate the online rename of a column."""

    table: str
    old: str
    new: str

    @classmethod
    def parse(cls, text: str) -> ColumnRename:
        """``"patients.phone=mobile"`` → ColumnRename.

        >>> ColumnRename.parse("patients.phone=mobile")
        ColumnRename(table='patients', old='phone', new='mobile')
        >>> ColumnRename.parse("phone=mobile")
        Traceback (most recent call last):
        ...
        dbops.errors.UsageError: --rename 'phone=mobile' is not TABLE.OLD=NEW
        """
        match = re.fullmatch(r"\s*([A-Za-z_][\w$]*)\.([A-Za-z_][\w$]*)\s*=\s*([A-Za-z_][\w$]*)\s*", text)
        if not match:
            raise UsageError(
                f"--rename {text!r} is not TABLE.OLD=NEW", hint="e.g. --rename patients.phone=mobile (a column rename)"
            )
        return cls(*match.groups())

    def __str__(self) -> str:
        return f"{self.table}.{self.old}={self.new}"


@dataclass(frozen=True)
class Suspect:
    """A column (or table) dropped and another of the same type added in one change: maybe a rename."""

    table: str | None  # None: a table dropped and a table of the same columns added
    old: str
    new: str
    type: str = ""

    @property
    def is_column(self) -> bool:
        return self.table is not None

    def describe(self) -> str:
        if self.table is not None:
            return (
                f"column {self.table}.{self.old} ({self.type}) is dropped and {self.table}.{self.new} "
                f"({self.type}) added"
            )
        return f"table {self.old} is dropped and table {self.new}, with the same columns, created"

    def rename(self) -> ColumnRename:
        assert self.table is not None
        return ColumnRename(self.table, self.old, self.new)


@dataclass(frozen=True)
class Drop:
    """A generated drop of a column (``column`` set) or a whole table."""

    table: str
    column: str | None = None

    def describe(self) -> str:
        return f"column {self.table}.{self.column}" if self.column else f"table {self.table}"


@dataclass
class Changes:
    """What the diff contains that needs a decision before anything is written."""

    suspects: list[Suspect] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)


@dataclass
class GeneratedScripts:
    """The revisions to write, and the notes to show the user."""

    scripts: list[ops.MigrationScript]
    roles: list[str]  # "expand" | "online" | "contract", one per script
    notes: list[str] = field(default_factory=list)


def _type_sql(column: Any) -> str:
    try:
        return str(column.type.compile(dialect=_DIALECT)).upper()
    except Exception:  # a type without a PostgreSQL rendering: never equal to another
        return f"<{type(column.type).__name__}>"


def _table_ops(upgrade_ops: ops.UpgradeOps) -> Iterable[ops.ModifyTableOps]:
    return (op for op in upgrade_ops.ops if isinstance(op, ops.ModifyTableOps))


def plan_changes(upgrade_ops: ops.UpgradeOps, renames: Collection[ColumnRename]) -> Changes:
    """The rename suspects (drop + add of the same type, not already in ``renames``) and the drops.

    A ``--rename`` that matches no dropped/added pair of the diff is a UsageError.
    """
    changes = Changes()
    renamed = {(r.table, r.old) for r in renames}
    added_by_table: dict[str, list[Any]] = {}
    dropped_by_table: dict[str, list[Any]] = {}
    for table_ops in _table_ops(upgrade_ops):
        for op in table_ops.ops:
            if isinstance(op, ops.AddColumnOp):
                added_by_table.setdefault(op.table_name, []).append(op.column)
            elif isinstance(op, ops.DropColumnOp):
                dropped_by_table.setdefault(op.table_name, []).append(op.to_column())
    for rename in renames:
        if not any(c.name == rename.old for c in dropped_by_table.get(rename.table, [])):
            raise UsageError(
                f"--rename {rename}: the change does not drop column {rename.table}.{rename.old}",
                hint="the database (at head) must have the old column and the models no longer",
            )
        if not any(c.name == rename.new for c in added_by_table.get(rename.table, [])):
            raise UsageError(
                f"--rename {rename}: the models add no column {rename.table}.{rename.new}",
                hint="rename the column in the models first",
            )
    for table, dropped in dropped_by_table.items():
        taken = {r.new for r in renames if r.table == table}
        for column in dropped:
            if (table, column.name) in renamed:
                continue
            match = next(
                (a for a in added_by_table.get(table, []) if a.name not in taken and _type_sql(a) == _type_sql(column)),
                None,
            )
            if match is not None:
                taken.add(match.name)
                changes.suspects.append(Suspect(table, column.name, match.name, _type_sql(column)))
            changes.drops.append(Drop(table, column.name))
    created = {op.table_name: op for op in upgrade_ops.ops if isinstance(op, ops.CreateTableOp)}
    for op in upgrade_ops.ops:
        if not isinstance(op, ops.DropTableOp):
            continue
        changes.drops.append(Drop(op.table_name))
        shape = _table_shape(op.to_table().columns)
        for new_name, create in created.items():
            if shape and shape == _table_shape(create.columns):
                changes.suspects.append(Suspect(None, op.table_name, new_name))
                break
    return changes


def _table_shape(columns: Iterable[Any]) -> frozenset[tuple[str, str]]:
    return frozenset((c.name, _type_sql(c)) for c in columns if hasattr(c, "type"))


# -- the rewrite -----------------------------------------------------------------------------


def quote(name: str) -> str:
    """An identifier as PostgreSQL needs it (quoted only when it must be).

    >>> quote("phone"), quote("Phone"), quote("user")
    ('phone', '"Phone"', '"user"')
    """
    return str(_DIALECT.identifier_preparer.quote(name))


def object_name(*parts: str, suffix: str) -> str:
    """``<parts>_<suffix>`` within PostgreSQL's 63 characters (a hash keeps long names distinct).

    >>> object_name("patients", "phone", suffix="not_null")
    'patients_phone_not_null'
    >>> len(object_name("t" * 60, "c" * 20, suffix="not_null"))
    63
    """
    name = "_".join((*parts, suffix))
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - len(suffix) - 10]}_{digest}_{suffix}"


@dataclass
class _Revision:
    """The operations of one revision being built."""

    role: str
    block: list[ops.MigrateOperation] = field(default_factory=list)  # the opening autocommit_block
    body: list[ops.MigrateOperation] = field(default_factory=list)  # the revision's own transaction
    originals: list[ops.MigrateOperation] = field(default_factory=list)  # reversed for downgrade()
    downgrade_extra: list[ops.MigrateOperation] = field(default_factory=list)  # run first in downgrade()
    downgrade_last: list[ops.MigrateOperation] = field(default_factory=list)  # run last (types the columns used)

    @property
    def empty(self) -> bool:
        return not (self.block or any(not isinstance(op, NoteOp) for op in self.body))


@dataclass
class _Rewriter:
    existing: frozenset[str]  # tables that exist at head (in the shadow database)
    renames: list[ColumnRename]
    schema: str
    is_volatile: Callable[[str], bool]
    enum_values: list[ops.MigrateOperation] = field(default_factory=list)  # ALTER TYPE … ADD VALUE, online first
    enum_types: set[str] = field(default_factory=set)  # native enum types that exist, or that this change creates
    expand: _Revision = field(default_factory=lambda: _Revision("expand"))
    online: _Revision = field(default_factory=lambda: _Revision("online"))
    contract: _Revision = field(default_factory=lambda: _Revision("contract"))
    notes: list[str] = field(default_factory=list)
    dropped_columns: dict[str, set[str]] = field(default_factory=dict)
    dropped_tables: set[str] = field(default_factory=set)

    def run(self, upgrade_ops: ops.UpgradeOps) -> None:
        # New enum labels first, each committed on its own: an index or a default below may use them.
        self.online.block.extend(self.enum_values)
        for op in upgrade_ops.ops:
            if isinstance(op, ops.CreateTableOp):  # create_table creates the enum types of its columns
                self.enum_types.update(name for name, _ in _native_enums(op.columns))
            if isinstance(op, ops.DropTableOp):
                self.dropped_tables.add(op.table_name)
            if isinstance(op, ops.ModifyTableOps):
                for sub in op.ops:
                    if isinstance(sub, ops.DropColumnOp):
                        self.dropped_columns.setdefault(sub.table_name, set()).add(sub.column_name)
        for op in upgrade_ops.ops:
            if isinstance(op, ops.ModifyTableOps):
                for sub in op.ops:
                    self.table_op(sub)
            else:
                self.table_op(op)
        for rename in self.renames:
            self.rename(rename, upgrade_ops)

    def on_existing(self, table: str | None) -> bool:
        return table is not None and table in self.existing

    # One operation of the diff: where it goes, in what form.
    def table_op(self, op: ops.MigrateOperation) -> None:
        table = op.source_table if isinstance(op, ops.CreateForeignKeyOp) else getattr(op, "table_name", None)
        if isinstance(op, ops.DropTableOp):
            self.contract.body.append(op)
            self.contract.originals.append(op)
        elif not self.on_existing(table) or isinstance(op, ops.CreateTableOp):
            self.keep(self.expand, op)
        elif isinstance(op, ops.AddColumnOp):
            if not any(r.table == table and r.new == op.column.name for r in self.renames):
                self.add_column(op)
        elif isinstance(op, ops.DropColumnOp):
            if not any(r.table == table and r.old == op.column_name for r in self.renames):
                self.contract.body.append(op)
                self.contract.originals.append(op)
        elif isinstance(op, ops.AlterColumnOp):
            self.alter_column(op)
        elif isinstance(op, ops.CreateIndexOp):
            self.create_index(op)
        elif isinstance(op, ops.DropIndexOp):
            self.drop_index(op)
        elif isinstance(op, ops.CreateUniqueConstraintOp):
            self.unique(op)
        elif isinstance(op, ops.CreateForeignKeyOp | ops.CreateCheckConstraintOp):
            self.not_valid(op)
        else:
            self.keep(self.expand, op)

    @staticmethod
    def keep(revision: _Revision, op: ops.MigrateOperation) -> None:
        revision.body.append(op)
        revision.originals.append(op)

    def add_column(self, op: ops.AddColumnOp) -> None:
        table, column = op.table_name, op.column
        copy = column._copy()
        later: list[ops.MigrateOperation] = []
        default = column.server_default
        default_sql = _default_sql(default)
        if default_sql is not None and self.is_volatile(default_sql):
            copy.server_default = None
            later.append(
                ops.AlterColumnOp(table, column.name, existing_type=column.type, modify_server_default=default)
            )
            self.note(
                self.expand,
                f"{table}.{column.name}: the volatile default {default_sql} would rewrite the table; "
                "the column is added without it, the default then applies to new rows.\n"
                f"Backfill the existing rows: {self.backfill_command(table, column.name, default_sql)}",
            )
        if (
            not column.nullable
            and (copy.server_default is None)
            and column.identity is None
            and column.computed is None
        ):
            copy.nullable = True
            self.note(
                self.expand,
                f"{table}.{column.name} is NOT NULL in the models: added nullable here (the "
                "existing rows have no value).\nBackfill it "
                f"({self.backfill_command(table, column.name, '<expression>')}), then "
                f"`dbops migrate create {self.schema} {column.name}_not_null` makes it NOT NULL through a "
                "validated CHECK.",
            )
        self.create_enum_types([column])
        self.expand.body.append(ops.AddColumnOp(table, copy, schema=op.schema))
        self.expand.body.extend(later)
        self.expand.originals.append(op)

    def create_enum_types(self, columns: Iterable[Any]) -> None:
        """CREATE TYPE for a native enum a new column of an existing table needs (add_column does not)."""
        for name, labels in _native_enums(columns):
            if name in self.enum_types:
                continue
            self.enum_types.add(name)
            self.expand.body.append(SQLOp(f"CREATE TYPE {quote(name)} AS ENUM ({', '.join(map(_literal, labels))})"))
            self.expand.downgrade_last.append(SQLOp(f"DROP TYPE IF EXISTS {quote(name)}"))

    def alter_column(self, op: ops.AlterColumnOp) -> None:
        becomes_not_null = op.modify_nullable is False and op.existing_nullable is not False
        rest = dict(
            modify_type=op.modify_type,
            modify_server_default=op.modify_server_default,
            modify_comment=op.modify_comment,
            modify_name=op.modify_name,
        )
        has_rest = (
            op.modify_type is not None
            or op.modify_server_default is not False
            or op.modify_comment is not False
            or op.modify_name is not None
        )
        if has_rest:
            self.expand.body.append(
                ops.AlterColumnOp(
                    op.table_name,
                    op.column_name,
                    schema=op.schema,
                    existing_type=op.existing_type,
                    existing_server_default=op.existing_server_default,
                    existing_nullable=op.existing_nullable,
                    existing_comment=op.existing_comment,
                    **rest,
                    **op.kw,
                )
            )
            self.expand.originals.append(
                ops.AlterColumnOp(
                    op.table_name,
                    op.column_name,
                    schema=op.schema,
                    existing_type=op.existing_type,
                    existing_server_default=op.existing_server_default,
                    existing_nullable=op.existing_nullable,
                    existing_comment=op.existing_comment,
                    **rest,
                    **op.kw,
                )
            )
        if not becomes_not_null:
            if op.modify_nullable is not None and not has_rest:
                self.keep(self.expand, op)
            elif op.modify_nullable is not None:
                self.keep(
                    self.expand,
                    ops.AlterColumnOp(
                        op.table_name,
                        op.column_name,
                        schema=op.schema,
                        existing_type=op.existing_type,
                        existing_nullable=op.existing_nullable,
                        modify_nullable=op.modify_nullable,
                    ),
                )
            return
        self.set_not_null(op.table_name, op.column_name, op.existing_type, self.online)
        self.online.originals.append(
            ops.AlterColumnOp(
                op.table_name,
                op.column_name,
                schema=op.schema,
                existing_type=op.existing_type,
                existing_nullable=op.existing_nullable,
                modify_nullable=False,
            )
        )

    def set_not_null(self, table: str, column: str, existing_type: Any, finish: _Revision) -> None:
        """CHECK (col IS NOT NULL) NOT VALID in expand; VALIDATE, SET NOT NULL, drop the CHECK in ``finish``."""
        check = object_name(table, column, suffix="not_null")
        self.expand.body.append(
            ops.CreateCheckConstraintOp(check, table, f"{quote(column)} IS NOT NULL", postgresql_not_valid=True)
        )
        self.expand.downgrade_extra.append(ops.DropConstraintOp(check, table, type_="check", if_exists=True))
        finish.block.append(SQLOp(f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(check)}"))
        finish.body.append(NoteOp(f"{table}.{column}: no scan, the validated {check} proves it"))
        finish.body.append(ops.AlterColumnOp(table, column, existing_type=existing_type, modify_nullable=False))
        finish.body.append(ops.DropConstraintOp(check, table, type_="check", if_exists=True))

    def create_index(self, op: ops.CreateIndexOp) -> None:
        kw = {**op.kw, "postgresql_concurrently": True}
        # An earlier build that timed out leaves an INVALID index of that name: drop it first.
        self.online.block.append(
            ops.DropIndexOp(
                str(op.index_name),
                table_name=op.table_name,
                schema=op.schema,
                postgresql_concurrently=True,
                if_exists=True,
            )
        )
        self.online.block.append(
            ops.CreateIndexOp(op.index_name, op.table_name, op.columns, schema=op.schema, unique=op.unique, **kw)
        )
        self.online.originals.append(op)

    def drop_index(self, op: ops.DropIndexOp) -> None:
        table = op.table_name
        columns = _index_columns(op)
        if table in self.dropped_tables or (columns and columns <= self.dropped_columns.get(table or "", set())):
            # DROP TABLE / DROP COLUMN (contract) drops the index with it.
            self.contract.originals.append(op)
            return
        self.online.block.append(
            ops.DropIndexOp(
                op.index_name, table_name=table, schema=op.schema, postgresql_concurrently=True, if_exists=True
            )
        )
        self.online.originals.append(op)

    def unique(self, op: ops.CreateUniqueConstraintOp) -> None:
        table = op.table_name
        name = (
            str(op.constraint_name)
            if isinstance(op.constraint_name, str)
            else object_name(table, *op.columns, suffix="key")
        )
        self.online.block.append(
            ops.DropIndexOp(name, table_name=table, schema=op.schema, postgresql_concurrently=True, if_exists=True)
        )
        self.online.block.append(
            ops.CreateIndexOp(
                name, table, list(op.columns), schema=op.schema, unique=True, postgresql_concurrently=True
            )
        )
        self.online.body.append(
            SQLOp(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} UNIQUE USING INDEX {quote(name)}")
        )
        self.online.originals.append(op)

    def not_valid(self, op: ops.CreateForeignKeyOp | ops.CreateCheckConstraintOp) -> None:
        table = op.source_table if isinstance(op, ops.CreateForeignKeyOp) else op.table_name
        name = op.constraint_name if isinstance(op.constraint_name, str) else None
        if name is None:
            if isinstance(op, ops.CreateForeignKeyOp):
                name = object_name(table, *op.local_cols, suffix="fkey")
            else:
                name = object_name(table, suffix="check")
            op.constraint_name = name
        op.kw["postgresql_not_valid"] = True
        self.expand.body.append(op)
        self.expand.originals.append(op)
        self.online.block.append(SQLOp(f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(name)}"))

    def rename(self, rename: ColumnRename, upgrade_ops: ops.UpgradeOps) -> None:
        """Expand: the new column + a trigger keeping both in sync; contract: drop the trigger and the old column."""
        add = next(
            op
            for t in _table_ops(upgrade_ops)
            for op in t.ops
            if isinstance(op, ops.AddColumnOp) and op.table_name == rename.table and op.column.name == rename.new
        )
        drop = next(
            op
            for t in _table_ops(upgrade_ops)
            for op in t.ops
            if isinstance(op, ops.DropColumnOp) and op.table_name == rename.table and op.column_name == rename.old
        )
        table, old, new = rename.table, rename.old, rename.new
        column = add.column._copy()
        default, column.server_default = column.server_default, None
        column.nullable = True
        function, trigger = (
            object_name("dbops_sync", table, old, suffix=new),
            object_name("dbops_sync", old, suffix=new),
        )
        cast = "" if _type_sql(add.column) == _type_sql(drop.to_column()) else f"::{_type_sql(add.column).lower()}"
        back = "" if not cast else f"::{_type_sql(drop.to_column()).lower()}"
        create_sync = [
            SQLOp(
                _SYNC_FUNCTION.format(function=quote(function), old=quote(old), new=quote(new), cast=cast, back=back)
            ),
            SQLOp(
                f"CREATE TRIGGER {quote(trigger)} BEFORE INSERT OR UPDATE ON {quote(table)}\n"
                f"    FOR EACH ROW EXECUTE FUNCTION {quote(function)}()"
            ),
        ]
        drop_sync = [
            SQLOp(f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}"),
            SQLOp(f"DROP FUNCTION IF EXISTS {quote(function)}()"),
        ]
        backfill = self.backfill_command(table, new, f"{old}{cast}", where=f"{new} IS NULL AND {old} IS NOT NULL")
        self.note(
            self.expand,
            f"rename {table}.{old} -> {new}, step 1 of 3 (expand): {new} is added and a trigger "
            "keeps both columns in sync while old and new code run side by side.\n"
            f"Step 2, after this deploy: {backfill}\n"
            "Step 3, once no deployed code uses the old name: the contract revision drops the trigger and "
            f"{old}.",
        )
        self.create_enum_types([column])
        self.expand.body.append(ops.AddColumnOp(table, column))
        self.expand.body.extend(create_sync)
        self.expand.downgrade_extra.extend([*drop_sync, ops.DropColumnOp(table, new)])
        self.contract.body.append(
            NoteOp(
                f"rename {table}.{old} -> {new}, step 3 of 3 (contract): run it after `{backfill}` has finished and "
                f"once no deployed code reads or writes {old}. It refuses to run while {old} holds values {new} lacks."
            )
        )
        self.contract.body.append(
            SQLOp(
                _BACKFILLED_GUARD.format(
                    table=quote(table),
                    old=quote(old),
                    new=quote(new),
                    shown=f"{table}.{old}",
                    backfill=backfill.replace("'", "''"),
                )
            )
        )
        if not add.column.nullable:
            self.set_not_null(table, new, add.column.type, self.contract)
        self.contract.body.extend(drop_sync)
        if default is not None:
            self.contract.body.append(
                ops.AlterColumnOp(table, new, existing_type=add.column.type, modify_server_default=default)
            )
        self.contract.body.append(drop)
        self.contract.originals.append(drop)
        self.contract.downgrade_extra.extend(create_sync)  # runs after the old column is back (reverse order)

    def backfill_command(self, table: str, column: str, expression: str, *, where: str | None = None) -> str:
        where = where or f"{column} IS NULL"
        return f'dbops backfill {self.schema} {table} --set "{column} = {expression}" --where "{where}"'

    def note(self, revision: _Revision, text: str) -> None:
        revision.body.append(NoteOp(text))
        self.notes.append(" ".join(text.split("\n")))


_SYNC_FUNCTION = """CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.{new} IS NULL THEN
            NEW.{new} := NEW.{old}{cast};
        ELSIF NEW.{old} IS NULL THEN
            NEW.{old} := NEW.{new}{back};
        END IF;
    ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN
        NEW.{old} := NEW.{new}{back};
    ELSIF NEW.{old} IS DISTINCT FROM OLD.{old} OR NEW.{new} IS NULL THEN
        NEW.{new} := NEW.{old}{cast};
    END IF;
    RETURN NEW;
END
$$"""


_BACKFILLED_GUARD = """DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM {table} WHERE {new} IS NULL AND {old} IS NOT NULL) THEN
        RAISE EXCEPTION '{shown} holds values not copied to {new} yet: run the backfill first'
            USING HINT = '{backfill}';
    END IF;
END
$$"""


def _index_columns(op: ops.DropIndexOp) -> set[str]:
    reverse = getattr(op, "_reverse", None)
    columns = getattr(reverse, "columns", None) or []
    return {c if isinstance(c, str) else getattr(c, "name", "") for c in columns} - {""}


def _default_sql(default: Any) -> str | None:
    if default is None:
        return None
    arg = getattr(default, "arg", default)
    text = getattr(arg, "text", arg)
    return str(text) if text is not None else None


def rewrite(
    script: ops.MigrationScript,
    *,
    existing: Collection[str],
    renames: Iterable[ColumnRename],
    schema: str,
    is_volatile: Callable[[str], bool],
    next_id: Callable[[str], str],
    enum_values: Iterable[ops.MigrateOperation] = (),
    enum_types: Collection[str] = (),
    notes: Iterable[str] = (),
) -> GeneratedScripts:
    """The lock-safe revisions for ``script``'s operations (see the module docstring).

    ``existing``: the tables at head; ``next_id(previous)`` the id after ``previous``;
    ``enum_values``: the ``ALTER TYPE … ADD VALUE`` of :func:`enum_changes`.
    """
    rewriter = _Rewriter(frozenset(existing), list(renames), schema, is_volatile, list(enum_values), set(enum_types))
    for text in notes:
        rewriter.note(rewriter.expand, text)
    assert script.upgrade_ops is not None  # autogenerate always fills it
    rewriter.run(script.upgrade_ops)
    built = [r for r in (rewriter.expand, rewriter.online, rewriter.contract) if not r.empty]
    message = script.message or ""
    out: list[ops.MigrationScript] = []
    for revision in built:
        upgrade: list[ops.MigrateOperation] = []
        if revision.block:
            upgrade.append(AutocommitBlockOp(revision.block, comment=_BLOCK_COMMENT))
        upgrade.extend(revision.body)
        downgrade = ops.UpgradeOps(ops=list(revision.originals)).reverse().ops
        # Expand: undo dbops' own steps (the rename trigger) before Alembic's; contract: after (the column first).
        downgrade_ops = (
            [*revision.downgrade_extra, *downgrade]
            if revision.role != "contract"
            else [*downgrade, *revision.downgrade_extra]
        )
        downgrade_ops += revision.downgrade_last
        first = not out
        rev_id = script.rev_id if first else next_id(out[-1].rev_id or "")
        out.append(
            ops.MigrationScript(
                rev_id,
                ops.UpgradeOps(ops=upgrade),
                ops.DowngradeOps(ops=downgrade_ops),
                message=message if len(built) == 1 or first else f"{message} {revision.role}",
                imports=set(script.imports),
                head=script.head if first else out[-1].rev_id,
                splice=script.splice if first else None,
                branch_label=script.branch_label if first else None,
                version_path=script.version_path,
                depends_on=script.depends_on if first else None,
            )
        )
    return GeneratedScripts(out, [r.role for r in built], rewriter.notes)


_BLOCK_COMMENT = (
    "Each statement below commits on its own (CONCURRENTLY cannot run in a transaction; a VALIDATE\n"
    "scans without blocking writes). Safe to run again after a timeout: a half-built index is dropped "
    "first."
)


def check_constraint_ops(connection: Any, metadata: Any, existing: Collection[str]) -> list[ops.MigrateOperation]:
    """CHECK constraints Alembic's autogenerate does not compare: added to or removed from existing tables.

    Named constraints only (a model CHECK without a name cannot be matched); partitions are skipped.
    """
    import sqlalchemy as sa

    rows = connection.exec_driver_sql(
        "SELECT r.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class r ON r.oid = c.conrelid WHERE c.contype = 'c' AND r.relnamespace = 'public'::regnamespace "
        "AND NOT r.relispartition"
    ).fetchall()
    found = {(table, name): definition for table, name, definition in rows}
    wanted = {}
    for table in metadata.tables.values():
        if table.name not in existing:
            continue
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint) and isinstance(constraint.name, str):
                wanted[(table.name, constraint.name)] = constraint
    out: list[ops.MigrateOperation] = []
    for (table, name), constraint in sorted(wanted.items()):
        if (table, name) not in found:
            out.append(ops.CreateCheckConstraintOp(name, table, constraint.sqltext))
    for (table, name), definition in sorted(found.items()):
        if table in metadata.tables and (table, name) not in wanted:
            sqltext = re.sub(r"^CHECK\s*|\s*NOT VALID$", "", definition)
            reflected = sa.CheckConstraint(sa.text(sqltext), name=name)
            sa.Table(table, sa.MetaData(), reflected)
            out.append(ops.DropConstraintOp.from_constraint(reflected))
    return out


def enum_changes(connection: Any, metadata: Any) -> tuple[list[ops.MigrateOperation], list[str]]:
    """Labels the models add to existing native enum types (``ADD VALUE IF NOT EXISTS``, in their place),
    and notes for what PostgreSQL cannot do in place (a label removed, renamed or moved).

    Alembic's autogenerate does not compare enum labels; ``dbops status`` does (drift).
    """
    import sqlalchemy as sa

    wanted: dict[str, list[str]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.native_enum and column.type.name:
                wanted[column.type.name] = list(column.type.enums)
    rows = connection.exec_driver_sql(
        "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
        "JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname"
    ).fetchall()
    found = {name: list(labels) for name, labels in rows}
    out: list[ops.MigrateOperation] = []
    notes = []
    for name, labels in sorted(wanted.items()):
        old = found.get(name)
        if old is None or old == labels:
            continue
        if [label for label in labels if label in old] != old:
            notes.append(
                f"enum {name}: the models remove, rename or reorder labels ({', '.join(old)} -> "
                f"{', '.join(labels)}); PostgreSQL cannot do that in place: write it by hand (a new type "
                "and a column swap) — nothing was generated for it."
            )
            continue
        for index, label in enumerate(labels):
            if label in old:
                continue
            place = f" AFTER {_literal(labels[index - 1])}" if index else f" BEFORE {_literal(labels[1])}"
            out.append(SQLOp(f"ALTER TYPE {quote(name)} ADD VALUE IF NOT EXISTS {_literal(label)}{place}"))
    return out, notes


def _native_enums(columns: Iterable[Any]) -> list[tuple[str, list[str]]]:
    """(type name, labels) of the native PostgreSQL enum types of ``columns`` (those SQLAlchemy would create)."""
    import sqlalchemy as sa

    out = []
    for column in columns:
        kind = getattr(column, "type", None)
        if isinstance(kind, sa.Enum) and kind.native_enum and kind.name and getattr(kind, "create_type", True):
            out.append((str(kind.name), list(kind.enums)))
    return out


def existing_enum_types(connection: Any) -> set[str]:
    """The enum types of ``public`` at head."""
    rows = connection.exec_driver_sql(
        "SELECT typname FROM pg_type WHERE typtype = 'e' AND typnamespace = 'public'::regnamespace"
    ).fetchall()
    return {r[0] for r in rows}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def add_to_table(upgrade_ops: ops.UpgradeOps, new_ops: Iterable[ops.MigrateOperation]) -> None:
    """Put table-level operations in their table's ModifyTableOps (created when missing)."""
    for op in new_ops:
        table = str(getattr(op, "table_name", ""))
        target = next((t for t in _table_ops(upgrade_ops) if t.table_name == table), None)
        if target is None:
            target = ops.ModifyTableOps(table, [])
            upgrade_ops.ops.append(target)
        target.ops.append(op)
