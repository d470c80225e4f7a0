"""What the comments of a migration say: suppressions, its phase, "no transaction" markers.

``-- dbops: ignore[rule-id, …] reason`` on a statement (the line above it, or on it) suppresses
those rules there; ``-- dbops: ignore-file[rule-id] reason`` anywhere suppresses them in the
whole file; ``-- dbops: phase=contract`` marks a contract-phase migration. Alembic revisions say
the same with ``#`` comments (``dbops.lint.revisions``).

>>> parse_directive(" dbops: ignore[require-concurrent-index] small table")
('ignore', ('require-concurrent-index',), 'small table')
>>> parse_directive(" dbops: ignore-file[drop-column, drop-table] -- legacy tables")
('ignore-file', ('drop-column', 'drop-table'), 'legacy tables')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dbops.lint.sqltext import Comment, LineIndex, RawStatement

_DIRECTIVE = re.compile(r"^\s*dbops:\s*(ignore-file|ignore)\s*(?:\[([^\]]*)\])?\s*(.*?)\s*$", re.S)
_PHASE = re.compile(r"^\s*dbops:\s*phase\s*=\s*([A-Za-z_-]+)")
_MALFORMED = re.compile(r"^\s*dbops:\s*(ignore|ignore-file)\b")
# squawk's own suppressions (``-- squawk-ignore rule-a, rule-b``, ``-- squawk-ignore-file``): honoured for
# the dbops rules that have those squawk names as aliases, so a project moving from squawk keeps its decisions.
_SQUAWK = re.compile(r"^\s*squawk-ignore(-file)?\b\s*([\w\s,-]*)")
SQUAWK_NEEDLE = "squawk-ignore"


@dataclass
class Suppression:
    rules: tuple[str, ...]
    reason: str
    line: int
    column: int
    file_level: bool
    used: bool = False
    foreign: bool = False  # another tool's syntax (squawk-ignore): no reason required, unknown names ignored


@dataclass
class Directives:
    """Suppressions per statement (by its number) and for the file, the phase, no-transaction.

    Statement-level suppressions wait in ``pending`` (by offset) until ``attach`` gives them to
    the statement whose comment region holds them: statements can be read one at a time.
    """

    by_statement: dict[int, list[Suppression]] = field(default_factory=dict)
    file_level: list[Suppression] = field(default_factory=list)
    phase: str | None = None
    no_transaction: bool = False
    problems: list[tuple[int, int, str]] = field(default_factory=list)  # (line, column, message)
    pending: list[tuple[int, Suppression]] = field(default_factory=list)  # (comment offset, suppression)
    _next: int = 0  # the first pending suppression not attached yet

    def all(self) -> list[Suppression]:
        return [*self.file_level, *(s for group in self.by_statement.values() for s in group)]

    def any(self) -> bool:
        return bool(self.file_level or self.by_statement)

    def attach(self, number: int, raw: RawStatement) -> None:
        """Give statement ``number`` the suppressions in its region (from the end of the previous
        statement's line to the end of the line of its own ``;``); earlier ones had no statement."""
        pending = self.pending
        while self._next < len(pending) and pending[self._next][0] <= raw.stop_line_end:
            offset, sup = pending[self._next]
            self._next += 1
            if offset >= raw.region_start:
                self.by_statement.setdefault(number, []).append(sup)


def parse_directive(body: str) -> tuple[str, tuple[str, ...], str] | None:
    """``ignore[rule-a, rule-b] reason`` → (kind, rules, reason); None when it is not one."""
    match = _DIRECTIVE.match(body)
    if not match:
        return None
    rules = tuple(r.strip() for r in (match.group(2) or "").split(",") if r.strip())
    return match.group(1), rules, match.group(3).strip().strip("-—:").strip()


def read_directives(comments: Iterable[Comment], index: LineIndex, markers: tuple[str, ...]) -> Directives:
    """The ``dbops:`` comments and no-transaction ``markers`` among a SQL text's comments (in order).

    Statement-level suppressions are left ``pending`` for ``Directives.attach``.
    """
    directives = Directives()
    for comment in comments:
        body = comment.body
        if any(m in body for m in markers):
            directives.no_transaction = True
        if "dbops:" in body:
            _directive(directives, comment, index)
        elif SQUAWK_NEEDLE in body:
            _squawk_directive(directives, comment, index)
    return directives


def _squawk_directive(directives: Directives, comment: Comment, index: LineIndex) -> None:
    match = _SQUAWK.match(comment.body)
    if match is None:
        return
    names = tuple(f"squawk:{n.strip()}" for n in match.group(2).split(",") if n.strip())
    line, column = index.position(comment.start)
    sup = Suppression(names, "squawk-ignore", line, column, bool(match.group(1)), foreign=True)
    if sup.file_level:
        directives.file_level.append(sup)
    else:
        directives.pending.append((comment.start, sup))


def attach_all(directives: Directives, statements: Iterable[RawStatement]) -> None:
    """``attach`` for every statement of a list, numbered from 0."""
    for number, raw in enumerate(statements):
        directives.attach(number, raw)


def _directive(directives: Directives, comment: Comment, index: LineIndex) -> None:
    body = comment.body
    line, column = index.position(comment.start)
    phase = _PHASE.match(body)
    if phase:
        directives.phase = phase.group(1).lower()
        return
    parsed = parse_directive(body)
    if parsed is None:
        if _MALFORMED.match(body):
            directives.problems.append((line, column, "malformed suppression: use `dbops: ignore[rule-id] reason`"))
        return
    kind, rules, reason = parsed
    sup = Suppression(rules, reason, line, column, kind == "ignore-file")
    if sup.file_level:
        directives.file_level.append(sup)
    else:
        directives.pending.append((comment.start, sup))
