"""One error hierarchy for the whole tool.

Every error carries its exit code (docs/design.md "Exit codes": 2 bad usage/config/input,
3 database unreachable or refused) and a hint saying what to do next. Only
``dbops.cli`` catches them and prints them; capabilities just raise.
"""

from __future__ import annotations


class DbopsError(Exception):
    """Base class: a message, an optional location (``file:line``) and a hint."""

    exit_code = 2
    label = "error"  # how the CLI introduces the line

    def __init__(self, message: str, *, hint: str | None = None, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def one_line(self) -> str:
        """The user-facing line: ``location: message (hint)``."""
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text = f"{text} — {self.hint}"
        return text


class UsageError(DbopsError):
    """The command line is wrong (exit 2)."""


class ConfigError(DbopsError):
    """``[tool.dbops]`` or an environment setting is malformed (exit 2)."""


class InputError(DbopsError):
    """A file given to dbops (SQL, budgets.yaml, a revision) is malformed (exit 2)."""


class RefusedError(DbopsError):
    """dbops refuses an operation for safety (reset of a remote database…) (exit 2)."""


class DatabaseUnavailable(DbopsError):
    """The database cannot be reached or refused the connection (exit 3)."""

    exit_code = 3


class LocalDatabaseError(DbopsError):
    """The embedded PostgreSQL cluster cannot be initialised or started (exit 3)."""

    exit_code = 3


class OperationFailed(DbopsError):
    """An operation ran but did not succeed (a deploy that gave up, …) (exit 1)."""

    exit_code = 1


class Interrupted(DbopsError):
    """The user interrupted a long operation (Ctrl-C); the message says what was left behind (exit 130)."""

    exit_code = 130
    label = "interrupted"


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, else its type's name (no SQL dumps, no tracebacks).

    >>> first_line(ValueError("bad value\\nLINE 1: SELECT …"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
