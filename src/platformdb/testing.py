"""Helpers for application tests: count the statements a piece of code sends (Django's ``assertNumQueries``).

    with assert_statements(db, 1):
        UserRepository(session, clinic_id).find_by_id(7)

Counted: every statement the code sends to the server through the database's
engine(s), one per ``execute`` (an ``executemany`` batch counts once). Not
counted: the statement each transaction starts with (timeouts, tenant, role),
which ``StatementLog.internal`` keeps. By default only the current thread's
statements are counted, so background threads cannot disturb a test.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    import sqlalchemy as sa

    from platformdb.database import AsyncDatabase, Database


@dataclass(frozen=True, slots=True)
class CapturedStatement:
    sql: str
    parameters: Any
    executemany: bool


@dataclass
class StatementLog:
    """The statements captured by ``count_statements``."""

    statements: list[CapturedStatement] = field(default_factory=list)
    internal: list[CapturedStatement] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def sql(self) -> list[str]:
        return [s.sql for s in self.statements]

    def describe(self) -> str:
        return "\n".join(f"  {i}. {' '.join(s.sql.split())}" for i, s in enumerate(self.statements, 1)) or "  (none)"


@contextlib.contextmanager
def count_statements(
    target: Database | AsyncDatabase | sa.Engine, *, all_threads: bool = False
) -> Iterator[StatementLog]:
    """Capture the statements sent through ``target`` (a Database, an AsyncDatabase or an Engine) while inside.

    A ``Database`` reports every statement to its ``statement_hooks`` (fed by
    SQLAlchemy's cursor events and by the fast path of hot statements); a bare
    ``Engine`` is observed through SQLAlchemy's ``before_cursor_execute`` event.
    """
    log = StatementLog()
    thread = threading.get_ident()

    def record(sql: str, parameters: Any, executemany: bool, internal: bool) -> None:
        if all_threads or threading.get_ident() == thread:
            (log.internal if internal else log.statements).append(CapturedStatement(sql, parameters, executemany))

    hooks = getattr(target, "statement_hooks", None)
    if hooks is not None:
        stop = hooks.add(lambda s: record(s.sql, s.parameters, s.executemany, s.internal) if s.error is None else None)
        try:
            yield log
        finally:
            stop()
        return
    engine = getattr(target, "sync_engine", target)

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        internal = context is not None and context.execution_options.get("platformdb_internal", False)
        record(statement, parameters, executemany, internal)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)


@contextlib.contextmanager
def assert_statements(
    target: Database | AsyncDatabase | sa.Engine, expected: int, *, all_threads: bool = False
) -> Iterator[StatementLog]:
    """Fail (AssertionError listing them) unless exactly ``expected`` statements are sent inside the block."""
    with count_statements(target, all_threads=all_threads) as log:
        yield log
    if log.count != expected:
        raise AssertionError(f"expected {expected} statement(s), {log.count} were executed:\n{log.describe()}")
