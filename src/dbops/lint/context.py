"""The context every rule reads: what the migration has done so far.

Built once by the engine and updated after each statement: tables and
indexes created in this migration, the transaction the statement runs in
(explicit BEGIN, a DO block, or a statement on its own), the locks that
transaction holds, whether ``lock_timeout`` is set, the target PostgreSQL
version, the migration's phase, and a small catalog of column types and
NOT NULL checks carried across the migrations of one run (history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.lint import locks as L

if TYPE_CHECKING:
    from dbops.lint.facts import Stmt
    from dbops.lint.pgtypes import TypeInfo


@dataclass
class Catalog:
    """Column types and NOT NULL checks, learned from the migrations seen so far.

    Every change is also appended to ``journal`` (when set), so the effect
    of a cached migration can be replayed without re-linting it.
    """

    columns: dict[str, dict[str, TypeInfo]] = field(default_factory=dict)
    not_null_checks: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, constraint) -> column
    validated_not_null: set[tuple[str, str]] = field(default_factory=set)  # (table, column)
    journal: list[tuple] | None = None

    def column_type(self, table: str | None, column: str | None) -> TypeInfo | None:
        if table is None or column is None:
            return None
        return self.columns.get(table, {}).get(column)

    def do(self, op: str, *args: Any) -> None:
        """Apply one change (and journal it)."""
        if self.journal is not None:
            self.journal.append((op, *args))
        getattr(self, "_" + op)(*args)

    def replay(self, ops: list[tuple]) -> None:
        for op, *args in ops:
            self.do(op, *args)

    def _table(self, table: str, columns: dict[str, TypeInfo]) -> None:
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
    ddl: bool = False  # a lock that blocks writes was taken on an existing table
    lock_timeout: bool = False  # SET LOCAL lock_timeout
    reported: set[str] = field(default_factory=set)


@dataclass
class Context:
    """State of one migration (a .sql file or an Alembic revision) as its statements run."""

    pg_version: int = 15
    phase: str | None = None
    filename: str = "<stdin>"
    partitioned_tables: frozenset[str] = frozenset()
    catalog: Catalog = field(default_factory=Catalog)
    created_tables: set[str] = field(default_factory=set)
    created_indexes: dict[str, str | None] = field(default_factory=dict)
    lock_timeout: bool = False
    tx: Transaction | None = None
    reported: set[str] = field(default_factory=set)
    ddl_transactions: set[int] = field(default_factory=set)  # from the engine's first pass
    _next_tx: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    # --- questions rules ask ---

    @property
    def in_transaction(self) -> bool:
        """Inside a multi-statement transaction (explicit BEGIN or a DO block)?"""
        return self.tx is not None and self.tx.kind != "single"

    def existing(self, table: str | None) -> bool:
        """Is ``table`` a table that existed before this migration (so it may be big and busy)?"""
        return table is not None and table not in self.created_tables

    def lock_timeout_set(self) -> bool:
        return self.lock_timeout or (self.tx is not None and self.tx.lock_timeout)

    def contract_phase(self) -> bool:
        return self.phase == "contract"

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
        kind = stmt.kind
        tx = self.tx
        table = stmt.table
        if kind == "create_table" and table:
            self.created_tables.add(table)
            if stmt.columns:
                self.catalog.do("table", table, stmt.columns)
        elif kind == "create_index" and stmt.index_name:
            self.created_indexes[stmt.index_name] = table
        elif kind == "alter_table" and table:
            self._apply_alter(stmt, table)
        elif kind == "drop_table":
            for name in stmt.tables:
                self.catalog.do("drop_table", name)
        elif kind == "set" and stmt.setting and stmt.setting[0] == "lock_timeout":
            _name, value, local = stmt.setting
            on = value.strip("'\" ") not in ("0", "default", "0ms", "0s", "")
            if local:
                if tx is not None:
                    tx.lock_timeout = on
            else:
                self.lock_timeout = on
        if tx is not None and stmt.lock >= L.SHARE and kind not in ("update", "delete", "insert", "lock"):
            targets = [table] if table else stmt.tables
            if kind == "drop_index":
                targets = [n for n in stmt.index_names if n not in self.created_indexes]
            for name in targets:
                if self.existing(name):
                    tx.ddl = True
                    if stmt.lock >= L.ACCESS_EXCLUSIVE:
                        tx.exclusive.setdefault(name, stmt)
        if tx is not None and kind == "lock" and stmt.lock >= L.ACCESS_EXCLUSIVE:
            for name in stmt.tables:
                if self.existing(name):
                    tx.exclusive.setdefault(name, stmt)
        if tx is not None:
            for name, mode in stmt.other_locks.items():
                if mode >= L.ACCESS_EXCLUSIVE and self.existing(name):
                    tx.exclusive.setdefault(name, stmt)

    def _apply_alter(self, stmt: Stmt, table: str) -> None:
        do = self.catalog.do
        for action in stmt.actions:
            kind = action.kind
            if kind in ("add_column", "alter_type") and action.column and action.type is not None:
                do("column", table, action.column, action.type)
            elif kind == "drop_column" and action.column:
                do("drop_column", table, action.column)
            elif kind == "rename_column" and action.column and action.name:
                do("rename_column", table, action.column, action.name)
            elif kind == "rename_table" and action.name:
                if table in self.created_tables:
                    self.created_tables.add(action.name)
                do("rename_table", table, action.name)
            elif kind == "add_constraint":
                if action.not_valid and action.name and self.tx is not None:
                    self.tx.not_valid[(table, action.name)] = stmt
                if action.not_null_check_column:
                    if action.name:
                        do("check", table, action.name, action.not_null_check_column)
                    if not action.not_valid:
                        do("validated", table, action.not_null_check_column)
            elif kind == "validate_constraint" and action.name:
                do("validate", table, action.name)
            elif kind == "drop_constraint" and action.name:
                do("drop_check", table, action.name)
