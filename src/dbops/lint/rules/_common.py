"""Small helpers shared by rule modules (not a rule)."""

from __future__ import annotations

from dbops.lint import locks as L
from dbops.lint.facts import Stmt


def name(stmt: Stmt) -> str:
    return stmt.display or stmt.table or "?"


def lock_phrase(mode: int) -> str:
    return f"{L.mode_name(mode)} lock ({L.what_it_blocks(mode)})"
