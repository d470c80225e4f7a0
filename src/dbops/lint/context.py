"""The context every rule reads: what the migration has done so far.

Built once by the engine and updated after each statement: tables and indexes created in this
migration, the transaction the statement runs in (explicit BEGIN, a DO block, or a statement on
its own), the locks that transaction holds, whether ``lock_timeout`` is set, the target
PostgreSQL version, the migration's phase, the syntax of the file (fix texts and suppressions
are written in it), and a small catalog of column types and NOT NULL checks carried across the
migrations of one run (history).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dbops.lint import locks as L
from dbops.lint.facts.model import DML, ActionKind, Kind

if TYPE_CHECKING:
    from dbops.lint.facts.model import Action, Stmt
    from dbops.lint.pgtypes import TypeInfo

Syntax = Literal["sql", "alembic"]
JournalOp = tuple[Any, ...]


@dataclass
class Catalog:
    """Column types and NOT NULL checks, learned from the migrations seen so far.

    Every change is also appended to ``journal`` (when set), so the effect of a cached migration
    can be replayed without re-linting it.
    """

    columns: dict[str, dict[str, TypeInfo]] = field(default_factory=dict)
    not_null_checks: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, constraint) -> column
    validated_not_null: set[tuple[str, str]] = field(default_factory=set)  # (table, column)
    journal: list[JournalOp] | None = None

    @classmethod
    def from_types(cls, tables: Mapping[str, Mapping[str, TypeInfo]]) -> Catalog:
        """A catalog that knows these column types already (a live database, the previous revision)."""
        return cls(columns={table: dict(columns) for table, columns in tables.items()})

    def column_type(self, table: str | None, column: str | None) -> TypeInfo | None:
        if table is None or column is None:
            return None
        return self.columns.get(table, {}).get(column)

    def do(self, op: str, *args: Any) -> None:
        """Apply one change (and journal it)."""
        if self.journal is not None:
            self.journal.append((op, *args))
        getattr(self, "_" + op)(*args)

    def replay(self, ops: Iterable[JournalOp]) -> None:
        for op, *args in ops:
            self.do(op, *args)

    def _table(self, table: str, columns: Mapping[str, TypeInfo]) -> None:
        self.columns[table] = dict(columns)

    def _drop_table(self, table: str) -> None:
        self.columns.pop(table, None)

    def _rename_table(self, old: str, new: str) -> None:
        if old in self.columns:
            self.columns[new] = self.columns.pop(old)

    def _column(self, table: str, column: str, info: TypeInfo) -> None:
        self.columns.setdefault(table, {})[column] = info

    def _drop_column(self, table: str, column: str) -> None:
        self.columns.get(table, {}).pop(column, None)

    def _rename_column(self, table: str, old: str, new: str) -> None:
        cols = self.columns.get(table, {})
        if old in cols:
            cols[new] = cols.pop(old)

    def _check(self, table: str, name: str, column: str) -> None:
        self.not_null_checks[(table, name)] = column

    def _validated(self, table: str, column: str) -> None:
        self.validated_not_null.add((table, column))

    def _validate(self, table: str, name: str) -> None:
        column = self.not_null_checks.get((table, name))
        if column:
            self.validated_not_null.add((table, column))

    def _drop_check(self, table: str, name: str) -> None:
        column = self.not_null_checks.pop((table, name), None)
        if column:
            self.validated_not_null.discard((table, column))


@dataclass
class Transaction:
    """One transaction: explicit (BEGIN/assumed), ``do`` (a DO block) or ``single`` (autocommit)."""

    id: int
    kind: str
    exclusive: dict[str, Stmt] = field(default_factory=dict)  # existing table -> statement that took ACCESS EXCLUSIVE
    not_valid: dict[tuple[str, str], Stmt] = field(default_factory=dict)  # (table, constraint) added NOT VALID here
    enum_values: dict[str, Stmt] = field(default_factory=dict)  # label added by ALTER TYPE … ADD VALUE here
    ddl: bool = False  # a lock that blocks writes was taken on an existing table
    lock_timeout: bool = False  # SET LOCAL lock_timeout
    reported: set[str] = field(default_factory=set)
    deferred: list[tuple[Any, Stmt, Any]] = field(default_factory=list)  # (rule, stmt, violation) decided at the end


def _line(stmt: Stmt) -> int | None:
    return stmt.line


@dataclass
class Context:
    """State of one migration (a .sql file or an Alembic revision) as its statements run."""

    pg_version: int = 15
    phase: str | None = None
    filename: str = "<stdin>"
    syntax: Syntax = "sql"
    partitioned_tables: frozenset[str] = frozenset()
    bookkeeping_tables: frozenset[str] = frozenset()
    catalog: Catalog = field(default_factory=Catalog)
    created_tables: set[str] = field(default_factory=set)
    created_indexes: dict[str, str | None] = field(default_factory=dict)
    lock_timeout: bool = False
    tx: Transaction | None = None
    reported: set[str] = field(default_factory=set)
    locate: Callable[[Stmt], int | None] = _line  # the line of a statement in the user's file
    _next_tx: int = 0

    # --- questions rules ask ---

    @property
    def in_transaction(self) -> bool:
        """Inside a multi-statement transaction (explicit BEGIN or a DO block)?"""
        return self.tx is not None and self.tx.kind != "single"

    def existing(self, table: str | None) -> bool:
        """Is ``table`` a user table that existed before this migration (so it may be big and busy)?

        The migration runner's own bookkeeping tables (``alembic_version`` …) never are.
        """
        return table is not None and table not in self.created_tables and table not in self.bookkeeping_tables

    def bookkeeping(self, table: str | None) -> bool:
        """Is ``table`` the migration runner's own (``alembic_version``, ``schema_migrations`` …)?"""
        return table is not None and table in self.bookkeeping_tables

    def lock_timeout_set(self) -> bool:
        return self.lock_timeout or (self.tx is not None and self.tx.lock_timeout)

    def contract_phase(self) -> bool:
        return self.phase == "contract"

    def line_of(self, stmt: Stmt) -> int | None:
        """Where ``stmt`` is in the user's file (the ``op.*`` line for an Alembic revision)."""
        return self.locate(stmt)

    def suppression(self, rule_id: str, reason: str = "<why it is safe>") -> str:
        """The comment that suppresses ``rule_id``, in the file's comment syntax."""
        mark = "#" if self.syntax == "alembic" else "--"
        return f"{mark} dbops: ignore[{rule_id}] {reason}"

    # --- transaction boundaries ---

    def begin(self, kind: str) -> Transaction:
        self._next_tx += 1
        self.tx = Transaction(self._next_tx, kind)
        return self.tx

    def end(self) -> None:
        self.tx = None

    # --- effects of a statement ---

    def apply(self, stmt: Stmt) -> None:
        """Record what ``stmt`` did (after the rules have seen it)."""
        effect = _EFFECTS.get(stmt.kind)
        if effect is not None:
            effect(self, stmt)
        if self.tx is not None:
            self._locks_held(stmt, self.tx)

    def _locks_held(self, stmt: Stmt, tx: Transaction) -> None:
        """Which existing tables the transaction now holds write-blocking / ACCESS EXCLUSIVE locks on."""
        kind = stmt.kind
        if kind is Kind.LOCK:
            if stmt.lock >= L.ACCESS_EXCLUSIVE:
                self._hold(tx, stmt, stmt.tables, ddl=False)
        elif stmt.lock >= L.SHARE and kind not in DML:
            targets: Iterable[str] = stmt.targets()
            if kind is Kind.DROP_INDEX:
                targets = [n for n in stmt.index_names if n not in self.created_indexes]
            self._hold(tx, stmt, targets, ddl=True)
        if stmt.other_locks:
            self._hold(tx, stmt, [t for t, mode in stmt.other_locks.items() if mode >= L.ACCESS_EXCLUSIVE],
                       ddl=False)

    def _hold(self, tx: Transaction, stmt: Stmt, tables: Iterable[str], *, ddl: bool) -> None:
        exclusive = stmt.lock >= L.ACCESS_EXCLUSIVE or not ddl
        for name in tables:
            if self.existing(name):
                tx.ddl = tx.ddl or ddl
                if exclusive:
                    tx.exclusive.setdefault(name, stmt)

    def _create_table(self, stmt: Stmt) -> None:
        if stmt.table:
            self.created_tables.add(stmt.table)
            if stmt.columns:
                self.catalog.do("table", stmt.table, stmt.columns)

    def _create_index(self, stmt: Stmt) -> None:
        if stmt.index_name:
            self.created_indexes[stmt.index_name] = stmt.table

    def _drop_table(self, stmt: Stmt) -> None:
        for name in stmt.tables:
            self.catalog.do("drop_table", name)

    def _set(self, stmt: Stmt) -> None:
        if not stmt.setting or stmt.setting[0] != "lock_timeout":
            return
        _name, value, local = stmt.setting
        on = value.strip("'\" ") not in ("0", "default", "0ms", "0s", "")
        if not local:
            self.lock_timeout = on
        elif self.tx is not None:
            self.tx.lock_timeout = on

    def _enum_add_value(self, stmt: Stmt) -> None:
        if self.tx is not None and stmt.value is not None:
            self.tx.enum_values.setdefault(stmt.value, stmt)

    def _alter_table(self, stmt: Stmt) -> None:
        if not stmt.table:
            return
        for action in stmt.actions:
            effect = _ACTION_EFFECTS.get(action.kind)
            if effect is not None:
                effect(self, stmt, stmt.table, action)

    def _add_column(self, stmt: Stmt, table: str, action: Action) -> None:
        if action.column and action.type is not None:
            self.catalog.do("column", table, action.column, action.type)

    def _drop_column(self, stmt: Stmt, table: str, action: Action) -> None:
        if action.column:
            self.catalog.do("drop_column", table, action.column)

    def _rename_column(self, stmt: Stmt, table: str, action: Action) -> None:
        if action.column and action.name:
            self.catalog.do("rename_column", table, action.column, action.name)

    def _rename_table(self, stmt: Stmt, table: str, action: Action) -> None:
        if not action.name:
            return
        if table in self.created_tables:
            self.created_tables.add(action.name)
        self.catalog.do("rename_table", table, action.name)

    def _add_constraint(self, stmt: Stmt, table: str, action: Action) -> None:
        if action.not_valid and action.name and self.tx is not None:
            self.tx.not_valid[(table, action.name)] = stmt
        column = action.not_null_check_column
        if column:
            if action.name:
                self.catalog.do("check", table, action.name, column)
            if not action.not_valid:
                self.catalog.do("validated", table, column)

    def _validate_constraint(self, stmt: Stmt, table: str, action: Action) -> None:
        if action.name:
            self.catalog.do("validate", table, action.name)

    def _drop_constraint(self, stmt: Stmt, table: str, action: Action) -> None:
        if action.name:
            self.catalog.do("drop_check", table, action.name)


_EFFECTS: dict[Kind, Callable[[Context, Stmt], None]] = {
    Kind.CREATE_TABLE: Context._create_table,
    Kind.CREATE_INDEX: Context._create_index,
    Kind.DROP_TABLE: Context._drop_table,
    Kind.SET: Context._set,
    Kind.ENUM_ADD_VALUE: Context._enum_add_value,
    Kind.ALTER_TABLE: Context._alter_table,
}
_ACTION_EFFECTS: dict[ActionKind, Callable[[Context, Stmt, str, Action], None]] = {
    ActionKind.ADD_COLUMN: Context._add_column,
    ActionKind.ALTER_TYPE: Context._add_column,
    ActionKind.DROP_COLUMN: Context._drop_column,
    ActionKind.RENAME_COLUMN: Context._rename_column,
    ActionKind.RENAME_TABLE: Context._rename_table,
    ActionKind.ADD_CONSTRAINT: Context._add_constraint,
    ActionKind.VALIDATE_CONSTRAINT: Context._validate_constraint,
    ActionKind.DROP_CONSTRAINT: Context._drop_constraint,
}
