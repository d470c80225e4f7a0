"""Slow statements after an ACCESS EXCLUSIVE lock in the same transaction.

## What it does
Flags a statement that scans, rewrites, builds an index or copies rows
(INSERT … SELECT, CREATE TABLE AS, VALIDATE, REFRESH…) when the same
transaction already holds an ACCESS EXCLUSIVE lock on an existing table
(taken by an earlier ALTER TABLE, DROP, LOCK…). Reported once per
transaction. UPDATE/DELETE backfills are reported by
`backfill-in-ddl-transaction` instead.

## Why is this bad?
Locks are held until COMMIT. A quick `ALTER TABLE … ADD COLUMN` takes ACCESS
EXCLUSIVE for an instant — but if the transaction then builds an index or
updates a million rows, the table stays unreadable and unwritable for all
that time.

## Example
```sql
BEGIN;
ALTER TABLE users ADD COLUMN nickname text;            -- ACCESS EXCLUSIVE, instant
CREATE INDEX users_nickname_idx ON users (nickname);     -- users unreadable for the whole build
COMMIT;
```

## Use instead
Commit right after the statement that takes the ACCESS EXCLUSIVE lock, and
run the slow part in its own transaction (a later migration, an
`autocommit_block()`, or batches).
"""

from __future__ import annotations

from dbops.findings import Severity
from dbops.lint import locks as L
from dbops.lint.registry import Violation, rule

ID = "statements-after-exclusive-lock"


@rule(ID, severity=Severity.WARNING)
def check(stmt, ctx):
    tx = ctx.tx
    if tx is None or tx.kind == "single" or not tx.exclusive or not stmt.slow or ID in tx.reported:
        return
    # A DO block is judged statement by statement; UPDATE/DELETE backfills by backfill-in-ddl-transaction.
    if stmt.kind in ("do", "update", "delete") and (stmt.kind == "do" or ctx.existing(stmt.table)):
        return
    # A statement that itself takes ACCESS EXCLUSIVE on the same table is judged by its own rules.
    held = [(t, s) for t, s in tx.exclusive.items()
            if s is not stmt and not (t == stmt.table and stmt.lock >= L.ACCESS_EXCLUSIVE)]
    if not held:
        return
    table, taker = held[0]
    tx.reported.add(ID)
    yield Violation(
        f"this statement is slow (scan, rewrite, index build or backfill) and runs while the transaction holds an "
        f"ACCESS EXCLUSIVE lock on {table} (taken at line {taker.line}): {table} stays blocked until COMMIT",
        fix="commit right after the statement that takes the ACCESS EXCLUSIVE lock; run this one in its own "
        "transaction",
    )
