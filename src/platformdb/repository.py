"""The tenant-scoped base repository, pages, batched upserts, and the hot statements budgets.yaml measures.

A repository is built for one session and one tenant; every statement it
sends carries the tenant filter (reads, updates, deletes) or the tenant value
(inserts), so no method can reach another tenant's rows — an id of another
tenant is "not found". Results are domain types made by the schema's mappers
from the selected columns (``columns``), never ORM objects. Repositories never
commit: the service's transaction does.

Hot statements (``HotStatement``) are the queries ``budgets.yaml`` budgets:
built once with named bind parameters, executed as they are by the methods
that ``issue`` them, and compiled to the SQL that ``dbops budgets sync``
writes into the budgets file — so the budgeted SQL is the SQL the code runs.
"""

from __future__ import annotations

import enum
import math
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, ClassVar, Generic, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from platformdb import errors
from platformdb.database import fetch_rows

T = TypeVar("T")
DomainT = TypeVar("DomainT")
F = TypeVar("F", bound=Callable[..., Any])

MAX_LIMIT = 500  # no list is unbounded; a longer one is paged
_DIALECT = postgresql.psycopg.dialect(paramstyle="named")  # budgets.yaml's :name style
_DRIVER_DIALECT = postgresql.psycopg.dialect()  # what the application sends


# -- pages --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an offset-paginated list and the list's total."""

    items: tuple[T, ...]
    total: int
    page: int
    per_page: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.per_page else 0

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    """One page of a keyset-paginated list; pass ``next_after`` as ``after`` for the next page."""

    items: tuple[T, ...]
    next_after: tuple[Any, ...] | None

    @property
    def has_next(self) -> bool:
        return self.next_after is not None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


# -- hot statements ------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HotStatement:
    """A statement budgets.yaml budgets under ``name``; its bind parameters are the budget's parameters.

    Compiled once for the driver and run through ``fetch_rows`` (the fast
    path); rows are named tuples with the statement's column names, which
    the mappers read like any row.
    """

    name: str
    statement: sa.Select  # any columns

    def sql(self) -> str:
        """The statement as PostgreSQL SQL with ``:name`` parameters (what budgets.yaml holds)."""
        text = str(self.statement.compile(dialect=_DIALECT))
        return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"

    @cached_property
    def driver_sql(self) -> str:
        """The same statement as psycopg receives it (``%(name)s`` parameters): exactly what SQLAlchemy would send."""
        return str(self.statement.compile(dialect=_DRIVER_DIALECT))

    @cached_property
    def row(self) -> type[tuple[Any, ...]]:
        return namedtuple("Row", list(self.statement.selected_columns.keys()), rename=True)

    def fetch(self, session: Session, parameters: Mapping[str, Any]) -> list[Any]:
        """All rows for these parameters (enum values sent as their labels)."""
        plain = {k: v.value if isinstance(v, enum.Enum) else v for k, v in parameters.items()}
        return list(map(self.row._make, fetch_rows(session, self.driver_sql, plain)))  # type: ignore[attr-defined]


def issues(*statements: HotStatement) -> Callable[[F], F]:
    """Mark a repository method as the one that sends these hot statements (read by ``dbops budgets sync``)."""

    def mark(method: F) -> F:
        method.__hot_statements__ = statements  # type: ignore[attr-defined]
        return method

    return mark


def hot_statements(method: Callable[..., Any]) -> tuple[HotStatement, ...]:
    """The hot statements a method declares with ``@issues`` (empty when none)."""
    return tuple(getattr(method, "__hot_statements__", ()))


def table_of(model: type[Any]) -> sa.Table:
    """A declarative model's table, typed as one."""
    return cast(sa.Table, model.__table__)


def literal(value: str | enum.Enum) -> ColumnElement[Any]:
    """A constant rendered inline (``'SCHEDULED'``): fixed filters belong in the plan, not in parameters."""
    text = value.value if isinstance(value, enum.Enum) else value
    return sa.literal_column("'" + str(text).replace("'", "''") + "'")


# -- the base repository -------------------------------------------------------------------------------------


class TenantRepository(Generic[DomainT]):
    """Generic reads and writes of one tenant-owned table, scoped to one tenant.

    Subclasses set ``table``, ``tenant_key``, ``columns`` (what ``to_domain``
    reads) and ``to_domain`` (a mapper). ``where`` conditions are SQLAlchemy
    expressions over ``repo.c`` (the table's columns); keyword arguments are
    equality filters. Soft-deleted rows (``deleted_at`` set) are left out
    unless ``include_deleted=True``.
    """

    table: ClassVar[sa.Table]
    tenant_key: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    entity: ClassVar[str] = "row"
    to_domain: Callable[[Any], DomainT]
    default_order: ClassVar[tuple[str, ...]] = ("id",)
    # Columns create()/update() never take from the caller.
    protected: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "updated_at", "deleted_at"})

    def __init__(self, session: Session, tenant_id: int) -> None:
        if tenant_id is None:
            raise errors.TenantRequired(f"{type(self).__name__} needs a tenant ({self.tenant_key})")
        self.session = session
        self.tenant_id = int(tenant_id)

    # -- building blocks ------------------------------------------------------------------------------------

    @property
    def c(self) -> sa.ColumnCollection[str, sa.Column[Any]]:
        """The table's columns, for ``where`` conditions: ``repo.c.role_type == RoleType.DOCTOR``."""
        return self.table.c

    @property
    def tenant_params(self) -> dict[str, int]:
        return {self.tenant_key: self.tenant_id}

    @classmethod
    def _selected(cls) -> list[sa.Column[Any]]:
        return [cls.table.c[name] for name in cls.columns]

    @classmethod
    def _soft_deletes(cls) -> bool:
        return "deleted_at" in cls.table.c

    def _scope(
        self, where: Sequence[ColumnElement[bool]], equals: Mapping[str, Any], include_deleted: bool = False
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [self.table.c[self.tenant_key] == self.tenant_id]
        if self._soft_deletes() and not include_deleted:
            conditions.append(self.table.c.deleted_at.is_(None))
        for name, value in equals.items():
            if name not in self.table.c:
                raise errors.InvalidInput(f"{self.table.name} has no column {name!r}")
            conditions.append(self.table.c[name].is_(None) if value is None else self.table.c[name] == value)
        conditions.extend(where)
        return conditions

    def _order(self, order_by: Sequence[str | ColumnElement[Any]] | None) -> list[ColumnElement[Any]]:
        out: list[ColumnElement[Any]] = []
        for item in order_by or self.default_order:
            if isinstance(item, str):
                name = item.lstrip("-")
                if name not in self.table.c:
                    raise errors.InvalidInput(f"cannot order {self.table.name} by unknown column {name!r}")
                column = self.table.c[name]
                out.append(column.desc() if item.startswith("-") else column.asc())
            else:
                out.append(item)
        return out

    @staticmethod
    def _limit(limit: int) -> int:
        if not 1 <= limit <= MAX_LIMIT:
            raise errors.InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
        return limit

    def _rows(self, statement: HotStatement, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The rows of a hot statement for this tenant (the fast path)."""
        return statement.fetch(self.session, {self.tenant_key: self.tenant_id, **(params or {})})

    def _check_values(self, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        out = dict(values)
        for name in out:
            if name not in self.table.c:
                raise errors.InvalidInput(f"{self.table.name} has no column {name!r}")
            if name in self.protected:
                raise errors.InvalidInput(f"{self.table.name}.{name} is set by the database, not by the caller")
        tenant = out.pop(self.tenant_key, self.tenant_id)
        if tenant != self.tenant_id:
            raise errors.TenantViolation(
                f"{type(self).__name__} of {self.tenant_key}={self.tenant_id} cannot write a row of "
                f"{self.tenant_key}={tenant}"
            )
        if creating:
            out[self.tenant_key] = self.tenant_id
        return out

    # -- reads -------------------------------------------------------------------------------------------------

    @classmethod
    @cache
    def _by_id_statement(cls) -> HotStatement:  # a precompiled statement too, but not a budgeted one
        t = cls.table
        conditions = [t.c.id == sa.bindparam("id"), t.c[cls.tenant_key] == sa.bindparam(cls.tenant_key)]
        if cls._soft_deletes():
            conditions.append(t.c.deleted_at.is_(None))
        return HotStatement(f"{t.name}_by_id", sa.select(*cls._selected()).where(*conditions))

    def find_by_id(self, id: int) -> DomainT | None:
        """The row with this id, if it belongs to the tenant (and is not soft-deleted)."""
        rows = self._rows(self._by_id_statement(), {"id": id})
        return type(self).to_domain(rows[0]) if rows else None

    @classmethod
    @cache
    def _lock_statement(cls) -> HotStatement:
        return HotStatement(f"{cls.table.name}_lock", cls._by_id_statement().statement.with_for_update())

    def lock(self, id: int) -> DomainT:
        """The row, locked (``FOR UPDATE``) until the transaction ends; ``NotFound`` otherwise.

        Use cases lock the rows they are about to change in a fixed order, so
        that concurrent ones queue rather than deadlock, and the one that waited
        re-reads the row as the other left it.
        """
        rows = self._rows(self._lock_statement(), {"id": id})
        if not rows:
            raise errors.NotFound(self.entity, id)
        return type(self).to_domain(rows[0])

    def _row(self, statement: sa.Executable) -> Any:
        """The one row (or None) of a statement run through SQLAlchemy (writes with RETURNING)."""
        return self.session.execute(statement).one_or_none()

    def get(self, id: int) -> DomainT:
        """Like ``find_by_id``, raising ``NotFound``."""
        found = self.find_by_id(id)
        if found is None:
            raise errors.NotFound(self.entity, id)
        return found

    def find_many(
        self,
        *where: ColumnElement[bool],
        order_by: Sequence[str | ColumnElement[Any]] | None = None,
        limit: int = 100,
        offset: int = 0,
        include_deleted: bool = False,
        **equals: Any,
    ) -> list[DomainT]:
        """Rows matching every condition, in ``order_by`` order (``"-created_at"`` is descending), at most ``limit``."""
        statement = (
            sa.select(*self._selected())
            .where(*self._scope(where, equals, include_deleted))
            .order_by(*self._order(order_by))
            .limit(self._limit(limit))
            .offset(offset)
        )
        to_domain = type(self).to_domain
        return [to_domain(row) for row in self.session.execute(statement)]

    def count(self, *where: ColumnElement[bool], include_deleted: bool = False, **equals: Any) -> int:
        statement = (
            sa.select(sa.func.count()).select_from(self.table).where(*self._scope(where, equals, include_deleted))
        )
        return int(self.session.execute(statement).scalar_one())

    def exists(self, id: int) -> bool:
        return self.find_by_id(id) is not None

    def page(
        self,
        *where: ColumnElement[bool],
        page: int = 1,
        per_page: int = 20,
        order_by: Sequence[str | ColumnElement[Any]] | None = None,
        include_deleted: bool = False,
        **equals: Any,
    ) -> Page[DomainT]:
        """Offset pagination: page ``page`` (1-based) and the total (two statements)."""
        if page < 1:
            raise errors.InvalidInput(f"page must be 1 or more, not {page}")
        items = self.find_many(
            *where,
            order_by=order_by,
            limit=per_page,
            offset=(page - 1) * per_page,
            include_deleted=include_deleted,
            **equals,
        )
        total = self.count(*where, include_deleted=include_deleted, **equals)
        return Page(tuple(items), total, page, per_page)

    def keyset(
        self,
        *where: ColumnElement[bool],
        order_by: Sequence[str] = ("-created_at", "-id"),
        after: Sequence[Any] | None = None,
        limit: int = 20,
        include_deleted: bool = False,
        **equals: Any,
    ) -> KeysetPage[DomainT]:
        """Keyset pagination on ``order_by`` (column names, all ascending or all descending; the last one unique).

        Constant cost at any depth, unlike an offset. ``after`` is the previous
        page's ``next_after``.
        """
        names = [o.lstrip("-") for o in order_by]
        descending = {o.startswith("-") for o in order_by}
        if len(descending) != 1:
            raise errors.InvalidInput("keyset pagination needs every order_by column in the same direction")
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise errors.InvalidInput(f"keyset columns must be selected columns; {missing[0]!r} is not")
        conditions = self._scope(where, equals, include_deleted)
        if after is not None:
            if len(after) != len(names):
                raise errors.InvalidInput(f"after needs {len(names)} values ({', '.join(names)})")
            key = sa.tuple_(*(self.table.c[n] for n in names))
            bound = sa.tuple_(*(sa.literal(v, self.table.c[n].type) for n, v in zip(names, after, strict=True)))
            conditions.append(key < bound if descending == {True} else key > bound)
        statement = (
            sa.select(*self._selected())
            .where(*conditions)
            .order_by(*self._order(order_by))
            .limit(self._limit(limit) + 1)
        )
        rows = self.session.execute(statement).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_after = tuple(getattr(rows[-1], n) for n in names) if more and rows else None
        to_domain = type(self).to_domain
        return KeysetPage(tuple(to_domain(r) for r in rows), next_after)

    def select_columns(
        self,
        *columns: str,
        where: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[str | ColumnElement[Any]] | None = None,
        limit: int = 100,
        include_deleted: bool = False,
        **equals: Any,
    ) -> list[dict[str, Any]]:
        """Only the named columns (a projection for a dropdown or an export), as plain dicts."""
        unknown = [c for c in columns if c not in self.table.c or c in self.hidden_columns()]
        if unknown or not columns:
            raise errors.InvalidInput(
                f"cannot select {unknown[0]!r} from {self.table.name}"
                if unknown
                else "select_columns needs at least one column"
            )
        statement = (
            sa.select(*(self.table.c[c] for c in columns))
            .where(*self._scope(where, equals, include_deleted))
            .order_by(*self._order(order_by))
            .limit(self._limit(limit))
        )
        return [dict(row._mapping) for row in self.session.execute(statement)]

    @classmethod
    def hidden_columns(cls) -> frozenset[str]:
        """Columns never returned to the application (secrets)."""
        return frozenset(column.key for column in cls.table.c if column.key.endswith("password_hash"))

    # -- writes ---------------------------------------------------------------------------------------------------

    def create(self, **values: Any) -> DomainT:
        """Insert one row of this tenant and return it."""
        statement = sa.insert(self.table).values(self._check_values(values, creating=True)).returning(*self._selected())
        return type(self).to_domain(self.session.execute(statement).one())

    def update(self, id: int, **values: Any) -> DomainT:
        """Change columns of one row of this tenant; ``NotFound`` when the tenant has no such row."""
        changes = self._check_values(values, creating=False)
        if not changes:
            return self.get(id)
        if "updated_at" in self.table.c:
            changes["updated_at"] = sa.func.now()
        statement = (
            sa.update(self.table)
            .where(*self._scope((self.table.c.id == id,), {}))
            .values(changes)
            .returning(*self._selected())
        )
        row = self.session.execute(statement).one_or_none()
        if row is None:
            raise errors.NotFound(self.entity, id)
        return type(self).to_domain(row)

    def delete(self, id: int) -> None:
        """Delete one row of this tenant; ``NotFound`` when the tenant has no such row."""
        statement = (
            sa.delete(self.table)
            .where(*self._scope((self.table.c.id == id,), {}, include_deleted=True))
            .returning(self.table.c.id)
        )
        if self.session.execute(statement).one_or_none() is None:
            raise errors.NotFound(self.entity, id)

    def soft_delete(self, id: int) -> DomainT:
        """Mark one row deleted (``deleted_at``, and ``is_active`` false when the table has it); idempotent."""
        if not self._soft_deletes():
            raise errors.InvalidInput(f"{self.table.name} has no deleted_at column; use delete()")
        changes: dict[str, Any] = {"deleted_at": sa.func.coalesce(self.table.c.deleted_at, sa.func.now())}
        if "is_active" in self.table.c:
            changes["is_active"] = False
        if "updated_at" in self.table.c:
            changes["updated_at"] = sa.func.now()
        statement = (
            sa.update(self.table)
            .where(*self._scope((self.table.c.id == id,), {}, include_deleted=True))
            .values(changes)
            .returning(*self._selected())
        )
        row = self.session.execute(statement).one_or_none()
        if row is None:
            raise errors.NotFound(self.entity, id)
        return type(self).to_domain(row)

    def bulk_upsert(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        key: Sequence[str],
        update: Sequence[str] | None = None,
        batch_size: int = 1000,
    ) -> UpsertResult:
        """Insert or update many rows of this tenant by a unique ``key``; idempotent, batched.

        One ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT (key) DO UPDATE
        … WHERE (columns) IS DISTINCT FROM (EXCLUDED.columns)`` per batch:
        rows that did not change are not touched (no new row version, same
        ``xmin``), so re-running an import or a redelivered event changes
        nothing. Arrays rather than COPY into a temporary table: no catalog
        churn per call and safe behind a transaction-pooling PgBouncer.
        Later duplicates of a key in ``rows`` win.
        """
        key = tuple(key)
        if self.tenant_key in key:
            key_columns = key
        else:
            raise errors.InvalidInput(f"the upsert key must include {self.tenant_key} (a tenant's unique key)")
        deduplicated: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            values = self._check_values(row, creating=True)
            deduplicated[tuple(values.get(k) for k in key_columns)] = values
        if not deduplicated:
            return UpsertResult()
        columns = list(next(iter(deduplicated.values())))
        if any(list(v) != columns for v in deduplicated.values()):
            raise errors.InvalidInput("every row of a bulk upsert must have the same columns")
        updates = [c for c in (update if update is not None else columns) if c not in key_columns]
        sql = self._upsert_sql(tuple(columns), key_columns, tuple(updates))
        result = UpsertResult()
        items = list(deduplicated.values())
        conn = self.session.connection()
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            # Parameters named after their columns: the query log masks secret ones (password_hash).
            params = {c: [_plain(r[c]) for r in batch] for c in columns}
            flags = [inserted for (inserted,) in conn.exec_driver_sql(sql, params)]
            inserted = sum(flags)
            result += UpsertResult(inserted, len(flags) - inserted, len(batch) - len(flags))
        return result

    @classmethod
    @cache
    def _upsert_sql(cls, columns: tuple[str, ...], key: tuple[str, ...], updates: tuple[str, ...]) -> str:
        table = cls.table
        types = [table.c[c].type.compile(dialect=_DIALECT) for c in columns]
        arrays = ", ".join(f"%({c})s::{t}[]" for c, t in zip(columns, types, strict=True))
        names = ", ".join(columns)
        sql = f"INSERT INTO {table.name} AS t ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT ({', '.join(key)}) "
        if updates:
            sets = [f"{c} = EXCLUDED.{c}" for c in updates]
            if "updated_at" in table.c and "updated_at" not in updates:
                sets.append("updated_at = now()")
            mine = ", ".join(f"t.{c}" for c in updates)
            theirs = ", ".join(f"EXCLUDED.{c}" for c in updates)
            sql += f"DO UPDATE SET {', '.join(sets)} WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs}) "
        else:
            sql += "DO NOTHING "
        # xmax = 0 only on a freshly inserted row version: inserted vs updated, from one RETURNING.
        return sql + "RETURNING (t.xmax = 0) AS inserted"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value
