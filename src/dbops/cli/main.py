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
    from types import TracebackType

    from click import ClickException

    from dbops.errors import DbopsError

app = typer.Typer(
    name="dbops",
    help="Operate the platform's PostgreSQL databases: migrations that never take long locks, "
    "hot queries inside their budgets, healthy indexes.",
    no_args_is_help=True,
    # --install-completion / --show-completion (bash, zsh, fish, PowerShell): typer adds two options; the
    # completion itself is answered by the same program with _DBOPS_COMPLETE set (no extra start-up cost).
    add_completion=True,
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


def _print_version(value: bool) -> None:
    """``--version``/``-V``: eager, so it answers before typer asks for a command."""
    if value:
        typer.echo(version_line())
        raise typer.Exit(0)


def version_line() -> str:
    from dbops import __version__

    return f"dbops {__version__}"


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results, no notes or progress.")] = False,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Default output format for reports.")
    ] = OutputFormat.text,
    database_url: DatabaseUrlOpt = None,
    version: Annotated[bool, typer.Option(
        "--version", "-V", help="Print the version and exit.", is_eager=True, callback=_print_version,
    )] = False,
) -> None:
    st = reset_state(debug=debug, quiet=quiet, format=fmt, database_url=database_url)
    del st, version


for module in (db_cmds, typegen_cmds, schema_cmds, studio_cmds, lint_cmds, health_cmds, budget_cmds, scale_cmds):
    module.register(app, check_app)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; map errors to exit codes (docs/design.md "Exit codes") and print them on one line,
    secrets redacted. ``--debug`` adds the traceback (redacted too) but never changes the exit code.
    """
    from dbops.cli.common import set_command_line
    from dbops.errors import DbopsError

    # typer may vendor click (typer._click): take the classes from typer itself.
    click_exception: type[ClickException] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    set_command_line(args)
    if "dbops.config.conninfo" in sys.modules:  # the secrets of this run only (tests run the CLI many times
        sys.modules["dbops.config.conninfo"].forget_secrets()  # in one process); not imported: none yet
    install_redacting_hooks()
    try:
        result = app(args=args, prog_name="dbops", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except click_exception as exc:
        import io

        from dbops.config.conninfo import redact

        shown = io.StringIO()
        exc.show(file=shown)  # the usage error may quote an argument (a URL given without --database-url)
        sys.stderr.write(redact(shown.getvalue()))
        code = exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        code = 1
    except DbopsError as exc:
        if debug:
            _print_traceback(exc)
        sys.stderr.write(redacted_line(exc) + "\n")
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        if debug:
            _print_traceback(exc)
        sys.stderr.write("interrupted\n")
        code = 130
    except Exception as exc:  # an unexpected bug: one line unless --debug
        if debug:
            _print_traceback(exc)
        from dbops.config.conninfo import redact

        text = str(exc).strip()
        sys.stderr.write(redact(f"internal error: {type(exc).__name__}: {text.splitlines()[0] if text else ''}")
                         + " (rerun with --debug for the traceback, and report it)\n")
        code = 70
    if argv is None:
        sys.exit(code)
    return code


def redacted_line(exc: DbopsError) -> str:
    """``label: location: message — hint`` with secrets removed (the hint is dbops' own text: only known
    secrets are removed from it, its example URLs stay readable)."""
    from dbops.config.conninfo import redact

    text = redact(f"{exc.location}: {exc.message}" if exc.location else exc.message)
    if exc.hint:
        text = f"{text} — {redact(exc.hint, structural=False)}"
    return f"{exc.label}: {text}"


def _print_traceback(exc: BaseException) -> None:
    import traceback

    from dbops.config.conninfo import redact

    sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    sys.stderr.flush()


def install_redacting_hooks() -> None:
    """Tracebacks printed outside ``run`` (an uncaught error, a failing thread) are redacted too."""
    import threading
    import traceback

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        from dbops.config.conninfo import redact

        sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))

    def thread_excepthook(hook_args: threading.ExceptHookArgs) -> None:
        from dbops.config.conninfo import redact

        if hook_args.exc_type is SystemExit:
            return
        name = hook_args.thread.name if hook_args.thread else "a thread"
        text = "".join(traceback.format_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback))
        sys.stderr.write(redact(f"exception in {name}:\n{text}"))

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
