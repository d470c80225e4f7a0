"""The studio's HTTP errors: a status, a one-line message for the page, and the form field at fault."""

from __future__ import annotations


class StudioError(Exception):
    """A request the studio answers with ``status`` and ``message`` (never a traceback)."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class NotFound(StudioError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message)
