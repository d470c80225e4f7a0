"""The facts of a statement: its kind, its ALTER TABLE actions, the locks it takes.

``Kind`` and ``ActionKind`` are closed vocabularies: a rule registering for a kind
that does not exist fails at import (``Kind("create_indx")`` raises).

>>> Kind("create_index") is Kind.CREATE_INDEX
True
>>> Stmt(Kind.DROP_TABLE, 1, 1, 0, 10, "DROP TABLE t").tables
()
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dbops.lint import locks as L

if TYPE_CHECKING:
    from dbops.lint.pgtypes import TypeInfo


class Kind(enum.StrEnum):
    """What a statement is, as far as locks go."""

    BEGIN = "begin"
    COMMIT = "commit"
    ROLLBACK = "rollback"
    SET = "set"
    CREATE_TABLE = "create_table"  # also CREATE MATERIALIZED VIEW, SELECT … INTO
    CREATE_INDEX = "create_index"
    CREATE_TRIGGER = "create_trigger"
    CREATE_VIEW = "create_view"
    ALTER_TABLE = "alter_table"
    ALTER_INDEX = "alter_index"
    ALTER_VIEW = "alter_view"
    ENUM_ADD_VALUE = "enum_add_value"
    DROP_INDEX = "drop_index"
    DROP_TABLE = "drop_table"
    DROP_VIEW = "drop_view"
    TRUNCATE = "truncate"
    INSERT = "insert"
    UPDATE = "update"  # also MERGE
    DELETE = "delete"
    SELECT = "select"
    LOCK = "lock"
    REINDEX = "reindex"
    VACUUM = "vacuum"
    CLUSTER = "cluster"
    REFRESH_MATVIEW = "refresh_matview"
    COMMENT = "comment"
    DO = "do"
    OTHER = "other"  # understood, takes no lock a rule cares about
    UNKNOWN = "unknown"  # not understood: ``Stmt.unanalysed`` says why


class ActionKind(enum.StrEnum):
    """One action of an ALTER TABLE."""

    ADD_COLUMN = "add_column"
    DROP_COLUMN = "drop_column"
    ALTER_TYPE = "alter_type"
    SET_NOT_NULL = "set_not_null"
    DROP_NOT_NULL = "drop_not_null"
    SET_DEFAULT = "set_default"
    DROP_DEFAULT = "drop_default"
    ALTER_COLUMN_OTHER = "alter_column_other"
    ADD_CONSTRAINT = "add_constraint"
    DROP_CONSTRAINT = "drop_constraint"
    VALIDATE_CONSTRAINT = "validate_constraint"
    ALTER_CONSTRAINT = "alter_constraint"
    RENAME_COLUMN = "rename_column"
    RENAME_TABLE = "rename_table"
    RENAME_CONSTRAINT = "rename_constraint"
    ATTACH_PARTITION = "attach_partition"
    DETACH_PARTITION = "detach_partition"
    SET_SCHEMA = "set_schema"
    OTHER = "other"


DML = frozenset({Kind.INSERT, Kind.UPDATE, Kind.DELETE})


class _Empty(dict[str, Any]):
    """A shared, read-only, hashable empty dict: a dataclass default needs a hashable one, and a real dict
    keeps ``items()``/``get`` at C speed (every statement's locks are read by several rules)."""

    __hash__ = object.__hash__  # type: ignore[assignment]

    def _read_only(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError("a statement's default mapping is shared: assign a new dict")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _read_only  # type: ignore[assignment]


NO_LOCKS: Mapping[str, int] = _Empty()
NO_COLUMNS: Mapping[str, TypeInfo] = _Empty()


@dataclass(slots=True)
class Action:
    """One action of an ALTER TABLE."""

    kind: ActionKind
    text: str = ""
    column: str | None = None
    type: TypeInfo | None = None
    default_sql: str | None = None
    default_volatile: bool | None = False
    has_default: bool = False
    not_null: bool = False
    constraint: str | None = None  # foreign_key, check, unique, primary_key, exclude
    name: str | None = None  # constraint name, new name of a rename, partition name
    not_valid: bool = False
    using_index: bool = False
    generated: str | None = None  # stored, identity, serial
    references: str | None = None
    not_null_check_column: str | None = None  # CHECK (col IS NOT NULL)
    concurrently: bool = False
    using: bool = False  # ALTER COLUMN … TYPE … USING expr
    lock: int = L.ACCESS_EXCLUSIVE
    rewrite: bool = False
    scan: bool = False
    json: bool = False
    unknown: str | None = None  # why this action is not understood


@dataclass(slots=True)
class Stmt:
    """The lock-relevant facts of one statement.

    Containers default to shared empty tuples/mappings (a 20 MB file holds a hundred thousand
    statements): the analysers assign fresh ones when there is something to hold.
    """

    kind: Kind
    line: int
    column: int
    start: int
    end: int
    text: str
    table: str | None = None  # bare, normalised name of the target relation
    display: str | None = None  # as written (schema-qualified, quoted)
    tables: Sequence[str] = ()
    concurrently: bool = False
    unique: bool = False
    only: bool = False
    if_exists: bool = False
    index_name: str | None = None
    index_names: Sequence[str] = ()
    actions: Sequence[Action] = ()
    lock: int = L.NONE
    other_locks: Mapping[str, int] = NO_LOCKS  # referenced tables and their lock
    columns: Mapping[str, TypeInfo] = NO_COLUMNS  # CREATE TABLE
    json_columns: Sequence[str] = ()
    option: str | None = None  # LOCK mode / REINDEX target kind / SET value / CASCADE / enum value position
    value: str | None = None  # ALTER TYPE … ADD VALUE: the new label
    setting: tuple[str, str, bool] | None = None  # (name, value, local) of SET/RESET
    inner: Sequence[Stmt] = ()  # DO block statements
    slow: bool = False  # scans/rewrites/builds/backfills: holds its locks for a while
    unanalysed: str | None = None
    source: str = "tokens"
    index: int = 0

    def add_other_lock(self, table: str, mode: int) -> None:
        """Record ``mode`` on ``table`` (a referenced table, a partition parent)."""
        if self.other_locks is NO_LOCKS:
            self.other_locks = {}
        locks = self.other_locks
        assert isinstance(locks, dict)
        locks[table] = max(locks.get(table, L.NONE), mode)

    def targets(self) -> Sequence[str]:
        """The relations the statement itself locks (its table, or its list of tables)."""
        if self.tables:
            return self.tables
        return (self.table,) if self.table else ()
