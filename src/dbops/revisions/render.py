"""Revisions rendered to SQL offline: one at a time for the lint, or a whole upgrade for ``deploy --dry-run``.

``render_revision`` runs one revision's ``upgrade()`` against an offline
(``as_sql``) MigrationContext. Its SQL is framed by ``BEGIN;``/``COMMIT;`` as
Alembic runs a revision in a transaction, and ``autocommit_block()`` emits
its own ``COMMIT;`` … ``BEGIN;``, so the lint's transaction model sees
exactly the boundaries production will. While rendering, every write is
tagged with the line of the revision file that caused it (the ``op.*``
call), so findings point at ``versions/xxxx.py:LINE``.

What else the lint needs from the revision file comes along as plain data:
its ``# dbops: …`` comments with the code line each applies to (the comment's
own line, or the next code line for a comment on a line of its own), and a
module-level ``phase = "contract"``. The lint (``dbops.lint``) parses the
directives; it never imports this package.
"""

from __future__ import annotations

import bisect
import io
import sys
import tokenize as pytokenize
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from dbops.config import SchemaSettings, Settings, display_path
from dbops.errors import first_line
from dbops.revisions.config import alembic_config
from dbops.revisions.history import History

if TYPE_CHECKING:
    from dbops.revisions.env import RunHooks

#: The prefix of the comments that carry lint directives (``# dbops: ignore[rule] reason``).
DIRECTIVE_PREFIX = "dbops:"


@dataclass(frozen=True)
class RenderedRevision:
    """One revision's ``upgrade()`` as offline SQL, and what the lint needs from its file.

    Plain data: the lint reads it through its own protocol (``dbops.lint.RevisionInput``).
    """

    revision: str
    file: str  # as displayed (relative to the project root)
    sql: str
    #: (offset in ``sql``, revision line) of each write, offsets ascending; line None: not from the file
    op_lines: tuple[tuple[int, int | None], ...]
    #: ``# dbops: …`` comments: (comment line, column (1-based), text after ``#``, code line it applies to)
    comments: tuple[tuple[int, int, str, int], ...]
    #: ``phase = "…"`` at module level, when set
    phase: str | None = None
    #: (message, revision line) when ``upgrade()`` raised: what follows was not rendered
    render_error: tuple[str, int | None] | None = None

    def line_at(self, offset: int) -> int | None:
        """The revision line that wrote the SQL at ``offset``."""
        pos = bisect.bisect_right(self.op_lines, offset, key=lambda mark: mark[0]) - 1
        return self.op_lines[pos][1] if pos >= 0 else None


class _Recorder(io.StringIO):
    """An output buffer that remembers which revision line produced each write."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.marks: list[tuple[int, int | None]] = []

    def write(self, text: str) -> int:
        frame = sys._getframe(1)
        line = None
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                line = frame.f_lineno
                break
            frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
        self.marks.append((self.tell(), line))
        return super().write(text)


def render_revision(module: ModuleType, path: Path, *, revision: str, display: str) -> RenderedRevision:
    """The SQL of one revision's ``upgrade()`` in offline mode, with transaction boundaries."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    recorder = _Recorder(str(path))
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": recorder, "literal_binds": True, "transactional_ddl": True},
    )
    error = None
    recorder.write("BEGIN;\n\n")
    try:
        with Operations.context(context):
            module.upgrade()
    except Exception as exc:  # e.g. op.get_bind() data migrations: not renderable offline
        line = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(path):
                line = tb.tb_lineno
            tb = tb.tb_next
        error = (f"{type(exc).__name__}: {first_line(exc)[:160]}", line)
    recorder.write("COMMIT;\n\n")
    source = path.read_text(encoding="utf-8", errors="replace")
    phase = getattr(module, "phase", None)
    return RenderedRevision(revision, display, recorder.getvalue(), tuple(recorder.marks), directive_comments(source),
                            phase if isinstance(phase, str) else None, error)


def directive_comments(source: str) -> tuple[tuple[int, int, str, int], ...]:
    """The ``# dbops: …`` comments of a Python file, each with the code line it applies to.

    >>> directive_comments("x = 1  # dbops: ignore[a] why\\n# dbops: ignore[b] why\\ny = 2\\n")
    ((1, 8, ' dbops: ignore[a] why', 1), (2, 1, ' dbops: ignore[b] why', 3))
    """
    if DIRECTIVE_PREFIX not in source:
        return ()
    try:
        tokens = list(pytokenize.generate_tokens(io.StringIO(source).readline))
    except (pytokenize.TokenError, SyntaxError):
        return ()
    code_lines: set[int] = set()
    comments = []
    for tok in tokens:
        if tok.type == pytokenize.COMMENT:
            if DIRECTIVE_PREFIX in tok.string:
                comments.append(tok)
        elif tok.type not in (pytokenize.NL, pytokenize.NEWLINE, pytokenize.INDENT, pytokenize.DEDENT,
                              pytokenize.ENDMARKER):
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    out = []
    for tok in comments:
        line = tok.start[0]
        target = line
        if line not in code_lines:  # a comment line: applies to the next code line
            following = [n for n in code_lines if n > line]
            target = min(following) if following else line
        out.append((line, tok.start[1] + 1, tok.string.lstrip("#"), target))
    return tuple(out)


def render_history(settings: Settings, history: History) -> list[RenderedRevision]:
    """Every revision of ``history``, base to heads, rendered for the lint."""
    rendered = []
    for rev in history.in_order(set(history.revisions)):
        entry = history.revisions[rev]
        path = entry.path.resolve()
        rendered.append(render_revision(history.module(rev), path, revision=rev,
                                        display=display_path(path, settings.root)))
    return rendered


def upgrade_sql(settings: Settings, schema: SchemaSettings, url: str, start: str | None, hooks: RunHooks) -> str:
    """The SQL ``alembic upgrade [start:]heads --sql`` prints (Alembic's offline mode), with dbops' hooks."""
    from alembic import command

    config = alembic_config(settings, schema, url)
    buffer = io.StringIO()
    config.output_buffer = buffer
    config.attributes["dbops_hooks"] = hooks
    command.upgrade(config, f"{start}:heads" if start else "heads", sql=True)
    return buffer.getvalue()
