"""Statements that are slow or wait for locks while an ACCESS EXCLUSIVE lock is held.

## What it does
Flags, once per transaction, a statement that runs while the same transaction already holds an
ACCESS EXCLUSIVE lock on an existing table (taken by an earlier ALTER TABLE, DROP, LOCK…) when
that statement

- is slow: it scans, rewrites, builds an index or copies rows (INSERT … SELECT, CREATE TABLE
  AS, VALIDATE, REFRESH…); or
- may wait for a lock, and no `lock_timeout` bounds the wait: DML on another table (INSERT,
  or UPDATE/DELETE/MERGE — those on existing tables are reported by
  `backfill-in-ddl-transaction`), a COMMENT on, a trigger on, or any ALTER of another existing
  table, a foreign key to another existing table.

The runner's own bookkeeping (`UPDATE alembic_version …`) is never flagged. The message names
the line where the lock was taken (the `op.*` line in an Alembic revision).

## Why is this bad?
Locks are held until COMMIT. A quick `ALTER TABLE … ADD COLUMN` takes ACCESS EXCLUSIVE for an
instant — but if the transaction then builds an index, copies rows, or queues behind a long
query for its next lock, the first table stays unreadable and unwritable for all that time, and
every query on it piles up.

## Example
```sql
BEGIN;
ALTER TABLE users ADD COLUMN nickname text;            -- ACCESS EXCLUSIVE on users, instant
CREATE INDEX users_nickname_idx ON users (nickname);     -- users unreadable for the whole build
ALTER TABLE orders ADD COLUMN note text;                 -- users blocked while this waits for orders
COMMIT;
```

## Use instead
Commit right after the statement that takes the ACCESS EXCLUSIVE lock and run the rest in its
own transaction (a later migration, an Alembic `autocommit_block()`, or batches); set
`lock_timeout` so that a wait for the next lock gives up quickly instead of blocking the table.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.findings import Severity
from dbops.lint import locks as L
from dbops.lint.context import Context, Transaction
from dbops.lint.facts.model import DML, Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule

ID = "statements-after-exclusive-lock"


@rule(ID, severity=Severity.WARNING)
def check(stmt: Stmt, ctx: Context) -> list[Violation] | None:  # every statement: no generator
    tx = ctx.tx
    if tx is None or tx.kind == "single" or not tx.exclusive or ID in tx.reported or stmt.kind is Kind.DO:
        return None  # a DO block is judged statement by statement
    if stmt.kind in DML and (ctx.bookkeeping(stmt.table) or (stmt.kind is not Kind.INSERT and ctx.existing(stmt.table))):
        return None  # the runner's own bookkeeping; UPDATE/DELETE backfills: backfill-in-ddl-transaction
    # A statement that itself takes ACCESS EXCLUSIVE on the same table is judged by its own rules.
    held = [(t, s) for t, s in tx.exclusive.items()
            if s is not stmt and not (t == stmt.table and stmt.lock >= L.ACCESS_EXCLUSIVE)]
    if not held:
        return None
    reason = _slow(stmt) or (None if ctx.lock_timeout_set() else _waits(stmt, ctx, tx))
    if reason is None:
        return None
    table, taker = held[0]
    tx.reported.add(ID)
    line = ctx.line_of(taker)
    return [Violation(
        f"{reason} while the transaction holds an ACCESS EXCLUSIVE lock on {table} (taken at line {line}): "
        f"{table} stays blocked until COMMIT",
        fix=_fix(ctx, line),
        details={"locked_table": table, "locked_at_line": line},
    )]


def _slow(stmt: Stmt) -> str | None:
    if stmt.slow:
        return "this statement is slow (scan, rewrite, index build or row copy) and runs"
    return None


def _waits(stmt: Stmt, ctx: Context, tx: Transaction) -> str | None:
    """Why the statement may wait for a lock on another existing table (none held by this transaction)."""
    for table, mode in _locks(stmt):
        if mode >= L.ROW_EXCLUSIVE and ctx.existing(table) and table not in tx.exclusive:
            if stmt.kind in DML:
                return f"{stmt.kind.value.upper()} on {table} can wait for the application's row and table locks"
            name = L.mode_name(mode)
            return f"this statement waits for {'an' if name[0] in 'AEIOU' else 'a'} {name} lock on {table}"
    return None


def _locks(stmt: Stmt) -> Iterator[tuple[str, int]]:
    for table in stmt.targets():
        yield table, stmt.lock
    yield from stmt.other_locks.items()


def _fix(ctx: Context, line: int | None) -> Fix:
    if ctx.syntax == "alembic":
        return Fix(note=f"end the transaction right after the lock taken at line {line}: move what follows into "
                   "its own revision or a `with op.get_context().autocommit_block():`, and set lock_timeout first")
    return Fix(note=f"COMMIT right after the statement that takes the lock (line {line}) and run this one in its "
               "own transaction (or the next migration); SET lock_timeout = '2s' bounds any wait")
