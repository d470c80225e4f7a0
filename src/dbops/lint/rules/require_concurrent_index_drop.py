"""DROP INDEX without CONCURRENTLY.

## What it does
Flags `DROP INDEX` without `CONCURRENTLY`, unless the index was created
earlier in the same migration.

## Why is this bad?
`DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table: while it
waits for running queries to finish, every new read and write of the table
queues behind it. `DROP INDEX CONCURRENTLY` waits for conflicting
transactions without blocking others.

## Example
```sql
DROP INDEX users_email_idx;
```

## Use instead
```sql
-- outside a transaction (Alembic: op.get_context().autocommit_block())
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule


@rule(
    "require-concurrent-index-drop",
    squawk=("require-concurrent-index-deletion",),
    strong_migrations=("remove_index",),
    kinds=("drop_index",),
)
def check(stmt, ctx):
    if stmt.concurrently:
        return
    existing = [n for n in stmt.index_names if n not in ctx.created_indexes]
    if not existing:
        return
    yield Violation(
        f"DROP INDEX {', '.join(existing)} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table "
        "(blocks all reads and writes while it waits)",
        fix=f"DROP INDEX CONCURRENTLY IF EXISTS {', '.join(existing)};  -- outside a transaction block",
    )
