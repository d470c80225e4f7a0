"""What every command shares: the run state, common options, report output.

Only typer and dbops' light modules are imported here; capability modules
are imported inside command functions so that ``dbops --help`` stays fast.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from dbops.config import ResolvedUrl, SchemaSettings, Settings
    from dbops.findings import Report


class OutputFormat(enum.StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


SchemaArg = Annotated[
    str | None, typer.Argument(help="healthcare or fashion; omit for both.", show_default=False, metavar="[SCHEMA]")
]
FormatOpt = Annotated[
    OutputFormat | None, typer.Option("--format", "-f", help="Output: text, json, sarif or github.", show_default=False)
]
DatabaseUrlOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (with a single SCHEMA); overrides env and config.", show_default=False),
]


@dataclass
class State:
    """Global options, set by the main callback; commands read it via ``state()``."""

    debug: bool = False
    quiet: bool = False
    format: OutputFormat = OutputFormat.text
    database_url: str | None = None
    _settings: Settings | None = None
    _console: Console | None = None
    _err_console: Console | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _noted: set[str] = field(default_factory=set)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from dbops.config import load_settings

            self._settings = load_settings(env=self.env)
        return self._settings

    @property
    def console(self) -> Console:
        """stdout: results."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True)  # long SQL lines stay whole in CI logs
        return self._console

    @property
    def err(self) -> Console:
        """stderr: progress, notes about URL sources, errors."""
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(stderr=True, highlight=False, quiet=self.quiet, soft_wrap=True)
        return self._err_console

    def output_format(self, override: OutputFormat | None) -> OutputFormat:
        return override or self.format

    def schemas(self, name: str | None) -> list[SchemaSettings]:
        return self.settings.select(name)

    def resolve(self, schema: SchemaSettings, url: str | None = None, *, single: bool) -> ResolvedUrl:
        """Resolve a schema's URL and say on stderr which source was used (password masked).

        With several schemas, a URL given for some of them (env, config) while another would
        fall back to the local database is refused: dbops never mixes them silently.
        """
        from dbops.config import resolve_url

        command = command_line()
        resolved = resolve_url(
            self.settings, schema, cli_url=url if url is not None else self.database_url, single_schema=single,
            env=self.env,
            command=command,
        )
        if not single and len(self.settings.schemas) > 1:
            self._refuse_mixed(command)
        self.note(resolved.describe())
        return resolved

    def _refuse_mixed(self, command: str) -> None:
        from dbops.config import resolve_url
        from dbops.errors import UsageError

        everyone = [resolve_url(self.settings, s, single_schema=False, env=self.env, command=command)
                    for s in self.settings.schemas.values()]
        given = [r for r in everyone if not r.is_local]
        missing = [r for r in everyone if r.is_local]
        if given and missing:
            from dbops.config.urls import command_with_schema

            first = given[0]
            unset = " / ".join(self.settings.schema(r.schema).url_env or f"tool.dbops.schemas.{r.schema}.url"
                               for r in missing)
            raise UsageError(
                f"{first.schema} has a database URL (from {first.source}) but "
                f"{', '.join(r.schema for r in missing)} has none: dbops will not use the local database for "
                f"{'them' if len(missing) > 1 else 'it'} in the same run",
                hint=f"name the schema (`{command_with_schema(command, first.schema)}`), or set {unset} too",
            )

    def url_for(self, schema: SchemaSettings, url: str | None = None, *, single: bool) -> str:
        """A usable URL for the schema: the resolved one, or the local database started on demand."""
        resolved = self.resolve(schema, url, single=single)
        if resolved.url:
            return resolved.url
        from dbops.localdb import ensure_database

        return ensure_database(self.settings, schema.database, log=self.note)

    def note(self, message: str) -> None:
        """A dim line on stderr, once per message per run (hidden with --quiet)."""
        if not self.quiet and message not in self._noted:
            from rich.markup import escape

            from dbops.config.conninfo import redact

            self._noted.add(message)
            self.err.print(f"[dim]{escape(redact(message))}[/dim]")


_STATE = State()
_COMMAND_LINE: list[str] = []
_GLOBAL_FLAGS = {"--debug", "--quiet", "-q", "--version"}
_GLOBAL_WITH_VALUE = {"--format", "-f", "--database-url"}


def set_command_line(args: list[str]) -> None:
    """Remember the arguments of this run (``run`` calls it), for hints that name the command run."""
    _COMMAND_LINE[:] = list(args)


def command_line() -> str:
    """What the user ran, for hints: ``dbops`` + command words + options, global options moved after
    the command, every URL-like value replaced by ``…`` (never a password).

    >>> set_command_line(["--debug", "--database-url", "postgresql://u:pw@h/x", "seed", "--scale", "10"])
    >>> command_line()
    'dbops seed --scale 10 --database-url …'
    """
    args = list(_COMMAND_LINE)
    moved: list[str] = []
    while args and args[0].startswith("-"):
        option = args.pop(0)
        name = option.split("=", 1)[0]
        if name in _GLOBAL_WITH_VALUE and "=" not in option and args:
            value = args.pop(0)
            if name == "--database-url":
                moved += [name, "…"]
            else:
                moved += [name, value]
        elif name == "--database-url":
            moved += [name, "…"]
        elif name not in _GLOBAL_FLAGS:
            moved.append(option)
    shown: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            shown.append("…")
            hide_next = False
        elif arg == "--database-url":
            shown.append(arg)
            hide_next = True
        elif arg.startswith("--database-url="):
            shown.append("--database-url …")
        elif "://" in arg or "password" in arg.lower() or "@" in arg:
            shown.append("…")
        else:
            shown.append(arg)
    return " ".join(["dbops", *shown, *moved])


def state() -> State:
    return _STATE


def reset_state(**kwargs: Any) -> State:
    """Fresh state for one invocation (tests call the CLI many times in one process)."""
    global _STATE
    _STATE = State(**kwargs)
    return _STATE


def emit_report(report: Report, fmt: OutputFormat | None = None, *, title: str = "", rule_docs: Any = None) -> int:
    """Print a report in the chosen format and return its exit code."""
    from dbops.findings import to_github, to_json, to_sarif

    st = state()
    chosen = st.output_format(fmt)
    if chosen is OutputFormat.json:
        sys.stdout.write(to_json(report) + "\n")
    elif chosen is OutputFormat.sarif:
        if rule_docs is None:  # the rule descriptors come from the one rule catalog
            from dbops.cli.catalog import rule_catalog

            rule_docs = rule_catalog()
        sys.stdout.write(to_sarif(report, rule_docs) + "\n")
    elif chosen is OutputFormat.github:
        text = to_github(report)
        if text:
            sys.stdout.write(text + "\n")
    else:
        from dbops.cli.render import render_report

        render_report(st.console, report, title=title)
    return report.exit_code()
