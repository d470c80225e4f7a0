"""REINDEX without CONCURRENTLY (PostgreSQL 12+).

## What it does
Flags `REINDEX INDEX|TABLE|SCHEMA|DATABASE` without `CONCURRENTLY` when the
target PostgreSQL version is 12 or later, unless the index/table was created
in the same migration.

## Why is this bad?
A plain REINDEX takes a SHARE lock on the table (writes wait) and an ACCESS
EXCLUSIVE lock on the index being rebuilt (queries using it wait) for the
whole rebuild. Since PostgreSQL 12, `REINDEX … CONCURRENTLY` rebuilds without
blocking reads or writes.

## Example
```sql
REINDEX INDEX users_email_idx;
```

## Use instead
```sql
REINDEX INDEX CONCURRENTLY users_email_idx;  -- outside a transaction block
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule


@rule("require-concurrent-reindex", kinds=("reindex",))
def check(stmt, ctx):
    if stmt.concurrently or ctx.pg_version < 12:
        return
    if stmt.index_name and stmt.index_name in ctx.created_indexes:
        return
    if stmt.table and not ctx.existing(stmt.table):
        return
    yield Violation(
        f"REINDEX {stmt.option or ''} {stmt.display or ''} without CONCURRENTLY blocks writes to the table and reads "
        "through the index for the whole rebuild".replace("  ", " "),
        fix=f"REINDEX {stmt.option or 'INDEX'} CONCURRENTLY {stmt.display or '…'};  -- outside a transaction block",
    )
