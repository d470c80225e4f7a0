"""`dbops check locks` and `dbops rules`: parse arguments, call dbops.lint, render.

``fast_check_locks`` answers the everyday call — ``dbops check locks FILES…``
(CI on every pull request, typically every file a cache hit) — without typer:
the console script (``dbops.cli.entry``) offers it the arguments first, and
only this module's light imports, the settings and the lint cache are loaded.
It accepts exactly the plain forms of the command's options and hands anything
else (help, --schema/--since, odd option spellings, errors) back to the typer
application, which then produces the same output it always did.

This module imports typer only inside ``register`` (no ``from __future__
import annotations`` here: the command signatures below are evaluated there,
where typer is in scope).
"""

import os
import sys
from typing import Annotated, Any

TITLE = "dbops check locks"
_FORMATS = ("text", "json", "sarif", "github")


def register(app: Any, check_app: Any) -> None:
    import typer

    from dbops.cli.common import FormatOpt, emit_report, state

    @check_app.command("locks")
    def check_locks(
        paths: Annotated[
            list[str] | None,
            typer.Argument(help=".sql files or directories (`-` for stdin); omit to lint the Alembic revisions.",
                           show_default=False),
        ] = None,
        schema: Annotated[
            str | None, typer.Option("--schema", "-s", help="Lint this schema's revisions (default: every schema).",
                                     show_default=False)
        ] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only revisions after this revision id.", show_default=False)
        ] = None,
        assume_in_transaction: Annotated[
            bool | None,
            typer.Option("--assume-in-transaction/--no-assume-in-transaction",
                         help="The runner wraps each .sql file in a transaction.", show_default=False),
        ] = None,
        pg_version: Annotated[
            int | None, typer.Option("--pg-version", help="Target PostgreSQL major version (default: config, else 15).",
                                     show_default=False, min=9, max=99)
        ] = None,
        fmt: FormatOpt = None,
    ) -> None:
        """Lock-safety lint of Alembic revisions and .sql files."""
        st = state()
        report = check_locks_report(st.settings, paths, schema=schema, since=since,
                                    assume_in_transaction=assume_in_transaction, pg_version=pg_version)
        chosen = st.output_format(fmt)
        code = emit_report(report, chosen, title=TITLE, rule_docs=rule_summaries() if chosen == "sarif" else None)
        raise typer.Exit(code)

    @app.command("rules")
    def rules(
        rule_id: Annotated[str | None, typer.Argument(help="A rule or check id (or a squawk/strong_migrations name).",
                                                      show_default=False)] = None,
    ) -> None:
        """The lint rules and index-health checks, and their documentation."""
        from dbops.health import CHECKS
        from dbops.lint import RULES, rule_doc

        st = state()
        if rule_id:
            if rule_id in CHECKS:  # `dbops check indexes` findings carry check names as their rule id
                st.console.print(CHECKS[rule_id].doc, markup=False, highlight=False)
                return
            st.console.print(rule_doc(rule_id), markup=False, highlight=False)
            return
        from rich.table import Table

        lint_table = Table(title="dbops check locks", title_justify="left", header_style="bold", box=None)
        lint_table.add_column("rule", no_wrap=True)
        lint_table.add_column("severity")
        lint_table.add_column("what it flags")
        lint_table.add_column("aliases", style="dim", overflow="fold")
        for rule in sorted(RULES.values(), key=lambda r: r.id):
            lint_table.add_row(rule.id, rule.severity.value, rule.summary, ", ".join(rule.alias_names()))
        st.console.print(lint_table)
        health_table = Table(title="dbops check indexes", title_justify="left", header_style="bold", box=None)
        health_table.add_column("check", no_wrap=True)
        health_table.add_column("severity")
        health_table.add_column("kind")
        health_table.add_column("what it finds")
        for check in sorted(CHECKS.values(), key=lambda c: c.name):
            health_table.add_row(check.name, check.severity.value, "runtime" if check.runtime else "schema",
                                 check.summary)
        st.console.print()
        st.console.print(health_table)
        st.console.print("`dbops rules ID` prints one rule's or check's documentation.", style="dim", markup=False)


def check_locks_report(settings: Any, paths: list[str] | None, *, schema: str | None = None,
                       since: str | None = None, assume_in_transaction: bool | None = None,
                       pg_version: int | None = None) -> Any:
    """The report of `dbops check locks` (``dbops.workflows.locks.check_locks``)."""
    from dbops.workflows.locks import check_locks

    return check_locks(settings, list(paths) if paths else None, schema=schema, since=since,
                       assume_in_transaction=assume_in_transaction, pg_version=pg_version)


def rule_summaries() -> dict[str, str]:
    """Rule id → one-line summary (the SARIF rules section)."""
    from dbops.lint import RULES

    return {r.id: r.summary for r in RULES.values()}


# --- the fast path ------------------------------------------------------------------------------


def parse_fast_args(args: list[str]) -> dict[str, Any] | None:
    """The arguments of a plain ``[-q] [-f FMT] check locks PATH… [options]`` call, else None.

    Only unambiguous spellings are accepted (the typer application handles the rest).

    >>> parse_fast_args(["check", "locks", "a.sql", "--pg-version", "16", "--format=json"])
    {'paths': ['a.sql'], 'format': 'json', 'assume_in_transaction': None, 'pg_version': 16}
    >>> parse_fast_args(["check", "locks", "--schema", "healthcare"]) is None
    True
    """
    out: dict[str, Any] = {"paths": [], "format": None, "assume_in_transaction": None, "pg_version": None}
    i, n = 0, len(args)
    global_format = None
    while i < n and args[i] != "check":  # global options of the main callback
        arg = args[i]
        if arg in ("-q", "--quiet"):
            i += 1
        elif arg in ("-f", "--format") and i + 1 < n:
            global_format = args[i + 1]
            i += 2
        elif arg.startswith("--format="):
            global_format = arg[len("--format="):]
            i += 1
        else:
            return None
    if args[i:i + 2] != ["check", "locks"]:
        return None
    i += 2
    while i < n:
        arg = args[i]
        if arg == "-" or not arg.startswith("-"):
            out["paths"].append(arg)
        elif arg == "--assume-in-transaction":
            out["assume_in_transaction"] = True
        elif arg == "--no-assume-in-transaction":
            out["assume_in_transaction"] = False
        elif arg in ("--pg-version", "--format", "-f") or arg.startswith(("--pg-version=", "--format=")):
            if "=" in arg:
                arg, value = arg.split("=", 1)
            elif i + 1 < n:
                i += 1
                value = args[i]
            else:
                return None
            if arg == "--pg-version":
                if not (value.isascii() and value.isdigit() and 9 <= int(value) <= 99):
                    return None
                out["pg_version"] = int(value)
            else:
                out["format"] = value
        else:
            return None
        i += 1
    out["format"] = out["format"] or global_format or "text"
    if not out["paths"] or out["format"] not in _FORMATS or global_format not in (None, *_FORMATS):
        return None
    return out


def fast_check_locks(args: list[str]) -> int | None:
    """Run ``dbops check locks FILES…`` without typer; None when the call is not one it handles.

    Any error also returns None: the typer application then runs the call and reports the
    error the usual way (the lint is read-only apart from its cache, so running it twice is safe).
    """
    parsed = parse_fast_args(args)
    if parsed is None or "-" in parsed["paths"]:  # stdin can be read only once: not here
        return None
    try:
        from dbops.config import load_settings

        settings = load_settings(env=dict(os.environ))
        report = check_locks_report(settings, parsed["paths"], assume_in_transaction=parsed["assume_in_transaction"],
                                    pg_version=parsed["pg_version"])
    except Exception:  # the full CLI reports it (one line, exit code, --debug)
        return None
    fmt = parsed["format"]
    if fmt == "text":  # rich rendering: exactly the typer command's (its console, its renderer)
        from dbops.cli.common import emit_report, reset_state

        reset_state(quiet="-q" in args or "--quiet" in args)
        return emit_report(report, None, title=TITLE)
    from dbops.findings import to_github, to_json, to_sarif

    if fmt == "json":
        sys.stdout.write(to_json(report) + "\n")
    elif fmt == "sarif":
        sys.stdout.write(to_sarif(report, rule_summaries()) + "\n")
    else:
        text = to_github(report)
        if text:
            sys.stdout.write(text + "\n")
    return report.exit_code()
