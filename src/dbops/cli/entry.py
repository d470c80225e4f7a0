"""The ``dbops`` console script: light fast paths first, then the typer application.

Importing typer and registering every command costs more than a warm
``dbops check locks`` takes; the fast path (``lint_cmds.fast_check_locks``)
answers that call with the light lint modules only and returns None for
anything else, which then runs through ``dbops.cli.main`` exactly as before.
"""

from __future__ import annotations

import sys


def run(argv: list[str] | None = None) -> int:
    """Run the CLI (``argv`` defaults to ``sys.argv[1:]``; exits when it is None)."""
    args = sys.argv[1:] if argv is None else argv
    code = None
    if "locks" in args:  # `dbops check locks …`: the one fast path today (other commands import nothing extra)
        from dbops.cli.lint_cmds import fast_check_locks

        try:
            code = fast_check_locks(list(args))
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            code = 130
    if code is None:
        from dbops.cli.main import run as run_app

        return run_app(argv)
    if argv is None:
        sys.exit(code)
    return code
