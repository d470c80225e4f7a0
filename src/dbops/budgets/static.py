"""``check_static``: budgets.yaml against the schema's models, with sqlglot only (no database).

Each hot query is analysed (``dbops.budgets.analysis``) and its facts become
findings located at the line of budgets.yaml they concern: the missing index
(with the ``CREATE INDEX CONCURRENTLY`` that would serve it), the missing
tenant filter, ``SELECT *``, lists without LIMIT, functions on indexed
columns, leading wildcards without a trigram index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbops.budgets.analysis import AnalysisError, QueryAnalysis, TableAccess, analyze
from dbops.budgets.catalog import Catalog, Index, catalog_for_schema
from dbops.budgets.indexing import create_index_sql, ideal_index
from dbops.budgets.model import BudgetFile, HotQuery
from dbops.config import SchemaSettings, Settings
from dbops.errors import InputError
from dbops.findings import Finding, Report, Severity

CHECK = "budgets"


def selected_schemas(budget_file: BudgetFile, settings: Settings, schema: str | SchemaSettings | None) -> list[str]:
    """Schema names to check: the one asked for, else every schema the file budgets.

    A schema in the file that the configuration does not declare is an InputError at its line.
    """
    for name, line in budget_file.schema_lines.items():
        if name not in settings.schemas:
            raise InputError(
                f"budgets for unknown schema {name!r}",
                location=f"{budget_file.display}:{line}",
                hint=f"known schemas: {', '.join(settings.schemas)}",
            )
    if schema is None:
        return list(budget_file.schema_lines)
    name = schema.name if isinstance(schema, SchemaSettings) else settings.schema(schema).name
    return [name] if name in budget_file.schema_lines else []


def check_static(
    budget_file: BudgetFile,
    settings: Settings,
    schema: str | SchemaSettings | None = None,
    *,
    catalogs: Mapping[str, Catalog] | None = None,
) -> Report:
    """Static budget findings for one schema (or every schema of the file).

    ``catalogs`` replaces the models' catalog per schema (tests, or a catalog
    reflected from a database with ``catalog_from_database``).
    """
    report = Report()
    rows = []
    ignored = set(settings.budgets.ignore)
    for name in selected_schemas(budget_file, settings, schema):
        catalog = (catalogs or {}).get(name) or catalog_for_schema(settings.schema(name))
        for query in budget_file.for_schema(name):
            findings, row = check_query(query, catalog, budget_file.display)
            report.findings.extend(judge(findings, row, ignored | set(query.ignore)))
            rows.append(row)
    report.summary["budgets"] = {
        "mode": "static",
        "file": budget_file.display,
        "queries": rows,
        "broken": sum(1 for r in rows if r["verdict"] == "broken"),
    }
    return report


def judge(findings: list[Finding], row: dict[str, Any], skip: set[str]) -> list[Finding]:
    """Drop the ignored rules' findings and set the query row's verdict (``broken`` on an error)."""
    kept = [f for f in findings if f.rule not in skip]
    row["verdict"] = "broken" if any(f.severity is Severity.ERROR for f in kept) else "ok"
    return kept


def check_query(query: HotQuery, catalog: Catalog, file: str) -> tuple[list[Finding], dict[str, Any]]:
    """The static findings of one query, and its row for the summary table."""
    row: dict[str, Any] = {"schema": query.schema, "query": query.name, "line": query.line, "tables": []}
    samples = [p.values for p in query.params]

    def finding(rule: str, severity: Severity, message: str, line: int | None = None, **kw: Any) -> Finding:
        return Finding(rule=rule, severity=severity, message=f"{query.id}: {message}", file=file,
                       line=line or query.line, object=query.id, check=CHECK, **kw)

    try:
        analysis = analyze(query.sql, catalog, residual=query.residual_filters, allow_sort=query.allow_sort,
                           samples=samples)
    except AnalysisError as exc:
        line = query.sql_position(exc.line) if exc.line else query.sql_line
        return [finding("budget-invalid-query", Severity.ERROR, exc.message, line,
                        fix="fix the query or the models so that they agree")], row
    findings = _findings(query, analysis, catalog, finding)
    row["tables"] = [_table_row(a) for a in analysis.accesses]
    return findings, row


def _table_row(access: TableAccess) -> dict[str, Any]:
    return {
        "alias": access.alias,
        "table": access.table,
        "need": access.need.describe(),
        "index": access.index_name,
        "served": access.served,
        "tenant_isolated": access.isolated,
    }


def _findings(query: HotQuery, analysis: QueryAnalysis, catalog: Catalog, finding: Any) -> list[Finding]:
    out: list[Finding] = []
    at = query.sql_position
    for line in analysis.select_star:
        out.append(finding("budget-select-star", Severity.WARNING, "SELECT * reads every column",
                           at(line), fix="list the columns the caller needs"))
    if query.tenant_filter:
        for access in analysis.accesses:
            if access.isolated is False:
                column = catalog.tenant_column(access.table)
                out.append(finding(
                    "budget-tenant-filter", Severity.ERROR,
                    f"{access.table} ({access.alias}) is read without a {column} filter: "
                    "its rows leak across tenants",
                    at(access.line),
                    fix=f"add `{access.alias}.{column} = :{catalog.tenant_key}` (or join it to a filtered table "
                        f"on {column})",
                ))
    must_index = query.index_tables()
    for access in analysis.accesses:
        if access.table in must_index:
            out.extend(_index_findings(query, access, catalog, finding))
    for predicate in analysis.functions:
        access_table = next(a.table for a in analysis.accesses if a.alias == predicate.alias)
        expression_index = Index(f"ix_{access_table}_{predicate.column}_expr"[:63], access_table, (predicate.key,))
        out.append(finding(
            "budget-function-on-column", Severity.ERROR,
            f"{predicate.key} wraps the indexed column {access_table}.{predicate.column}: "
            "its index cannot serve this filter",
            at(predicate.line),
            fix=f"compare the bare column (e.g. a range instead of a cast), or {create_index_sql(expression_index)}",
        ))
    for predicate, pattern in analysis.wildcards:
        table = next(a.table for a in analysis.accesses if a.alias == predicate.alias)
        trigram = Index(f"ix_{table}_{predicate.column}_trgm"[:63], table, (predicate.column,), method="gin",
                        opclasses=("gin_trgm_ops",))
        out.append(finding(
            "budget-leading-wildcard", Severity.ERROR,
            f"{table}.{predicate.column} is matched against {pattern!r} (leading wildcard) without a trigram index",
            at(predicate.line),
            fix=f"CREATE EXTENSION IF NOT EXISTS pg_trgm; {create_index_sql(trigram)}",
        ))
    if analysis.unbounded:
        out.append(finding("budget-unbounded", Severity.ERROR, "returns a list without LIMIT", query.line,
                           fix="add LIMIT (keyset pagination for deep pages)"))
    return out


def _index_findings(query: HotQuery, access: TableAccess, catalog: Catalog, finding: Any) -> list[Finding]:
    at = query.sql_position
    need = access.need
    if need.is_empty():
        if access.driver or not access.predicates:
            return [finding("budget-missing-index", Severity.ERROR,
                            f"{access.table} ({access.alias}) has no condition an index could serve: "
                            "every row is read", at(access.line),
                            fix="filter on indexed columns (the tenant key first)")]
        return []
    if access.served:
        return []
    match = access.match
    suggestion = ideal_index(need, tenant_key=catalog.tenant_column(access.table))
    if match is not None and match.missing:
        missing = sorted(match.missing)
        line = next((p.line for p in access.predicates if p.key in match.missing and p.line), access.line)
        closest = f"; the closest index {match.index.describe()} does not lead with {', '.join(missing)}"
        message = f"{access.table}: filter on {', '.join(missing)} is not served by an index{closest}"
    else:
        line = access.line
        what = "ORDER BY" if need.order_keys else "range"
        detail = f"; {match.index.describe()} serves the equalities only" if match is not None else ""
        message = f"{access.table}: {need.describe()} is not served by an index ({what} after the equalities){detail}"
    return [finding(
        "budget-missing-index", Severity.ERROR, message, at(line),
        fix=create_index_sql(suggestion),
        details={"table": access.table, "need": need.describe(), "suggested_index": suggestion.describe()},
    )]
