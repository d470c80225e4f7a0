"""``check_dynamic``: the hot queries measured on a database (docs/design.md "Query budgets: how to measure").

Per schema, on one connection with ``jit`` off and fresh statistics
(ANALYZE of the budgeted tables), for each query and each sample parameter
set, every statement in its own rolled-back transaction:

1. ``EXPLAIN (FORMAT JSON)`` under ``SET LOCAL enable_seqscan = off``: a
   budgeted table still read by a Seq Scan has no index that can serve the
   query (``budget-index-unreachable``);
2. ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)``: rows examined (see
   ``plans.rows_examined``) against ``max_rows_examined``, buffers against
   ``max_buffers``;
3. the query itself ``runs`` times: p50/p95 latency against ``max_ms``
   (reported; an error only with ``enforce_latency``).

When the schema's budgets set ``rls`` (a role and the tenant setting), steps
1–3 run as the application runs them: each transaction first switches to that
role and sets the tenant to the query's tenant-key parameter, so row-level
security (and its effect on plans: only leakproof conditions become index
conditions) is part of what is measured. ``rls=False`` measures as the
connecting user instead — the difference is what RLS costs.

When a budget breaks and hypopg is available, the index the static analysis
proposes is created hypothetically (``hypopg_create_index``, in the same
rolled-back transaction as ``CREATE EXTENSION IF NOT EXISTS hypopg``, so
nothing persists) and the plan cost with and without it is reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.budgets import plans
from dbops.budgets.model import BudgetFile, HotQuery
from dbops.budgets.static import CHECK, judge, selected_schemas
from dbops.config import SchemaSettings, Settings
from dbops.db import one_row, scalar
from dbops.errors import UsageError, first_line
from dbops.findings import Finding, Report, Severity

if TYPE_CHECKING:
    import psycopg

    from dbops.budgets.catalog import Catalog, Index


@dataclass
class Measurement:
    """What one query did on the database (worst case over its parameter sets)."""

    rows_examined: int = 0
    buffers: int = 0
    cost: float = 0.0
    seq_scans: set[str] = field(default_factory=set)
    plan: list[str] = field(default_factory=list)
    timings_ms: list[float] = field(default_factory=list)
    error: str | None = None

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile of the timings.

        >>> Measurement(timings_ms=[5.0, 1.0, 3.0, 2.0, 4.0]).percentile(0.5)
        3.0
        """
        if not self.timings_ms:
            return None
        ordered = sorted(self.timings_ms)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def check_dynamic(
    budget_file: BudgetFile,
    settings: Settings,
    schema: str | SchemaSettings,
    url: str,
    *,
    runs: int | None = None,
    progress: Callable[[str], None] | None = None,
    catalogs: Mapping[str, Catalog] | None = None,
    rls: bool = True,
) -> Report:
    """Measure the schema's hot queries on the database at ``url`` against their budgets.

    ``summary["budgets"]["queries"]`` holds one row per query (budget,
    measured values, plan summary, verdict) for the table rendering.
    """
    from dbops.db import connect

    names = selected_schemas(budget_file, settings, schema)
    if not names:
        name = schema.name if isinstance(schema, SchemaSettings) else schema
        raise UsageError(f"{budget_file.display} has no budgets for schema {name!r}")
    (name,) = names
    runs = settings.budgets.runs if runs is None else runs
    queries = budget_file.for_schema(name)
    report = Report()
    rows = []
    conn = connect(url)
    try:
        session = _Session(conn, settings, budget_file, name, url, catalogs, rls=rls)
        session.prepare(queries)
        for query in queries:
            if progress is not None:
                progress(query.id)
            findings, row = session.check(query, runs)
            report.findings.extend(judge(findings, row, set(settings.budgets.ignore) | set(query.ignore)))
            if row.get("too_little_data"):
                row["verdict"] = "too little data"
            rows.append(row)
        report.summary["budgets"] = {
            "mode": "dynamic",
            "file": budget_file.display,
            "schema": name,
            "runs": runs,
            "hypopg": session.hypopg_available,
            "analyzed": session.analyzed,
            "rls": session.rls.role if session.rls else None,
            "queries": rows,
            "broken": sum(1 for r in rows if r["verdict"] == "broken"),
            "too_little_data": sum(1 for r in rows if r["verdict"] == "too little data"),
        }
    finally:
        conn.close()
    return report


class _Session:
    """One connection, the partition map, hypopg availability; measures queries one by one."""

    def __init__(
        self,
        conn: psycopg.Connection,
        settings: Settings,
        budget_file: BudgetFile,
        schema: str,
        url: str,
        catalogs: Mapping[str, Catalog] | None,
        *,
        rls: bool = True,
    ) -> None:
        self.conn = conn
        self.context = budget_file.rls.get(schema)  # the role and the tenant setting the application uses
        self.rls = self.context if rls else None  # None: measured as the connecting user (the tenant still set)
        self.tenant_key = settings.schema(schema).tenant_key
        self.settings = settings
        self.budget_file = budget_file
        self.schema = schema
        self.url = url
        self.catalogs = catalogs or {}
        self.parents: dict[str, str] = {}
        self.hypopg_available = False
        self.analyzed: list[str] = []
        self._catalog: Catalog | None = None
        self._samples: dict[str, tuple[list[str], Any]] = {}

    # -- setup ----------------------------------------------------------------------------------------

    def prepare(self, queries: list[HotQuery]) -> None:
        conn = self.conn
        conn.execute("SET jit = off")
        conn.execute(f"SET statement_timeout = '{_quote(self.settings.budgets.statement_timeout)}'")
        conn.commit()
        self.parents = {
            child: parent
            for child, parent in conn.execute(
                "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent"
            )
        }
        conn.rollback()
        if self.settings.budgets.hypopg:
            self.hypopg_available = bool(
                conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone()
            )
            conn.rollback()
        if self.settings.budgets.analyze:
            self._analyze(sorted({t for q in queries for t in q.tables}))

    def _analyze(self, tables: list[str]) -> None:
        """Fixed statistics: ANALYZE each budgeted table (skipped, and said, when not permitted)."""
        import psycopg
        from psycopg import sql

        for table in tables:
            try:
                self.conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
                self.conn.commit()
                self.analyzed.append(table)
            except psycopg.Error:
                self.conn.rollback()

    # -- one query ------------------------------------------------------------------------------------

    def check(self, query: HotQuery, runs: int) -> tuple[list[Finding], dict[str, Any]]:
        import psycopg

        from dbops.budgets.params import render

        file = self.budget_file.display
        row: dict[str, Any] = {
            "schema": query.schema,
            "query": query.name,
            "line": query.line,
            "budget": {"max_rows_examined": query.max_rows_examined, "max_buffers": query.max_buffers,
                       "max_ms": query.max_ms},
        }

        def finding(rule: str, severity: Severity, message: str, **kw: Any) -> Finding:
            return Finding(rule=rule, severity=severity, message=f"{query.id}: {message}", file=file,
                           line=query.line, object=query.id, check=CHECK, **kw)

        measured = Measurement()
        statements: list[str] = []
        tenants: list[Any] = []
        try:
            for values in self._parameter_sets(query):
                statement = render(self.conn, query.sql, values)
                statements.append(statement)
                tenants.append(self._tenant_of(query, values))
                self._measure(statement, measured, tenants[-1])
            self._time(statements, runs, measured, tenants)
        except _NoSampleRow as exc:  # not a broken query: nothing to measure it on
            self.conn.rollback()
            row["error"] = first_line(exc)
            row["measured"] = None
            row["too_little_data"] = True
            return [finding(
                "budget-too-little-data", Severity.WARNING,
                f"not measured: too little data ({first_line(exc)})",
                fix=f"load realistic data first: dbops seed {query.schema} --scale 10000 (the default seed is too "
                "small to measure a budget), or give literal parameters",
            )], row
        except (psycopg.Error, _ParamError) as exc:
            self.conn.rollback()
            message = first_line(exc)
            row["error"] = message
            row["measured"] = None
            if self.rls and "role" in message and "does not exist" in message:
                fix = f"migrate the database (its revisions create the role {self.rls.role}), or measure with --no-rls"
            else:
                fix = "fix the SQL or its sample parameters"
            return [finding("budget-query-failed", Severity.ERROR, f"fails on the database: {message}",
                            fix=fix)], row
        p50, p95 = measured.percentile(0.5), measured.percentile(0.95)
        row["measured"] = {
            "rows_examined": measured.rows_examined,
            "buffers": measured.buffers,
            "cost": round(measured.cost, 2),
            "p50_ms": _round(p50),
            "p95_ms": _round(p95),
            "runs": len(measured.timings_ms),
            "param_sets": len(statements),
        }
        row["plan"] = measured.plan
        row["rls"] = self.rls is not None and any(t is not None for t in tenants)
        findings = self._verdict(query, measured, p95, finding)
        if self.hypopg_available and any(f.severity is Severity.ERROR for f in findings):
            suggestion = self._hypothetical(query, statements[0])
            if suggestion is not None:
                row["hypopg"] = suggestion
                findings.append(finding(
                    "budget-hypothetical-index", Severity.INFO,
                    f"hypopg: with {suggestion['index']} the planner uses it and the plan cost drops from "
                    f"{suggestion['cost_before']:.0f} to {suggestion['cost_after']:.0f} "
                    f"({suggestion['cost_before'] / max(suggestion['cost_after'], 0.01):.1f}x cheaper)",
                    fix=suggestion["fix"], details=suggestion,
                ))
        return findings, row

    def _verdict(self, query: HotQuery, m: Measurement, p95: float | None, finding: Any) -> list[Finding]:
        broken = bool(m.seq_scans & query.index_tables()) or m.rows_examined > query.max_rows_examined or (
            query.max_buffers is not None and m.buffers > query.max_buffers)
        fix = self._static_fix(query) if broken else None  # reflects the database: only when needed
        out = []
        for table in sorted(m.seq_scans & query.index_tables()):
            out.append(finding(
                "budget-index-unreachable", Severity.ERROR,
                f"{table} is read by a Seq Scan even with enable_seqscan=off: no index can serve this query",
                fix=fix, details={"table": table, "plan": m.plan},
            ))
        if m.rows_examined > query.max_rows_examined:
            out.append(finding(
                "budget-rows-examined", Severity.ERROR,
                f"examines {m.rows_examined:,} rows, budget {query.max_rows_examined:,} (plan: {'; '.join(m.plan)})",
                fix=fix, details={"rows_examined": m.rows_examined, "max_rows_examined": query.max_rows_examined},
            ))
        if query.max_buffers is not None and m.buffers > query.max_buffers:
            out.append(finding(
                "budget-buffers", Severity.ERROR,
                f"touches {m.buffers:,} buffers, budget {query.max_buffers:,}",
                fix=fix, details={"buffers": m.buffers, "max_buffers": query.max_buffers},
            ))
        if p95 is not None and p95 > query.max_ms:
            severity = Severity.ERROR if self.settings.budgets.enforce_latency else Severity.WARNING
            out.append(finding(
                "budget-latency", severity, f"p95 {p95:.2f} ms over {len(m.timings_ms)} runs, budget {query.max_ms:g} ms",
                details={"p95_ms": _round(p95), "max_ms": query.max_ms},
            ))
        return out

    # -- measuring -----------------------------------------------------------------------------------

    def _parameter_sets(self, query: HotQuery) -> list[dict[str, Any]]:
        sets = []
        for param_set in query.params:
            values = dict(param_set.values)
            if param_set.from_sql:
                if param_set.from_sql not in self._samples:  # the same picker often serves several queries
                    cursor = self.conn.execute(param_set.from_sql)
                    self._samples[param_set.from_sql] = ([c.name for c in cursor.description or []],
                                                         cursor.fetchone())
                    self.conn.rollback()
                columns, row = self._samples[param_set.from_sql]
                if row is None:
                    raise _NoSampleRow(f"from_sql of the parameter set at line {param_set.line} returned no row")
                for column, value in zip(columns, row, strict=True):
                    values.setdefault(column, value)
            missing = [n for n in query.placeholders if n not in values]
            if missing:
                raise _ParamError(f"no value for :{missing[0]} (line {param_set.line})")
            sets.append({n: values[n] for n in query.placeholders})
        return sets

    def _tenant_of(self, query: HotQuery, values: Mapping[str, Any]) -> Any:
        """The tenant ``query`` is measured for (None: no tenant setting, the connecting user's view)."""
        if self.context is None or not query.rls or not self.tenant_key:
            return None
        return values.get(self.tenant_key)

    def _as_application(self, tenant: Any) -> None:
        """Set the transaction's tenant, and (RLS on) switch to the application's role, as platformdb does.

        Without RLS the tenant is still set: functions the queries call may read it
        (``clinic_patient_ids_by_name``), only the policies are bypassed.
        """
        if tenant is None or self.context is None:
            return
        if self.rls is not None:
            self.conn.execute("SELECT set_config('role', %s, true), set_config(%s, %s, true)",
                              (self.rls.role, self.rls.tenant_setting, str(tenant)))
        else:
            self.conn.execute("SELECT set_config(%s, %s, true)", (self.context.tenant_setting, str(tenant)))

    def _explain(self, statement: str, options: str, *, seqscan: bool = True, tenant: Any = None) -> Any:
        try:
            self._as_application(tenant)
            if not seqscan:
                self.conn.execute("SET LOCAL enable_seqscan = off")
            return scalar(self.conn, f"EXPLAIN ({options}) {statement}")
        finally:
            self.conn.rollback()

    def _measure(self, statement: str, m: Measurement, tenant: Any = None) -> None:
        reach = self._explain(statement, "FORMAT JSON", seqscan=False, tenant=tenant)
        m.seq_scans |= plans.seq_scanned(reach, self.parents)
        analyzed = self._explain(statement, "ANALYZE, BUFFERS, FORMAT JSON", tenant=tenant)
        rows = plans.rows_examined(analyzed)
        if rows >= m.rows_examined:
            m.plan = plans.plan_summary(analyzed, self.parents)
        m.rows_examined = max(m.rows_examined, rows)
        m.buffers = max(m.buffers, plans.buffers(analyzed))
        m.cost = max(m.cost, plans.total_cost(analyzed))

    def _time(self, statements: list[str], runs: int, m: Measurement, tenants: list[Any]) -> None:
        for i in range(runs):
            statement = statements[i % len(statements)]
            self._as_application(tenants[i % len(tenants)])
            start = time.perf_counter()
            try:
                self.conn.execute(statement).fetchall()
                m.timings_ms.append((time.perf_counter() - start) * 1000)
            finally:
                self.conn.rollback()

    # -- suggestions ---------------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The live database's catalog (reflected once), or the one given for the schema."""
        if self._catalog is None:
            from dbops.budgets.catalog import catalog_from_database

            schema = self.settings.schema(self.schema)
            self._catalog = self.catalogs.get(self.schema) or catalog_from_database(
                self.url, tenant_key=schema.tenant_key, tenant_table=schema.tenant_table
            )
        return self._catalog

    def _suggestions(self, query: HotQuery) -> list[Index]:
        """Indexes the static analysis would add for the budgeted tables (none when an equal one exists)."""
        from dbops.budgets.analysis import AnalysisError, analyze
        from dbops.budgets.indexing import ideal_index

        catalog = self.catalog()
        try:
            analysis = analyze(query.sql, catalog, residual=query.residual_filters, allow_sort=query.allow_sort)
        except AnalysisError:
            return []
        out = []
        for access in sorted(analysis.accesses, key=lambda a: not a.driver):
            if access.table not in query.index_tables() or access.need.is_empty():
                continue
            ideal = ideal_index(access.need, tenant_key=catalog.tenant_column(access.table))
            existing = catalog.tables[access.table].indexes
            if any(i.keys == ideal.keys and i.predicate == ideal.predicate for i in existing):
                continue
            if ideal not in out:
                out.append(ideal)
        return out

    def _static_fix(self, query: HotQuery) -> str | None:
        from dbops.budgets.indexing import create_index_sql

        suggestions = self._suggestions(query)
        return create_index_sql(suggestions[0]) if suggestions else None

    def _hypothetical(self, query: HotQuery, statement: str) -> dict[str, Any] | None:
        """Plan cost without/with the suggested index, through hypopg; None when it would not help."""
        import psycopg

        from dbops.budgets.indexing import create_index_sql, index_definition

        for index in self._suggestions(query):
            try:
                self.conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
                before = plans.total_cost(scalar(self.conn, f"EXPLAIN (FORMAT JSON) {statement}"))
                oid, _name = one_row(
                    self.conn, "SELECT indexrelid, indexname FROM hypopg_create_index(%s)", (index_definition(index),)
                )
                plan = scalar(self.conn, f"EXPLAIN (FORMAT JSON) {statement}")
                self.conn.execute("SELECT hypopg_reset()")
            except psycopg.Error:
                self.conn.rollback()
                self.hypopg_available = False
                return None
            finally:
                self.conn.rollback()
            after = plans.total_cost(plan)
            used = any(f"<{oid}>" in name for name in plans.indexes_used(plan))
            if used and after < before:
                return {
                    "index": index.describe(),
                    "fix": create_index_sql(index),
                    "cost_before": round(before, 2),
                    "cost_after": round(after, 2),
                    "plan_with_index": plans.plan_summary(plan, self.parents),
                }
        return None


class _ParamError(Exception):
    """A parameter set cannot be resolved (a value is missing)."""


class _NoSampleRow(_ParamError):
    """``from_sql`` found no row to take parameters from (typically: the database holds no data)."""


def _quote(value: str) -> str:
    return value.replace("'", "''")


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
