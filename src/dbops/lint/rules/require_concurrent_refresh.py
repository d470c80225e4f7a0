"""REFRESH MATERIALIZED VIEW without CONCURRENTLY.

## What it does
Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` on a materialized
view that existed before the migration.

## Why is this bad?
A plain refresh holds an ACCESS EXCLUSIVE lock on the view for the whole
recomputation: every query reading it waits. `CONCURRENTLY` (which needs a
unique index on the view) takes EXCLUSIVE, which still allows reads.

## Example
```sql
REFRESH MATERIALIZED VIEW clinic_stats;
```

## Use instead
```sql
REFRESH MATERIALIZED VIEW CONCURRENTLY clinic_stats;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.findings import Severity
from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule


@rule("require-concurrent-refresh", severity=Severity.WARNING, kinds=(Kind.REFRESH_MATVIEW,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.concurrently or not ctx.existing(stmt.table):
        return
    yield Violation(
        f"REFRESH MATERIALIZED VIEW {stmt.display} without CONCURRENTLY blocks every read of it until done",
        fix=Fix(sql=f"REFRESH MATERIALIZED VIEW CONCURRENTLY {stmt.display};",
                note="CONCURRENTLY needs a unique index on the view (one that covers every row)"),
    )
