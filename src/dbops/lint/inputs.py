"""What the lint receives besides SQL text: a rendered Alembic revision, as a protocol.

A light module (no parser imports): callers type against it without loading the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class RevisionInput(Protocol):
    """One revision's upgrade as SQL, and what its file says to the lint."""

    @property
    def revision(self) -> str: ...

    @property
    def file(self) -> str:
        """The revision file as findings show it."""

    @property
    def sql(self) -> str:
        """The rendered SQL, framed ``BEGIN;`` … ``COMMIT;`` as the runner runs it."""

    @property
    def comments(self) -> Sequence[tuple[int, int, str, int]]:
        """``# dbops: …`` comments: (line, column, text after ``#``, code line it applies to)."""

    @property
    def phase(self) -> str | None: ...

    @property
    def render_error(self) -> tuple[str, int | None] | None:
        """(message, line) when rendering stopped early: the rest was not analysed."""

    def line_at(self, offset: int) -> int | None:
        """The revision-file line whose ``op.*`` call wrote the SQL at ``offset``."""
