"""`dbops check indexes`: index and schema health audit of a live database (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli.common import FormatOpt, OutputFormat, SchemaArg, emit_report, state

if TYPE_CHECKING:
    from rich.console import Console

    from dbops.findings import Report

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @check_app.command("indexes")
    def check_indexes(
        schema: SchemaArg = None,
        database_url: Annotated[
            list[str] | None,
            typer.Option(
                "--database-url",
                help="Database URL (with a single SCHEMA). Repeat it: the first is the primary, the others its "
                "replicas (an index is then 'unused' only when unused on all of them).",
                show_default=False,
            ),
        ] = None,
        schema_only: Annotated[
            bool, typer.Option("--schema-only", help="Only the schema checks (no statistics needed: CI on a fresh database).")
        ] = False,
        exclude: Annotated[
            list[str] | None,
            typer.Option("--exclude", help="Skip objects whose name matches this glob (schema.name or name); repeatable.",
                         show_default=False),
        ] = None,
        fmt: FormatOpt = None,
    ) -> None:
        """Index and schema health audit of a live database (read-only, safe on a production primary).

        One read-only transaction per server with statement_timeout/lock_timeout,
        catalog and statistics reads only, a constant number of queries. Exit 1
        when an error-severity finding exists.
        """
        from dbops.config.urls import validate_url
        from dbops.findings import Report
        from dbops.health import CHECKS, audit

        st = state()
        urls = list(database_url or [])
        replicas = [validate_url(u, "--database-url") for u in urls[1:]]
        results: list[tuple[str, Report]] = []
        for sch in st.schemas(schema):
            primary = st.url_for(sch, urls[0] if urls else None, single=schema is not None)
            what = f"{sch.name}: auditing" + (f" (primary + {len(replicas)} replica(s))" if replicas else "")
            with st.err.status(what + "…"):
                report = audit([primary, *replicas], st.settings, schema_only=schema_only, exclude=exclude or ())
            results.append((sch.name, report))
        if len(results) == 1:
            combined = results[0][1]
        else:
            combined = Report()
            for name, report in results:
                for finding in report.findings:
                    finding.details.setdefault("schema", name)
                combined.extend(report, prefix=name)
        chosen = st.output_format(fmt)
        if chosen is OutputFormat.text:
            for name, report in results:
                render_health(st.console, report, title=f"{name}: {_headline(report)}")
            code = combined.exit_code()
        else:
            rule_docs = {name: c.summary for name, c in CHECKS.items()}
            code = emit_report(combined, chosen, rule_docs=rule_docs)
        raise typer.Exit(code)


def _headline(report: Report) -> str:
    s = report.summary
    mode = "schema checks" if s.get("schema_only") else "all checks"
    servers = len(s.get("servers", [])) or 1
    where = f"database {s.get('database')}" + (f" + {servers - 1} replica(s)" if servers > 1 else "")
    return f"{where}, {len(s.get('checks', []))} {mode}, {s.get('queries')} queries, {s.get('elapsed_ms')} ms"


def render_health(console: Console, report: Report, *, title: str = "") -> None:
    """Findings grouped by severity: object and rule, the message (sizes are in it), then the fix SQL."""
    from rich.markup import escape

    from dbops.findings import Severity

    if title:
        console.print(f"[bold]{escape(title)}[/bold]")
    findings = report.sorted()
    for severity in Severity:
        group = [f for f in findings if f.severity is severity]
        if not group:
            continue
        style = _STYLE[severity.value]
        console.print(f"\n[{style}]{severity.value.upper()} ({len(group)})[/{style}]")
        for f in group:
            console.print(f"  [bold]{escape(f.object or '')}[/bold] [dim]\\[{escape(f.rule)}][/dim]")
            console.print(f"    {escape(f.message)}")
            if f.fix:
                lines = f.fix.splitlines()
                console.print(f"    [green]fix:[/green] {escape(lines[0])}")
                for line in lines[1:]:
                    console.print(f"         {escape(line)}")
    counts = report.counts()
    total = sum(counts.values())
    if total == 0:
        console.print("[green]✓ no findings[/green]")
    else:
        parts = [f"[{_STYLE[k]}]{v} {k}{'s' if v != 1 else ''}[/{_STYLE[k]}]" for k, v in counts.items() if v]
        console.print(f"\n{total} finding{'s' if total != 1 else ''}: " + ", ".join(parts))
