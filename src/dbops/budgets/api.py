"""``check_budgets``: what ``dbops check budgets`` runs — static, then (optionally) dynamic, one Report.

The summary's ``budgets.queries`` merges, per query, the static facts (the
index serving each table) and the dynamic measurements (budget vs measured,
plan summary), with one verdict, for the CLI's table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dbops.budgets.dynamic import check_dynamic
from dbops.budgets.loader import load_budgets
from dbops.budgets.model import BudgetFile
from dbops.budgets.static import check_static, selected_schemas
from dbops.config import SchemaSettings, Settings
from dbops.findings import Report


def budgets_path(settings: Settings) -> Path:
    """``[tool.dbops.budgets].file`` relative to the project root."""
    return settings.root / settings.budgets.file


def load_project_budgets(settings: Settings, path: str | Path | None = None) -> BudgetFile:
    """The project's budgets file (or ``path``), validated."""
    return load_budgets(Path(path) if path else budgets_path(settings), root=settings.root)


def schemas_to_measure(budget_file: BudgetFile, settings: Settings, schema: str | None) -> list[SchemaSettings]:
    """The schemas whose queries ``schema`` selects (all budgeted schemas when None)."""
    return [settings.schema(name) for name in selected_schemas(budget_file, settings, schema)]


def check_budgets(
    settings: Settings,
    schema: str | None = None,
    *,
    budget_file: BudgetFile | None = None,
    urls: Mapping[str, str] | None = None,
    runs: int | None = None,
    progress: Callable[[str], None] | None = None,
    rls: bool = True,
) -> Report:
    """Static checks of the selected schemas, plus dynamic checks of those with a URL in ``urls``.

    ``rls=False`` measures as the connecting user even where the budgets set an ``rls`` role.
    """
    from dbops.budgets.sync import sync_findings

    budget_file = budget_file or load_project_budgets(settings)
    static = check_static(budget_file, settings, schema)
    report = Report(findings=list(static.findings))
    if budget_file.path.is_file():  # budgets met by the code: the SQL is what the named methods send
        report.findings.extend(f for f in sync_findings(settings, budget_file.path)
                               if schema is None or str(f.object).split(".")[0] == schema)
    rows = {(r["schema"], r["query"]): {**r, "static": r["verdict"]} for r in static.summary["budgets"]["queries"]}
    measured: dict[str, Any] = {}
    for name, url in (urls or {}).items():
        dynamic = check_dynamic(budget_file, settings, name, url, runs=runs, progress=progress, rls=rls)
        report.findings.extend(dynamic.findings)
        info = dynamic.summary["budgets"]
        measured[name] = {k: info[k] for k in ("runs", "hypopg", "analyzed", "rls")}
        for row in info["queries"]:
            merged = rows.setdefault((row["schema"], row["query"]), {"schema": row["schema"], "query": row["query"]})
            merged.update({k: v for k, v in row.items() if k not in ("verdict", "schema", "query")})
            merged["dynamic"] = row["verdict"]
            if row["verdict"] == "broken":
                merged["verdict"] = "broken"
    queries = list(rows.values())
    report.summary["budgets"] = {
        "file": budget_file.display,
        "mode": "dynamic" if urls else "static",
        "databases": measured,
        "queries": queries,
        "checked": len(queries),
        "broken": sum(1 for q in queries if q.get("verdict") == "broken"),
    }
    return report
