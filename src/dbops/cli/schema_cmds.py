"""`dbops migrate|deploy|status|reset|seed`: the schema workflow.

Parsing and rendering only; the work is in ``dbops.workflows`` and ``dbops.seed``.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dbops.cli.common import DatabaseUrlOpt, FormatOpt, OutputFormat, SchemaArg, emit_report, state
from dbops.cli.tables import print_table
from dbops.config import display_path
from dbops.errors import RefusedError, UsageError

if TYPE_CHECKING:
    from dbops.config import SchemaSettings
    from dbops.typegen import GenerateResult

TextJsonOpt = Annotated[
    OutputFormat | None, typer.Option("--format", "-f", help="text or json.", show_default=False)
]

MIGRATE_HELP = """Dev workflow: apply pending migrations, or create a new revision.

\b
Two forms:
  dbops migrate [SCHEMA]                      apply pending revisions on the dev database
                                              (the local database unless a URL is set),
                                              then regenerate the typed database-types module
  dbops migrate create SCHEMA NAME [--empty]  autogenerate lock-safe revisions from the models,
                                              diffed against a shadow database migrated from
                                              the revision files (--empty: a blank one; both
                                              set lock_timeout), then lint them

\b
A column dropped and another of the same type added looks like a rename: on a
terminal dbops asks; otherwise it refuses unless --rename TABLE.OLD=NEW (the
online rename: expand revision with a sync trigger, backfill, contract
revision) or --accept-data-loss (drop and add). Drops of columns or tables that
hold data in the dev database are called out first and need a yes or
--accept-data-loss.

SCHEMA is healthcare or fashion (omitted: both, for the first form).
"""


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @app.command("migrate", help=MIGRATE_HELP, no_args_is_help=False)
    def migrate_cmd(
        args: Annotated[
            list[str] | None,
            typer.Argument(metavar="[SCHEMA] | create SCHEMA NAME", show_default=False,
                           help="SCHEMA to migrate, or `create SCHEMA NAME`."),
        ] = None,
        empty: Annotated[bool, typer.Option("--empty", help="With `create`: a blank revision (no autogenerate).")] = False,
        rename: Annotated[list[str] | None, typer.Option(
            "--rename", metavar="TABLE.OLD=NEW", show_default=False,
            help="With `create`: generate the online rename of a column (expand + contract revisions).")] = None,
        accept_data_loss: Annotated[bool, typer.Option(
            "--accept-data-loss", help="With `create`: write drops of columns/tables that hold data without asking.",
        )] = False,
        no_generate: Annotated[
            bool, typer.Option("--no-generate", help="Do not regenerate the database-types module.")
        ] = False,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        args = list(args or [])
        if args and args[0] == "create":
            if len(args) != 3:
                raise UsageError("usage: dbops migrate create SCHEMA NAME [--empty]",
                                 hint="e.g. `dbops migrate create healthcare add_rating`")
            _create(args[1], args[2], empty=empty, renames=rename or [], accept_data_loss=accept_data_loss,
                    database_url=database_url)
            return
        if empty or rename or accept_data_loss:
            raise UsageError("--empty, --rename and --accept-data-loss only apply to `dbops migrate create SCHEMA NAME`")
        if len(args) > 1:
            raise UsageError(f"unexpected arguments: {' '.join(args[1:])}",
                             hint="dbops migrate [SCHEMA]  or  dbops migrate create SCHEMA NAME")
        _migrate(args[0] if args else None, generate=not no_generate, database_url=database_url)

    @app.command("deploy")
    def deploy_cmd(
        schema: SchemaArg = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the SQL it would run; change nothing.")] = False,
        fmt: TextJsonOpt = None,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        """Production: lint, lock, and apply pending revisions with timeouts and bounded retries.

        Takes a per-schema advisory lock (a concurrent deploy waits, bounded), refuses
        edited applied revisions and lint errors, runs each revision in its own
        transaction with lock_timeout/statement_timeout from [tool.dbops.deploy], and
        retries a revision that hit lock_timeout with backoff. Never prompts.
        """
        from dbops.workflows.deploy import LintRefused, deploy

        st = state()
        chosen = st.output_format(fmt)
        reports = []
        code = 0
        for sch in st.schemas(schema):
            url = st.url_for(sch, database_url, single=schema is not None)
            try:
                report = deploy(st.settings, sch, url, dry_run=dry_run, log=st.note)
            except LintRefused as exc:
                emit_report(exc.report, chosen if chosen is OutputFormat.json else OutputFormat.text,
                            title=f"{sch.name}: lock-safety findings in the pending revisions")
                raise
            reports.append(report)
            if dry_run and (report.edited or (report.lint is not None and report.lint.exit_code())):
                code = 1
            if chosen is not OutputFormat.json:
                _print_deploy(report)
        if chosen is OutputFormat.json:
            sys.stdout.write(json.dumps({"schemas": [r.to_dict() for r in reports]}, indent=2) + "\n")
        raise typer.Exit(code)

    @app.command("status")
    def status_cmd(
        schema: SchemaArg = None,
        fmt: FormatOpt = None,
        no_drift: Annotated[bool, typer.Option("--no-drift", help="Skip the models-vs-database comparison.")] = False,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        """Current vs head revision, pending revisions, drift, edited applied revisions (exit 1 unless up to date).

        --format json adds the findings to the status; sarif and github give one finding per
        pending revision, edited revision file and difference (at the model's file and line).
        """
        from dbops.findings import Report
        from dbops.workflows.status import status

        st = state()
        results = []
        report = Report()
        for sch in st.schemas(schema):
            url = st.url_for(sch, database_url, single=schema is not None)
            result = status(st.settings, sch, url, check_drift=not no_drift)
            results.append(result)
            report.extend(result.report(st.settings, sch))
        chosen = st.output_format(fmt)
        if chosen is OutputFormat.json:
            payload = {"up_to_date": all(r.up_to_date for r in results), "schemas": [r.to_dict() for r in results],
                       "findings": report.to_dict()["findings"]}
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        elif chosen in (OutputFormat.sarif, OutputFormat.github):
            emit_report(report, chosen)
        else:
            for result in results:
                _print_status(result)
        raise typer.Exit(0 if all(r.up_to_date for r in results) else 1)

    @app.command("reset")
    def reset_cmd(
        schema: SchemaArg = None,
        force: Annotated[bool, typer.Option("--force", help="Allow a database that is not local/loopback.")] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to type the schema name.")] = False,
        no_seed: Annotated[bool, typer.Option("--no-seed", help="Migrate only, do not seed.")] = False,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        """Drop the schema's objects, migrate to head and seed (dev databases only).

        Refused when DBOPS_ENV is production, prod or live (always) and, without --force, when
        the server libpq would really reach (URL, PGHOST/PGHOSTADDR/PGSERVICE…, then the
        connection itself) is not on this machine. Asks you to type the schema name unless --yes.
        """
        from dbops.localdb.target import is_production
        from dbops.seed import admin_password, hash_password
        from dbops.workflows.reset import check_reset_allowed, reset

        st = state()
        production = is_production(st.env)
        selected = st.schemas(schema)
        resolved = {}
        urls = {}
        for sch in selected:  # every guard before anything is touched (or asked)
            res = st.resolve(sch, database_url, single=schema is not None)
            check_reset_allowed(sch.name, res.url, local=res.is_local, force=force, production=production,
                                settings=st.settings)
            resolved[sch.name] = res
        for sch in selected:  # the local cluster's URL too (the environment could send it elsewhere), then
            urls[sch.name] = resolved[sch.name].url or _local_url(sch)  # each connection itself
            guard = check_reset_allowed(sch.name, urls[sch.name], force=force, settings=st.settings)
            if guard is not None:
                guard.check(urls[sch.name])
        if not yes:
            for sch in selected:
                _confirm(sch.name, resolved[sch.name].masked, seed=not no_seed)
        password = None if no_seed else admin_password(st.env, local=all(r.is_local for r in resolved.values()))
        pw_hash = hash_password(password.password) if password is not None else None
        for sch in selected:
            res = resolved[sch.name]
            url = urls[sch.name]
            with st.err.status(f"resetting {sch.name}…"):
                result = reset(st.settings, sch, url, local=res.is_local, force=force, production=production,
                               admin_password_hash=pw_hash, detect_admin=bool(password and password.generated),
                               env=st.env, log=st.note)
            st.console.print(f"{sch.name}: {result.method}; applied {len(result.applied)} revision(s)"
                             + (f"; seeded {_counts(result.seed.counts)}" if result.seed else ""), markup=False)
            if result.seed is not None:
                _show_generated_password(sch.name, password, result.seed.admin_hash_stored)

    @app.command("seed")
    def seed_cmd(
        schema: SchemaArg = None,
        scale: Annotated[
            int | None, typer.Option("--scale", min=1, help="Bulk synthetic data for N users/clients (COPY).",
                                     show_default=False)
        ] = None,
        seed_value: Annotated[int, typer.Option("--seed", help="With --scale: random seed (deterministic data).")] = 1,
        append: Annotated[bool, typer.Option("--append", help="With --scale: add to a non-empty schema.")] = False,
        force: Annotated[bool, typer.Option("--force", help="With --scale: allow a non-local database.")] = False,
        fmt: TextJsonOpt = None,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        """Idempotent seed data from seeds/<schema>.py (one transaction); --scale N for bulk synthetic data.

        The admin password comes from DBOPS_ADMIN_PASSWORD (stored as a bcrypt hash); on the
        local database, when unset, a random one is generated and printed once.
        """
        st = state()
        if scale is None and (append or force):
            raise UsageError("--append and --force only apply with --scale N")
        selected = st.schemas(schema)
        if scale is not None:
            _seed_at_scale(selected, scale=scale, seed_value=seed_value, append=append, force=force,
                           database_url=database_url, single=schema is not None)
            return
        _seed(selected, fmt=st.output_format(fmt), database_url=database_url, single=schema is not None)



# -- migrate -------------------------------------------------------------------------------


def _migrate(schema: str | None, *, generate: bool, database_url: str | None) -> None:
    from dbops.workflows.migrate import migrate

    st = state()
    for sch in st.schemas(schema):
        url = st.url_for(sch, database_url, single=schema is not None)
        with st.err.status(f"migrating {sch.name}…"):
            result = migrate(st.settings, sch, url, generate_types=generate, log=st.note)
        for edited in result.edited:
            st.err.print(f"warning: {edited.describe()} — `dbops reset {sch.name}` rebuilds the dev database",
                         markup=False)
        if result.recorded_unrecorded:
            st.note(f"{sch.name}: recorded checksums of {len(result.recorded_unrecorded)} already-applied revision(s)")
        if result.lint_errors and result.lint is not None:
            from dbops.cli.render import render_report
            from dbops.findings import Report

            errors = [f for f in result.lint.findings if f.severity.value == "error"]
            st.err.print(f"warning: {sch.name}: applied revision(s) with {len(errors)} lock-safety error(s); "
                         "`dbops deploy` refuses them in production — fix them before you push", markup=False)
            render_report(st.err, Report(errors))
        if result.applied:
            st.console.print(f"{sch.name}: applied {len(result.applied)} revision(s): {', '.join(result.applied)} "
                             f"({result.seconds:.2f}s)", markup=False)
        else:
            st.console.print(f"{sch.name}: up to date", markup=False)
        if result.types is not None:
            st.console.print(f"{sch.name}: types {_describe_types(result.types)}", markup=False)
        elif result.types_note and generate:
            st.note(f"{sch.name}: {result.types_note}")


def _describe_types(value: GenerateResult) -> str:
    """``dbops.typegen.GenerateResult`` (path, changed) in a few words."""
    shown = display_path(value.path, state().settings.root)
    return f"{shown} regenerated" if value.changed else f"{shown} unchanged"


_ROLE_NOTE = {
    "expand": "expand: instant changes, one transaction",
    "online": "online: indexes built and constraints validated without blocking writes",
    "contract": "contract: drops; deploy it once no running code uses what it drops",
}


def _create(schema: str, name: str, *, empty: bool, renames: list[str], accept_data_loss: bool,
            database_url: str | None) -> None:
    from dbops.workflows.create import create_revision

    st = state()
    sch = st.settings.schema(schema)
    url = None if empty else st.url_for(sch, database_url, single=True)
    confirm = _ask_yes_no if _interactive() else None
    result = create_revision(st.settings, sch, name, empty=empty, url=url, renames=renames,
                             accept_data_loss=accept_data_loss, confirm=confirm, env=st.env, log=st.note,
                             warn=lambda message: st.err.print(f"warning: {message}", markup=False))
    if result.path is None:
        st.console.print(f"{sch.name}: no changes between the models and the revision files; no revision written "
                         "(use --empty for a blank revision)", markup=False)
        return
    for generated in result.revisions:
        role = f", {_ROLE_NOTE[generated.role]}" if len(result.revisions) > 1 else ""
        st.console.print(f"{sch.name}: created {display_path(generated.path, st.settings.root)} "
                         f"(revision {generated.revision}{role})", markup=False)
    for note in result.notes:
        st.console.print(f"  note: {note}", markup=False)
    if result.lint is not None:
        names = ", ".join(r.path.name for r in result.revisions)
        code = emit_report(result.lint, OutputFormat.text, title=f"lock-safety findings in {names}")
        raise typer.Exit(code)


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        return False


def _ask_yes_no(question: str) -> bool:
    """A yes/no question on the terminal (stderr); anything but y/yes is no."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    return answer.strip().lower() in ("y", "yes")


# -- deploy / status rendering ---------------------------------------------------------------


def _print_deploy(report: Any) -> None:
    from rich.table import Table

    st = state()
    if report.lint is not None and any(f.severity.value != "info" for f in report.lint.findings):
        if report.dry_run:  # stdout stays pure SQL; the findings go to stderr
            from dbops.cli.render import render_report

            render_report(st.err, report.lint, title=f"{report.schema}: lock-safety findings")
        else:
            emit_report(report.lint, OutputFormat.text, title=f"{report.schema}: lock-safety findings")
    elif report.lint is not None:
        st.note(f"{report.schema}: lock-safety lint of {len(report.pending)} pending revision(s): no errors or "
                f"warnings ({len(report.lint.findings)} info)")
    if report.dry_run:
        for edited in report.edited:
            st.err.print(f"error: {edited.describe()}", markup=False)
        if not report.pending:
            st.console.print(f"{report.schema}: up to date ({_revs(report.before)}); nothing to deploy", markup=False)
            return
        sys.stdout.write(f"-- {report.schema}: {len(report.pending)} pending revision(s) from {_revs(report.before)}"
                         f" to {_revs(report.heads)} (dry run: nothing was changed)\n")
        sys.stdout.write(report.sql if report.sql.endswith("\n") else report.sql + "\n")
        return
    if not report.applied:
        st.console.print(f"{report.schema}: up to date ({_revs(report.after)}); nothing to deploy", markup=False)
        return
    st.console.print(f"{report.schema}: deployed {_revs(report.before)} → {_revs(report.after)} "
                     f"in {report.seconds:.2f}s", markup=False)
    table = Table()
    table.add_column("revision")
    table.add_column("file")
    table.add_column("seconds", justify="right")
    table.add_column("attempts", justify="right")
    for applied in report.applied:
        table.add_row(applied.revision, applied.file, f"{applied.seconds:.2f}", str(applied.attempts))
    print_table(st.console, table)


def _print_status(result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    st = state()
    mark = "[green]up to date[/green]" if result.up_to_date else "[red]not up to date[/red]"
    st.console.print(f"[bold]{escape(result.schema)}[/bold]: {mark}")
    table = Table(show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("database", escape(result.database))
    table.add_row("current", escape(_revs(result.current)))
    table.add_row("head", escape(_revs(result.heads)))
    table.add_row("pending", escape("\n".join(f"{p.revision}  {p.file}" for p in result.pending)) or "none")
    table.add_row("edited", escape("\n".join(e.describe() for e in result.edited)) or "none")
    if result.unrecorded:
        table.add_row("unrecorded", escape(", ".join(result.unrecorded))
                      + " (applied without a checksum; the next migrate/deploy records them)")
    if result.drift is not None:
        table.add_row("drift", escape("\n".join(result.drift)) or "none")
    else:
        table.add_row("drift", escape(result.drift_note or "not checked"))
    print_table(st.console, table)


def _revs(revs: Any) -> str:
    return ", ".join(revs) if revs else "base (empty)"


# -- reset / seed helpers --------------------------------------------------------------------


def _local_url(sch: SchemaSettings) -> str:
    from dbops.localdb import ensure_database

    st = state()
    return ensure_database(st.settings, sch.database, env=st.env, log=st.note)


def _confirm(schema: str, where: str, *, seed: bool) -> None:
    """Ask the user to type the schema name; no stdin (EOF, not readable) is a refusal."""
    then = "migrates and seeds it" if seed else "and migrates it"
    where = "the local database" if where == "local database" else where
    sys.stderr.write(f"This drops every object of {schema} in {where}, {then}.\n"
                     f"Type the schema name ({schema}) to continue: ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline() if sys.stdin is not None else ""
    except (OSError, ValueError):
        answer = ""
    if not answer:
        sys.stderr.write("\n")
        raise RefusedError(f"refusing to reset {schema}: no confirmation (stdin is closed)",
                           hint="type the schema name when asked, or pass --yes")
    if answer.strip() != schema:
        raise RefusedError(f"refusing to reset {schema}: the typed name {answer.strip()!r} does not match",
                           hint="type the schema name exactly, or pass --yes")


def _show_generated_password(schema: str, password: Any, stored: bool | None) -> None:
    if password is None or not password.generated or stored is None:
        return
    if stored:
        # The one time a password is shown: generated for the local database, never stored in clear.
        sys.stderr.write(f"{schema}: generated admin password (shown once, stored only as a bcrypt hash): "
                         f"{password.password}\n")
    else:
        state().note(f"{schema}: the admin account already existed and keeps its password "
                     "(set DBOPS_ADMIN_PASSWORD and reset to change it)")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items()) or "nothing"


def _seed(selected: list[SchemaSettings], *, fmt: OutputFormat, database_url: str | None, single: bool) -> None:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from dbops.seed import admin_password, hash_password, seed

    st = state()
    resolved = [(sch, st.resolve(sch, database_url, single=single)) for sch in selected]
    # One password for the run (generated only when every target is the local database), checked first.
    password = admin_password(st.env, local=all(res.is_local for _, res in resolved))
    targets = [(sch, res.url or _local_url(sch)) for sch, res in resolved]
    pw_hash = hash_password(password.password)
    results = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=st.err, transient=True) as progress:
        task = progress.add_task("seeding", total=len(targets))
        for sch, url in targets:
            progress.update(task, description=f"seeding {sch.name}")
            results.append(seed(st.settings, sch, url, admin_password_hash=pw_hash,
                                detect_admin=password.generated, log=st.note))
            progress.advance(task)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps({"schemas": [r.to_dict() for r in results]}, indent=2) + "\n")
    else:
        from rich.table import Table

        for result in results:
            st.console.print(f"{result.schema}: seeded in {result.seconds:.2f}s (idempotent upserts)", markup=False)
            table = Table()
            table.add_column("table")
            table.add_column("rows", justify="right")
            for name, count in result.counts.items():
                table.add_row(name, str(count))
            print_table(st.console, table)
    for result in results:
        _show_generated_password(result.schema, password, result.admin_hash_stored)


def _seed_at_scale(selected: list[SchemaSettings], *, scale: int, seed_value: int, append: bool, force: bool,
                   database_url: str | None, single: bool) -> None:
    from dbops.cli.progress import progress_bar
    from dbops.scale import seed_at_scale

    st = state()
    for sch in selected:
        url = st.url_for(sch, database_url, single=single)
        with progress_bar(st.err, "rows") as progress:
            counts = seed_at_scale(st.settings, sch, url, scale=scale, seed=seed_value, append=append, force=force,
                                   progress=None if st.quiet else _table_progress(progress, sch.name))
        st.console.print(f"{sch.name}: {_counts(dict(counts or {}))}", markup=False)


def _table_progress(progress: Any, prefix: str) -> Any:
    """A ``progress(table, done, total=None)`` callback drawing one rich bar per table."""
    tasks: dict[str, Any] = {}

    def report(table: str, done: int, total: int | None = None) -> None:
        if table not in tasks:
            tasks[table] = progress.add_task(f"{prefix}.{table}", total=total)
        progress.update(tasks[table], completed=done, total=total)

    return report
