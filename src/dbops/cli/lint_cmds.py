"""`dbops check locks` and `dbops rules`: parse arguments, call dbops.lint, render.

The options of `check locks` are declared once, in ``CHECK_LOCKS_OPTIONS``: the typer command
is built from that spec, and so is the fast path — ``fast_check_locks`` answers the everyday
call (CI on every pull request, typically every file a cache hit) without importing typer: the
console script (``dbops.cli.entry``) offers it the arguments first. Anything the spec's parser
does not accept (help, a malformed value, an unknown option, ``--debug``) goes to the typer
application, which prints its usual message; nothing is run twice. Errors raised while linting
are not caught here: ``dbops.cli.entry`` reports them as the typer application does.

This module imports typer only inside ``register`` (no ``from __future__ import annotations``
here: the command signatures below are evaluated there, where typer is in scope).
"""

import os
import sys
from typing import Annotated, Any

TITLE = "dbops check locks"
FORMATS = ("text", "json", "sarif", "github")


class Opt:
    """One option of a command: its parameter name, spellings, help and value rule.

    ``kind`` is ``text``, ``int`` (within ``low``..``high``), ``choice`` (one of ``choices``) or
    ``flag`` (``flags[0]`` sets it, ``off`` clears it). (A plain class: a dataclass costs a
    millisecond of every warm ``check locks`` to define.)
    """

    __slots__ = ("choices", "dest", "flags", "help", "high", "kind", "low", "off")

    def __init__(self, dest: str, flags: tuple[str, ...], help: str, *, kind: str = "text", off: str | None = None,
                 low: int | None = None, high: int | None = None, choices: tuple[str, ...] = ()) -> None:
        self.dest, self.flags, self.help, self.kind = dest, flags, help, kind
        self.off, self.low, self.high, self.choices = off, low, high, choices

    def value(self, raw: str) -> Any:
        """The value of ``raw`` for this option; None when it is not a valid one (the typer error explains)."""
        if self.kind == "int":
            if not (raw.isascii() and raw.isdigit()):
                return None
            number = int(raw)
            return number if (self.low is None or number >= self.low) and (self.high is None or number <= self.high) \
                else None
        if self.kind == "choice":
            return raw if raw in self.choices else None
        return raw


CHECK_LOCKS_OPTIONS: tuple[Opt, ...] = (
    Opt("schema", ("--schema", "-s"), "Lint this schema's revisions (default: every schema)."),
    Opt("since", ("--since",), "Only revisions after this revision id."),
    Opt("assume_in_transaction", ("--assume-in-transaction",), "The runner wraps each .sql file in a transaction.",
        kind="flag", off="--no-assume-in-transaction"),
    Opt("pg_version", ("--pg-version",), "Target PostgreSQL major version (default: config, else 15).", kind="int",
        low=9, high=99),
    Opt("database_url", ("--database-url",),
        "Read the current column types of the .sql files' tables from this database (type changes that only "
        "relabel are then not reported)."),
    Opt("fmt", ("--format", "-f"), "Output: text, json, sarif or github.", kind="choice", choices=FORMATS),
)
# The main callback's options the fast path accepts before `check` (others go to typer).
GLOBAL_OPTIONS: tuple[Opt, ...] = (
    Opt("quiet", ("--quiet", "-q"), "", kind="flag"),
    Opt("fmt", ("--format", "-f"), "", kind="choice", choices=FORMATS),
    Opt("database_url", ("--database-url",), ""),
)


def option(dest: str) -> Any:
    """The typer option of ``check locks`` parameter ``dest``, from the spec."""
    import typer

    spec = next(o for o in CHECK_LOCKS_OPTIONS if o.dest == dest)
    decls = [f"{spec.flags[0]}/{spec.off}"] if spec.kind == "flag" else list(spec.flags)
    return typer.Option(*decls, help=spec.help, show_default=False, min=spec.low, max=spec.high)


def register(app: Any, check_app: Any) -> None:
    import typer

    from dbops.cli.common import OutputFormat, emit_report, state

    @check_app.command("locks")
    def check_locks(
        paths: Annotated[
            list[str] | None,
            typer.Argument(help=".sql files or directories (`-` for stdin); omit to lint the Alembic revisions.",
                           show_default=False),
        ] = None,
        schema: Annotated[str | None, option("schema")] = None,
        since: Annotated[str | None, option("since")] = None,
        assume_in_transaction: Annotated[bool | None, option("assume_in_transaction")] = None,
        pg_version: Annotated[int | None, option("pg_version")] = None,
        database_url: Annotated[str | None, option("database_url")] = None,
        fmt: Annotated[OutputFormat | None, option("fmt")] = None,
    ) -> None:
        """Lock-safety lint of Alembic revisions and .sql files."""
        st = state()
        report = check_locks_report(st.settings, paths, schema=schema, since=since,
                                    assume_in_transaction=assume_in_transaction, pg_version=pg_version,
                                    database_url=database_url or st.database_url)
        raise typer.Exit(emit_report(report, st.output_format(fmt), title=TITLE))

    @app.command("rules")
    def rules(
        rule_id: Annotated[str | None, typer.Argument(
            help="A rule or check id (or a squawk/strong_migrations name).", show_default=False)] = None,
        markdown: Annotated[bool, typer.Option("--markdown", help="The whole catalog as Markdown (docs/rules.md).")]
        = False,
    ) -> None:
        """Every rule and check dbops reports, and their documentation."""
        st = state()
        if markdown:
            from dbops.cli.catalog import rule_catalog

            sys.stdout.write(rule_catalog().markdown())
            return
        if rule_id:
            st.console.print(rule_text(rule_id), markup=False, highlight=False)
            return
        print_catalog(st.console)


def rule_text(rule_id: str) -> str:
    """The documentation of one rule of the catalog (an id or an alias), for ``dbops rules ID``."""
    from dbops.cli.catalog import rule_catalog
    from dbops.errors import UsageError

    meta = rule_catalog().get(rule_id)
    if meta is None:
        raise UsageError(f"unknown rule {rule_id!r}", hint="`dbops rules` lists the rule ids")
    return meta.render()


def print_catalog(console: Any) -> None:
    """One table per check: id, default severity, title, aliases."""
    from rich.table import Table

    from dbops.cli.catalog import rule_catalog
    from dbops.cli.tables import print_table
    from dbops.findings.catalog import CHECK_TITLES

    for number, (check, metas) in enumerate(rule_catalog().by_check().items()):
        table = Table(title=CHECK_TITLES.get(check, check).replace("`", ""), title_justify="left",
                      header_style="bold", box=None)
        table.add_column("rule", no_wrap=True)
        table.add_column("severity")
        table.add_column("what it flags")
        table.add_column("aliases", style="dim", overflow="fold")
        for meta in metas:
            table.add_row(meta.id, meta.severity.value, meta.title, ", ".join(meta.aliases))
        if number:
            console.print()
        print_table(console, table)
    console.print("`dbops rules ID` prints one rule's documentation,\n`dbops rules --markdown` all of them.",
                  style="dim", markup=False)


def check_locks_report(settings: Any, paths: list[str] | None, *, schema: str | None = None,
                       since: str | None = None, assume_in_transaction: bool | None = None,
                       pg_version: int | None = None, database_url: str | None = None) -> Any:
    """The report of `dbops check locks` (``dbops.workflows.locks.check_locks``)."""
    from dbops.workflows.locks import check_locks

    return check_locks(settings, list(paths) if paths else None, schema=schema, since=since,
                       assume_in_transaction=assume_in_transaction, pg_version=pg_version,
                       database_url=database_url)


# --- the fast path ------------------------------------------------------------------------------


class Parsed:
    """The arguments of a ``[globals] check locks …`` call, by parameter name."""

    __slots__ = ("globals", "paths", "values")

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.values: dict[str, Any] = {}
        self.globals: dict[str, Any] = {}


def _spec(options: tuple[Opt, ...], arg: str) -> tuple[Opt, bool] | None:
    """The option ``arg`` names (and whether it is the ``off`` spelling of a flag)."""
    for opt in options:
        if arg in opt.flags:
            return opt, False
        if opt.off is not None and arg == opt.off:
            return opt, True
    return None


def _take(options: tuple[Opt, ...], args: list[str], i: int, into: dict[str, Any]) -> int | None:
    """Read the option at ``args[i]`` into ``into``; the next index, None when typer must handle it."""
    arg = args[i]
    name, eq, inline = arg.partition("=")
    found = _spec(options, name if eq and name.startswith("--") else arg)
    if found is None:
        return None
    opt, off = found
    if opt.kind == "flag":
        if eq:
            return None
        into[opt.dest] = not off
        return i + 1
    if eq and name.startswith("--"):
        raw = inline
    elif i + 1 < len(args):
        raw, i = args[i + 1], i + 1
    else:
        return None
    value = opt.value(raw)
    if value is None:
        return None
    into[opt.dest] = value
    return i + 1


def parse_args(args: list[str]) -> Parsed | None:
    """``[-q] [-f FMT] [--database-url URL] check locks [PATH…] [options]`` by the spec, else None.

    None means "let typer parse it": help, unknown or malformed options, ``--debug``, ``--``.

    >>> p = parse_args(["check", "locks", "a.sql", "--pg-version", "16", "--format=json"])
    >>> (p.paths, p.values)
    (['a.sql'], {'pg_version': 16, 'fmt': 'json'})
    >>> parse_args(["check", "locks", "a.sql", "--pg-version", "8"]) is None  # typer says why
    True
    """
    parsed = Parsed()
    i = 0
    while i < len(args) and args[i] != "check":
        step = _take(GLOBAL_OPTIONS, args, i, parsed.globals)
        if step is None:
            return None
        i = step
    if args[i:i + 2] != ["check", "locks"]:
        return None
    i += 2
    while i < len(args):
        arg = args[i]
        if arg == "-" or not arg.startswith("-"):
            parsed.paths.append(arg)
            i += 1
            continue
        step = _take(CHECK_LOCKS_OPTIONS, args, i, parsed.values)
        if step is None:
            return None
        i = step
    return parsed


def fast_check_locks(args: list[str]) -> int | None:
    """Run ``dbops check locks …`` without typer; None when the arguments are not the spec's.

    Errors propagate: ``dbops.cli.entry`` prints them as the typer application does.
    """
    parsed = parse_args(args)
    if parsed is None:
        return None
    from dbops.config import load_settings

    values = parsed.values
    settings = load_settings(env=dict(os.environ))
    report = check_locks_report(
        settings, parsed.paths or None, schema=values.get("schema"), since=values.get("since"),
        assume_in_transaction=values.get("assume_in_transaction"), pg_version=values.get("pg_version"),
        database_url=values.get("database_url") or parsed.globals.get("database_url"),
    )
    fmt = values.get("fmt") or parsed.globals.get("fmt") or "text"
    if fmt == "text":  # rich rendering: exactly the typer command's (its console, its renderer)
        from dbops.cli.common import emit_report, reset_state

        reset_state(quiet=bool(parsed.globals.get("quiet")))
        return emit_report(report, None, title=TITLE)
    return write_report(report, fmt)


def write_report(report: Any, fmt: str) -> int:
    """Write a machine format (json, sarif, github) to stdout; the report's exit code."""
    from dbops.findings import to_github, to_json, to_sarif

    if fmt == "json":
        sys.stdout.write(to_json(report) + "\n")
    elif fmt == "sarif":
        from dbops.cli.catalog import rule_catalog

        sys.stdout.write(to_sarif(report, rule_catalog()) + "\n")
    else:
        text = to_github(report)
        if text:
            sys.stdout.write(text + "\n")
    return report.exit_code()
