"""Human rendering of reports with rich: findings grouped by severity, most severe first."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from dbops.findings import Report

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_report(console: Console, report: Report, *, title: str = "") -> None:
    """Per severity: ``where [rule]``, the message, the statement excerpt, the fix; then the counts.

    ``where`` is ``file:line:column`` for file-based findings, the database
    object for database-based ones.
    """
    from rich.markup import escape

    from dbops.findings import Severity

    if title:
        console.print(f"[bold]{escape(title)}[/bold]")
    findings = report.sorted()
    for severity in Severity:
        group = [f for f in findings if f.severity is severity]
        if not group:
            continue
        style = STYLE[severity.value]
        console.print(f"\n[{style}]{severity.value.upper()} ({len(group)})[/{style}]")
        for f in group:
            where = f.location() or f.object or ""
            console.print(f"  [bold]{escape(where)}[/bold] [dim]\\[{escape(f.rule)}][/dim]")
            console.print(f"    {escape(f.message)}")
            for line in (f.excerpt or "").splitlines()[:6]:
                console.print(f"    [dim]│[/dim] {escape(line)}")
            if f.fix:
                first, *rest = f.fix.splitlines()
                console.print(f"    [green]fix:[/green] {escape(first)}")
                for line in rest:
                    console.print(f"         {escape(line)}")
    console.print(summary_line(report))


def summary_line(report: Report) -> str:
    """``3 findings: 1 error, 2 warnings`` (rich markup), or a check mark when there are none."""
    counts = report.counts()
    total = sum(counts.values())
    if total == 0:
        return "[green]✓ no findings[/green]"
    parts = [f"[{STYLE[k]}]{v} {k}{'s' if v != 1 else ''}[/{STYLE[k]}]" for k, v in counts.items() if v]
    return f"\n{total} finding{'s' if total != 1 else ''}: " + ", ".join(parts)
