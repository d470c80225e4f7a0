"""budgets.yaml as Python objects: a BudgetFile of HotQuery budgets, each knowing its line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ParamSet:
    """One sample parameter set; ``from_sql`` (optional) supplies more values from its first row."""

    values: Mapping[str, Any]
    from_sql: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class HotQuery:
    """One named hot query and its budget."""

    schema: str
    name: str
    sql: str
    max_rows_examined: int
    max_ms: float
    line: int  # the line of the query's name
    sql_line: int  # the line where the SQL text starts
    description: str = ""
    params: tuple[ParamSet, ...] = (ParamSet({}),)
    use_index: tuple[str, ...] | None = None
    max_buffers: int | None = None
    tenant_filter: bool = True
    residual_filters: tuple[str, ...] = ()
    allow_sort: bool = False
    ignore: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    tables: frozenset[str] = frozenset()
    method: str | None = None  # the repository method that issues it (module.Class.method)
    rls: bool = True  # measured under the schema's rls role (when the schema has one)

    @property
    def id(self) -> str:
        """``schema.name``."""
        return f"{self.schema}.{self.name}"

    def sql_position(self, line_in_sql: int | None) -> int:
        """The file line of a 1-based line inside the SQL text."""
        return self.sql_line + (line_in_sql - 1 if line_in_sql else 0)

    def index_tables(self) -> frozenset[str]:
        """Tables that must be reached through an index."""
        return frozenset(self.use_index) if self.use_index is not None else self.tables


@dataclass(frozen=True)
class RlsContext:
    """How the application runs a schema's queries: under ``role``, with ``tenant_setting`` = the tenant."""

    role: str
    tenant_setting: str = "app.tenant_id"


@dataclass(frozen=True)
class BudgetFile:
    """A loaded, validated budgets.yaml."""

    path: Path
    display: str  # how findings name the file (relative to the project when possible)
    queries: tuple[HotQuery, ...] = ()
    schema_lines: Mapping[str, int] = field(default_factory=dict)
    rls: Mapping[str, RlsContext] = field(default_factory=dict)  # per schema

    @property
    def schemas(self) -> list[str]:
        return list(self.schema_lines)

    def for_schema(self, schema: str) -> list[HotQuery]:
        return [q for q in self.queries if q.schema == schema]
