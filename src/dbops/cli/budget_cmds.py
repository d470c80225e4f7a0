"""`dbops check budgets` and `dbops check all`: parse, call the capability, render."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dbops.cli.common import DatabaseUrlOpt, FormatOpt, OutputFormat, SchemaArg, emit_report, state
from dbops.cli.tables import print_table

if TYPE_CHECKING:
    from rich.console import Console

    from dbops.findings import Report


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    budgets_app = typer.Typer(help="budgets.yaml and the code that issues its queries.", no_args_is_help=True,
                              rich_markup_mode=None)
    app.add_typer(budgets_app, name="budgets")

    @budgets_app.command("sync")
    def sync(
        check: Annotated[
            bool, typer.Option("--check", help="Write nothing; exit 1 with a diff when the file is stale (CI).")
        ] = False,
        file: Annotated[
            Path | None, typer.Option("--file", help="Budgets file (default: [tool.dbops.budgets].file).")
        ] = None,
    ) -> None:
        """Regenerate the SQL of every budget that names a `method` from the statement that method issues.

        Also fails (exit 1) when a repository declares a hot statement budgets.yaml does not budget.
        """
        from dbops.budgets.sync import sync_budgets

        st = state()
        result = sync_budgets(st.settings, file, check=check)
        for problem in result.unbudgeted:
            st.err.print(f"[bold red]not budgeted[/bold red] {problem}: add it to {result.display}")
        if result.stale and check:
            sys.stdout.write(result.diff)
            st.err.print(f"{result.display} is stale: {len(result.updated)} budgeted queries differ from what their "
                         "methods issue — run `dbops budgets sync`")
        elif result.stale:
            for name in result.updated:
                st.console.print(f"updated {name}")
        else:
            st.console.print(f"{result.display}: {len(result.checked)} queries match their methods")
        raise typer.Exit(1 if result.unbudgeted or (check and result.stale) else 0)

    @check_app.command("budgets")
    def check_budgets(
        schema: SchemaArg = None,
        static_only: Annotated[
            bool, typer.Option("--static-only", help="Only the sqlglot checks against the models (no database).")
        ] = False,
        database_url: DatabaseUrlOpt = None,
        runs: Annotated[
            int | None, typer.Option("--runs", min=1, help="Timed runs per query (default: [tool.dbops.budgets].runs).")
        ] = None,
        file: Annotated[
            Path | None, typer.Option("--file", help="Budgets file (default: [tool.dbops.budgets].file).")
        ] = None,
        no_rls: Annotated[
            bool, typer.Option("--no-rls", help="Measure as the connecting user, not under the budgets' rls role.")
        ] = False,
        fmt: FormatOpt = None,
    ) -> None:
        """Query budgets from budgets.yaml: static (indexes, tenant filter) and measured on a database.

        Without --static-only the queries run on --database-url, the schema's
        configured URL, or the local database (seed it first: dbops seed SCHEMA --scale N).
        Exit 1 when a budget is broken, 2 on a malformed budgets file.
        """
        from dbops.budgets import check_budgets as run_check
        from dbops.budgets import load_project_budgets
        from dbops.budgets.api import schemas_to_measure

        st = state()
        settings = st.settings
        budget_file = load_project_budgets(settings, file)
        urls: dict[str, str] = {}
        if not static_only:
            single = schema is not None
            for sch in schemas_to_measure(budget_file, settings, schema):
                urls[sch.name] = st.url_for(sch, database_url, single=single)
        report = _with_progress(
            st, len([q for q in budget_file.queries if q.schema in urls]),
            lambda progress: run_check(settings, schema, budget_file=budget_file, urls=urls, runs=runs,
                                       progress=progress, rls=not no_rls),
        )
        if st.output_format(fmt) is OutputFormat.text:
            render_budgets(st.console, report)
        raise typer.Exit(emit_report(report, fmt, title="Budget findings"))

    @check_app.command("all")
    def check_all(fmt: FormatOpt = None) -> None:
        """Every check CI needs, no production database: lock safety of the revisions, static budgets,
        generated types up to date, models equal migrations (scratch database). One report, one exit code."""
        from dbops.workflows.check_all import check_all as run_all

        st = state()

        def progress(message: str) -> None:
            st.note(message)

        report = run_all(st.settings, env=st.env, progress=progress)
        if st.output_format(fmt) is OutputFormat.text:
            render_checks(st.console, report)
        raise typer.Exit(emit_report(report, fmt, title="Findings"))


def _with_progress(st: Any, total: int, work: Any) -> Report:
    """Run ``work(progress)`` with a rich progress bar on stderr (hidden with --quiet or nothing to measure)."""
    if total == 0 or st.quiet:
        return work(None)
    from dbops.cli.progress import progress_bar

    with progress_bar(st.err, "queries") as bar:
        task = bar.add_task("measuring", total=total)
        started = [False]

        def progress(query_id: str) -> None:
            if started[0]:
                bar.advance(task)
            started[0] = True
            bar.update(task, description=f"measuring {query_id}")

        report = work(progress)
        bar.update(task, completed=total)
    return report


_CHECK_TITLES = {
    "locks": "lock safety of the revisions",
    "budgets": "static query budgets",
    "types": "generated types up to date",
    "drift": "models equal migrations",
}


def render_checks(console: Console, report: Report) -> None:
    """``dbops check all``: one row per check with its findings by severity."""
    from rich.table import Table

    table = Table(title="dbops check all", title_justify="left")
    for column in ("check", "errors", "warnings", "info", "result"):
        table.add_column(column, justify="right" if column in ("errors", "warnings", "info") else "left")
    for name, counts in report.summary.get("checks", {}).items():
        result = "[bold red]failed[/bold red]" if counts.get("error") else "[green]passed[/green]"
        table.add_row(_CHECK_TITLES.get(name, name), str(counts.get("error", 0)), str(counts.get("warning", 0)),
                      str(counts.get("info", 0)), result)
    print_table(console, table)


def render_budgets(console: Console, report: Report) -> None:
    """One table per schema, one row per query: budget vs measured, index/plan, verdict."""
    from rich.markup import escape
    from rich.table import Table

    info = report.summary.get("budgets", {})
    queries = info.get("queries", [])
    dynamic = info.get("mode") == "dynamic"
    for schema in dict.fromkeys(q["schema"] for q in queries):
        table = Table(title=f"{schema} — {info.get('file', 'budgets.yaml')}", title_justify="left", show_lines=dynamic)
        table.add_column("query", overflow="fold")
        if dynamic:
            table.add_column("rows examined\nmeasured / budget", justify="right")
            table.add_column("buffers\nmeasured / budget", justify="right")
            table.add_column("p95 ms (p50)\nmeasured / budget", justify="right")
            table.add_column("plan", overflow="fold")
        else:
            table.add_column("index serving each table", overflow="fold")
        table.add_column("verdict")
        for q in (q for q in queries if q["schema"] == schema):
            verdict = _VERDICT_STYLE.get(q.get("verdict", ""), "[bold red]broken[/bold red]")
            cells = [escape(q["query"])]
            if dynamic:
                cells += _measured_cells(q)
                plan = q.get("plan") or ([f"error: {q['error']}"] if q.get("error") else [])
                cells.append(escape("\n".join(plan) or _indexes(q)))
            else:
                cells.append(escape(_indexes(q)))
            table.add_row(*cells, verdict)
        print_table(console, table)
    if dynamic:
        unmeasured = [q for q in queries if q.get("verdict") == "too little data"]
        for schema in dict.fromkeys(q["schema"] for q in unmeasured):
            count = sum(1 for q in unmeasured if q["schema"] == schema)
            console.print(f"[yellow]{schema}: {count} quer{'y' if count == 1 else 'ies'} not measured: too little "
                          f"data (the default seed is small). Load realistic data with `dbops seed {schema} --scale "
                          "10000` and measure again.[/yellow]")
        for name, db in info.get("databases", {}).items():
            hypopg = "hypopg available" if db.get("hypopg") else "hypopg not available"
            rls = f"measured as {db['rls']} (row-level security on)" if db.get("rls") else "measured as the connecting user"
            console.print(f"[dim]{name}: {db.get('runs')} timed runs per query, {hypopg}, {rls}[/dim]")


_VERDICT_STYLE = {"ok": "[green]ok[/green]", "broken": "[bold red]broken[/bold red]",
                  "too little data": "[yellow]too little data[/yellow]"}


def _indexes(q: dict[str, Any]) -> str:
    lines = []
    for t in q.get("tables", []):
        lines.append(f"{t['table']}: {t['index'] or 'NO INDEX'}" + ("" if t["served"] or not t["index"] else " (partial)"))
    return "\n".join(lines) or "-"


def _measured_cells(q: dict[str, Any]) -> list[str]:
    measured = q.get("measured")
    budget = q.get("budget", {})
    if not measured:
        return ["-", "-", "-"]

    def pair(value: Any, limit: Any, fmt: str = "{:,}") -> str:
        text = fmt.format(value) if value is not None else "-"
        over = limit is not None and value is not None and value > limit
        text = f"[bold red]{text}[/bold red]" if over else text
        return f"{text} / {fmt.format(limit) if limit is not None else '-'}"

    p95 = pair(measured.get("p95_ms"), budget.get("max_ms"), "{:g}")
    if measured.get("p50_ms") is not None:
        p95 += f"\n(p50 {measured['p50_ms']:g}, {measured.get('runs')} runs)"
    return [
        pair(measured.get("rows_examined"), budget.get("max_rows_examined")),
        pair(measured.get("buffers"), budget.get("max_buffers")),
        p95,
    ]
