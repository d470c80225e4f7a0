"""`dbops partitions ensure` and `dbops backfill`: operating at scale.

Parsing and rendering only; the work is in ``dbops.partitions`` and
``dbops.backfill`` (imported inside the commands).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli.common import DatabaseUrlOpt, OutputFormat, SchemaArg, state
from dbops.cli.tables import print_table
from dbops.errors import UsageError

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console
    from rich.progress import TaskID

    from dbops.backfill import BackfillProgress, BackfillReport, JobStatus
    from dbops.config import SchemaSettings
    from dbops.partitions import PartitionReport

TextJsonOpt = Annotated[
    OutputFormat | None, typer.Option("--format", "-f", help="text or json.", show_default=False)
]
_ACTION_STYLE = {"ok": "green", "warning": "yellow", "error": "bold red"}


def _text_or_json(fmt: OutputFormat | None) -> OutputFormat:
    chosen = state().output_format(fmt)
    if chosen not in (OutputFormat.text, OutputFormat.json):
        raise UsageError(f"--format {chosen.value} is not available here", hint="use --format text or json")
    return chosen


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    partitions_app = typer.Typer(
        help="Monthly partitions of the partitioned tables.", no_args_is_help=True, rich_markup_mode=None
    )
    app.add_typer(partitions_app, name="partitions")

    @partitions_app.command("ensure")
    def ensure(
        schema: SchemaArg = None,
        months_ahead: Annotated[int | None, typer.Option(
            "--months-ahead", help="Months after the current one to create (default: [tool.dbops.partitions]).",
            show_default=False)] = None,
        retention: Annotated[int | None, typer.Option(
            "--retention", help="Detach (CONCURRENTLY where allowed) partitions older than MONTHS whole months "
            "(default: [tool.dbops.partitions] retention_months).",
            metavar="MONTHS", show_default=False)] = None,
        drop: Annotated[bool, typer.Option("--drop", help="Drop the partitions --retention detaches.")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
        yes: Annotated[bool, typer.Option(
            "--yes", "-y", help="Confirm the retention's detaches/drops without asking.")] = False,
        database_url: DatabaseUrlOpt = None,
        fmt: TextJsonOpt = None,
    ) -> None:
        """Create this month's and the next months' partitions; detach old ones with --retention.

        Detaching or dropping needs a confirmation: --yes, or a yes on the terminal after
        the list of what would go. Without it the partitions ahead are still created and
        the old ones stay (exit 1). [tool.dbops.partitions] retention_unattended = true lets
        later runs (cron) apply a retention a person confirmed once on that table.
        """
        from dbops.partitions import ensure_partitions

        st = state()
        chosen = _text_or_json(fmt)
        reports = []
        for sch in st.schemas(schema):
            url = st.url_for(sch, database_url, single=schema is not None)

            def run(*, plan: bool, confirmed: bool, sch: SchemaSettings = sch, url: str = url) -> PartitionReport:
                return ensure_partitions(st.settings, sch, url, months_ahead=months_ahead, retention_months=retention,
                                         drop=drop, dry_run=plan, confirmed=confirmed, log=st.note)

            confirmed = yes
            if not dry_run and not yes and _interactive():
                plan = run(plan=True, confirmed=False)
                if plan.planned_retention:
                    confirmed = _confirm_retention(plan)
            reports.append(run(plan=dry_run, confirmed=confirmed))
        if chosen is OutputFormat.json:
            sys.stdout.write(json.dumps({"reports": [r.to_dict() for r in reports]}, indent=2) + "\n")
        else:
            for report in reports:
                _render_partitions(report)
        raise typer.Exit(max((r.exit_code() for r in reports), default=0))

    @app.command("backfill")
    def backfill_cmd(
        schema: Annotated[str, typer.Argument(help="healthcare or fashion (picks the database).", show_default=False)],
        table: Annotated[str | None, typer.Argument(
            help="The table (or schema.table) to backfill.", show_default=False)] = None,
        set_expr: Annotated[str | None, typer.Option(
            "--set", help='Assignments, e.g. "email_lower = lower(email)" (any SQL expression).',
            show_default=False)] = None,
        where: Annotated[str | None, typer.Option(
            "--where", help='Only rows matching, e.g. "email_lower IS NULL".', show_default=False)] = None,
        batch_size: Annotated[int, typer.Option("--batch-size", help="Keys per batch (one transaction each).")] = 1000,
        sleep: Annotated[int, typer.Option("--sleep", help="Pause between batches, in milliseconds.", metavar="MS")] = 0,
        job: Annotated[str | None, typer.Option(
            "--job", help="Job name in dbops_backfill_progress (default: TABLE:COLUMNS); rerun to resume.",
            show_default=False)] = None,
        restart: Annotated[bool, typer.Option(
            "--restart", help="Start the job over (forget its progress; takes the --set/--where given).")] = False,
        show_status: Annotated[bool, typer.Option(
            "--status", help="List the backfill jobs of SCHEMA's database and how far each got.")] = False,
        lock_timeout: Annotated[str | None, typer.Option(
            "--lock-timeout", help="lock_timeout of each batch (default: [tool.dbops.partitions] backfill_lock_timeout).",
            show_default=False)] = None,
        database_url: DatabaseUrlOpt = None,
        fmt: TextJsonOpt = None,
    ) -> None:
        """Online batched backfill of a column (expand → migrate → contract); resumable.

        \b
          dbops backfill SCHEMA TABLE --set "col = expr" [--where COND]   run or resume a job
          dbops backfill SCHEMA --status                                 the jobs and their progress
        """
        from dbops.backfill import backfill, backfill_status

        st = state()
        chosen = _text_or_json(fmt)
        sch = st.settings.schema(schema)
        if show_status:
            if table or set_expr or where or restart:
                raise UsageError("--status takes only SCHEMA", hint=f"dbops backfill {schema} --status")
            url = st.url_for(sch, database_url, single=True)
            jobs = backfill_status(url)
            if chosen is OutputFormat.json:
                sys.stdout.write(json.dumps({"jobs": [j.to_dict() for j in jobs]}, indent=2, default=str) + "\n")
            else:
                _render_jobs(sch.name, jobs)
            return
        if not table or not set_expr:
            raise UsageError("dbops backfill needs TABLE and --set",
                             hint=f'e.g. dbops backfill {schema} users --set "email_lower = lower(email)" '
                             f"(or dbops backfill {schema} --status)")
        url = st.url_for(sch, database_url, single=True)
        with _BackfillBar(st.err, disabled=st.quiet) as bar:
            report = backfill(
                url, table, set_expr, where=where, batch_size=batch_size, sleep_ms=sleep,
                lock_timeout=lock_timeout or st.settings.partitions.backfill_lock_timeout,
                job_name=job, progress=bar.update, restart=restart,
            )
        if chosen is OutputFormat.json:
            sys.stdout.write(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        else:
            _render_backfill(report)
        raise typer.Exit(0 if report.finished else 1)


class _BackfillBar:
    """A rich progress bar on stderr: keys walked, rows updated, rows/s, ETA."""

    def __init__(self, console: Console, *, disabled: bool) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]} rows · {task.fields[rate]} rows/s"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=disabled,
            transient=False,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> _BackfillBar:
        self.progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.progress.__exit__(exc_type, exc, traceback)

    def update(self, p: BackfillProgress) -> None:
        rate = p.rows_this_run / p.elapsed if p.elapsed > 0 else 0.0
        rows, per_second = f"{p.rows_done:,}", f"{rate:,.0f}"
        if self.task is None:
            self.task = self.progress.add_task(f"backfill {p.job}", total=1000, rows=rows, rate=per_second)
        self.progress.update(self.task, completed=round(p.fraction * 1000), rows=rows, rate=per_second)


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        return False


def _confirm_retention(plan: PartitionReport) -> bool:
    """List what the retention would detach/drop and ask (stderr/stdin); anything but y/yes is no."""
    err = state().err
    err.print(f"{plan.schema}: the retention would:", markup=False)
    for action in plan.planned_retention:
        rows = f", {action.rows:,} rows" if action.rows is not None else ""
        err.print(f"  {action.action.removeprefix('would ')} {action.partition} "
                  f"({(action.range_from or '')[:10]} → {(action.range_to or '')[:10]}{rows})", markup=False)
    sys.stderr.write("Go ahead? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _render_partitions(report: PartitionReport) -> None:
    """One rich table per partitioned table; each distinct detail once, as a numbered note."""
    from rich.markup import escape
    from rich.table import Table

    st = state()
    if not report.tables and not report.actions:
        st.console.print(f"{report.schema}: no partitioned tables in the database")
        return
    window = ("dry run: nothing changed; " if report.dry_run else "") + \
        f"{report.today}, this month + {report.months_ahead} ahead"
    if report.retention_months:
        window += f", retention {report.retention_months} months" + (" + drop" if report.drop else "")
    notes: dict[str, int] = {}
    for parent in dict.fromkeys(a.table for a in report.actions):
        table = Table(title=f"{report.schema}: {parent} ({window})", title_justify="left")
        for header in ("partition", "action", "range", "rows", "lock on parent", "note"):
            table.add_column(header, no_wrap=header != "lock on parent")
        for a in (a for a in report.actions if a.table == parent):
            style = _ACTION_STYLE[a.level]
            span = f"{a.range_from[:10]} → {a.range_to[:10]}" if a.range_from and a.range_to else ""
            note = str(notes.setdefault(a.detail, len(notes) + 1)) if a.detail else ""
            table.add_row(escape(a.partition or ""), f"[{style}]{a.action}[/{style}]", span,
                          "" if a.rows is None else f"{a.rows:,}", escape(a.lock or ""), note)
        print_table(st.console, table)
    for detail, number in notes.items():
        st.console.print(f"  [dim]{number}.[/dim] {escape(detail)}")
    if report.dry_run:
        planned = sum(1 for a in report.actions if a.action.startswith("would "))
        st.console.print(f"{report.schema}: dry run, {planned} planned change(s), nothing changed; "
                         f"{report.count('exists')} partition(s) already there")
        return
    st.console.print(f"{report.schema}: {report.changed} change(s); {report.count('exists')} partition(s) already there")
    if report.unconfirmed:
        st.console.print(f"[yellow]{report.schema}: {len(report.unconfirmed)} partition(s) past the retention were "
                         "left in place: rerun with --yes to detach/drop them[/yellow]")


def _render_jobs(schema: str, jobs: list[JobStatus]) -> None:
    from rich.markup import escape
    from rich.table import Table

    st = state()
    if not jobs:
        st.console.print(f"{schema}: no backfill job has run on this database")
        return
    table = Table(title=f"{schema}: backfill jobs", title_justify="left")
    for header in ("job", "state", "progress", "rows", "batches", "updated", "statement"):
        table.add_column(header, justify="right" if header in ("progress", "rows", "batches") else "left",
                         overflow="fold")
    style = {"finished": "green", "running": "cyan", "stopped": "yellow", "not started": "dim"}
    for job in jobs:
        fraction = job.fraction
        progress = "?" if fraction is None else f"{fraction:.0%}"
        updated = f"{job.updated_at:%Y-%m-%d %H:%M}" if job.updated_at is not None else ""
        table.add_row(escape(job.job), f"[{style[job.state]}]{job.state}[/{style[job.state]}]", progress,
                      f"{job.rows_done:,}", f"{job.batches:,}", updated, escape(job.statement))
    print_table(st.console, table)


def _render_backfill(report: BackfillReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    st = state()
    table = Table(show_header=False, box=None)
    if report.already_finished:
        status = "[green]already finished[/green] (nothing to do; --job NAME starts a new run)"
    elif report.finished:
        status = "[green]finished[/green]" + (" (resumed)" if report.resumed else "") + \
            (" (started over)" if report.restarted else "")
    else:
        status = "[yellow]stopped[/yellow] — rerun the same command to resume"
    rows = [
        ("job", escape(report.job)),
        ("statement", escape(f"UPDATE {report.table} SET {report.set_sql}"
                             + (f" WHERE {report.where_sql}" if report.where_sql else ""))),
        ("status", status),
        ("rows updated", f"{report.rows_updated:,} this run, {report.rows_done:,} in all"),
        ("batches", f"{report.batches:,} of ≤{report.batch_size:,} keys on {report.key}"),
        ("throughput", f"{report.rows_per_second:,.0f} rows/s"),
        ("longest batch", f"{report.longest_batch_seconds * 1000:,.0f} ms (the longest any lock was held)"),
        ("lock retries", str(report.lock_retries)),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/bold]", value)
    print_table(st.console, table)
