"""The ``dbops`` entry point: global options, command registration, error handling.

Each command group lives in its own ``*_cmds`` module with a ``register(app)``
function; those modules import their capability inside the command bodies.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli import (
    budget_cmds,
    db_cmds,
    health_cmds,
    lint_cmds,
    scale_cmds,
    schema_cmds,
    studio_cmds,
    typegen_cmds,
)
from dbops.cli.common import DatabaseUrlOpt, OutputFormat, reset_state

if TYPE_CHECKING:
    from click import ClickException

app = typer.Typer(
    name="dbops",
    help="Operate the platform's PostgreSQL databases: migrations that never take long locks, "
    "hot queries inside their budgets, healthy indexes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
check_app = typer.Typer(
    help="CI checks: lock safety, index health, query budgets (exit 1 on findings).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(check_app, name="check")


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results, no notes or progress.")] = False,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Default output format for reports.")
    ] = OutputFormat.text,
    database_url: DatabaseUrlOpt = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    st = reset_state(debug=debug, quiet=quiet, format=fmt, database_url=database_url)
    del st
    if version:
        from dbops import __version__

        typer.echo(f"dbops {__version__}")
        raise typer.Exit(0)


for module in (db_cmds, typegen_cmds, schema_cmds, studio_cmds, lint_cmds, health_cmds, budget_cmds, scale_cmds):
    module.register(app, check_app)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; map errors to exit codes (docs/design.md "Exit codes") and print them on one line."""
    from dbops.errors import DbopsError

    # typer may vendor click (typer._click): take the classes from typer itself.
    click_exception: type[ClickException] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = app(args=args, prog_name="dbops", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except click_exception as exc:
        exc.show()
        code = exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        code = 1
    except DbopsError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc.one_line()}\n")
        code = exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        code = 130
    except Exception as exc:  # an unexpected bug: one line unless --debug
        if debug:
            raise
        from dbops.config.urls import mask_url

        sys.stderr.write(f"internal error: {type(exc).__name__}: {mask_url(str(exc)).splitlines()[0] if str(exc) else ''}"
                         " (rerun with --debug for the traceback, and report it)\n")
        code = 70
    if argv is None:
        sys.exit(code)
    return code
