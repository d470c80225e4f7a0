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
        """Resolve a schema's URL and say on stderr which source was used (password masked)."""
        from dbops.config import resolve_url

        resolved = resolve_url(
            self.settings, schema, cli_url=url or self.database_url, single_schema=single, env=self.env
        )
        self.note(resolved.describe())
        return resolved

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
            self._noted.add(message)
            self.err.print(f"[dim]{message}[/dim]")


_STATE = State()


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
        sys.stdout.write(to_sarif(report, rule_docs) + "\n")
    elif chosen is OutputFormat.github:
        text = to_github(report)
        if text:
            sys.stdout.write(text + "\n")
    else:
        from dbops.cli.render import render_report

        render_report(st.console, report, title=title)
    return report.exit_code()
