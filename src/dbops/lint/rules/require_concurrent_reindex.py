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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule


@rule("require-concurrent-reindex", kinds=(Kind.REINDEX,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.concurrently or ctx.pg_version < 12:
        return
    if stmt.index_name and stmt.index_name in ctx.created_indexes:
        return
    if stmt.table and not ctx.existing(stmt.table):
        return
    target = f"{stmt.option or 'INDEX'} {stmt.display or ''}".strip()
    yield Violation(
        f"REINDEX {target} without CONCURRENTLY blocks writes to the table and reads through the index for the "
        "whole rebuild",
        fix=Fix(sql=f"REINDEX {stmt.option or 'INDEX'} CONCURRENTLY {stmt.display or '<name>'};",
                outside_transaction=True),
    )
