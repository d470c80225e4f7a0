"""No lock_timeout before the first lock on an existing table.

## What it does
Flags, once per migration, the first statement that takes a lock blocking
writes (SHARE or stronger) on a table that existed before the migration,
when `lock_timeout` has not been set (`SET lock_timeout = '2s'`, or
`SET LOCAL` in the same transaction). Migrations that only create new
objects are not flagged.

## Why is this bad?
A DDL statement that waits for its lock (behind a long query or an open
transaction) blocks every query that arrives after it on that table: one
slow report turns a 10 ms ALTER into a full outage. With `lock_timeout` the
statement gives up quickly and the migration can be retried.

## Example
```sql
ALTER TABLE users ADD COLUMN nickname text;
```

## Use instead
```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
```
(`dbops migrate create` puts `op.execute("SET lock_timeout = '2s'")` at the top
of every new Alembic revision.)
"""

from __future__ import annotations

from dbops.lint import locks as L
from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule

ID = "require-lock-timeout"
_FIX = Fix(sql="SET lock_timeout = '2s';", note="at the top of the migration, before its first lock:")


@rule(ID, squawk=("require-lock-timeout", "require-timeout-settings"))
def check(stmt: Stmt, ctx: Context) -> list[Violation] | None:  # every statement: no generator
    if ID in ctx.reported or ctx.lock_timeout_set():
        return None
    targets = _targets(stmt, ctx)
    if not targets:
        return None
    ctx.reported.add(ID)
    mode = max([stmt.lock, *stmt.other_locks.values()])
    return [Violation(
        f"first lock on existing {targets[0]} ({L.mode_name(mode)}) without lock_timeout: while it waits, every "
        "query on the table queues behind it",
        fix=_FIX,
    )]


def _targets(stmt: Stmt, ctx: Context) -> list[str]:
    """The existing relations ``stmt`` takes a write-blocking lock on."""
    targets: list[str] = []
    if stmt.lock >= L.SHARE:
        if stmt.kind is Kind.DROP_INDEX:
            targets = [n for n in stmt.index_names if n not in ctx.created_indexes]
        elif stmt.kind in (Kind.ALTER_INDEX, Kind.REINDEX) and stmt.index_name:
            targets = [] if stmt.index_name in ctx.created_indexes else [stmt.index_name]
        else:
            targets = [t for t in stmt.targets() if ctx.existing(t)]
    return targets + [t for t, mode in stmt.other_locks.items() if mode >= L.SHARE and ctx.existing(t)]
