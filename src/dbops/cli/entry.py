"""The ``dbops`` console script: light fast paths first, then the typer application.

Importing typer and registering every command costs more than a warm
``dbops check locks`` takes; the fast path (``lint_cmds.fast_check_locks``)
parses that call with the command's own option spec and runs it with the light
lint modules only. It returns None for arguments it does not take (help,
malformed values, ``--debug``…), which then run through ``dbops.cli.main``.
Errors raised by the fast path are reported here exactly as ``dbops.cli.main``
reports them (one line, the error's exit code) — never by running the command
a second time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def run(argv: list[str] | None = None) -> int:
    """Run the CLI (``argv`` defaults to ``sys.argv[1:]``; exits when it is None)."""
    args = sys.argv[1:] if argv is None else argv
    code = None
    if args in (["--version"], ["-V"]):  # answered without loading typer
        from dbops import __version__

        sys.stdout.write(f"dbops {__version__}\n")
        code = 0
    elif "locks" in args:  # `dbops check locks …`: the one fast path today (other commands import nothing extra)
        from dbops.cli.lint_cmds import fast_check_locks

        code = guarded(fast_check_locks, list(args))
    if code is None:
        from dbops.cli.main import run as run_app

        return run_app(argv)
    if argv is None:
        sys.exit(code)
    return code


def guarded(command: Callable[[list[str]], int | None], args: list[str]) -> int | None:
    """Run ``command``; an error becomes the one line and exit code ``dbops.cli.main.run`` gives it.

    The wording and the redaction of secrets are ``dbops.cli.main``'s own (imported on the error
    path only: the fast path stays free of typer when all goes well).
    """
    from dbops.errors import DbopsError

    try:
        return command(args)
    except DbopsError as exc:
        from dbops.cli.main import redacted_line

        sys.stderr.write(redacted_line(exc) + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:  # an unexpected bug: one line (the fast path never takes --debug)
        from dbops.config.conninfo import redact

        text = str(exc).strip()
        sys.stderr.write(redact(f"internal error: {type(exc).__name__}: {text.splitlines()[0] if text else ''}")
                         + " (rerun with --debug for the traceback, and report it)\n")
        return 70
