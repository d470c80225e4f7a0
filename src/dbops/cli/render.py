"""Human rendering of reports with rich: findings grouped by severity."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from dbops.findings import Report

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_report(console: Console, report: Report, *, title: str = "") -> None:
    """Findings, most severe first: ``location  severity  rule  message``, the excerpt and the fix."""
    from rich.markup import escape

    findings = report.sorted()
    if title:
        console.print(f"[bold]{escape(title)}[/bold]")
    for f in findings:
        where = f.location() or f.object or ""
        style = _STYLE[f.severity.value]
        console.print(
            f"[bold]{escape(where)}[/bold] [{style}]{f.severity.value}[/{style}] "
            f"[dim]\\[{escape(f.rule)}][/dim] {escape(f.message)}"
        )
        if f.excerpt:
            for line in f.excerpt.splitlines()[:6]:
                console.print(f"    [dim]│[/dim] {escape(line)}")
        if f.fix:
            fix_lines = f.fix.splitlines()
            console.print(f"    [green]fix:[/green] {escape(fix_lines[0])}")
            for line in fix_lines[1:]:
                console.print(f"         {escape(line)}")
    counts = report.counts()
    total = sum(counts.values())
    if total == 0:
        console.print("[green]✓ no findings[/green]")
    else:
        parts = [f"[{_STYLE[k]}]{v} {k}{'s' if v != 1 else ''}[/{_STYLE[k]}]" for k, v in counts.items() if v]
        console.print(f"{total} finding{'s' if total != 1 else ''}: " + ", ".join(parts))
