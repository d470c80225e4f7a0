"""DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+).

## What it does
Flags `ALTER TABLE parent DETACH PARTITION child` without `CONCURRENTLY`
when the target PostgreSQL version is 14 or later and the parent existed
before the migration.

## Why is this bad?
A plain DETACH takes an ACCESS EXCLUSIVE lock on the parent table: every
query on the partitioned table waits. `DETACH PARTITION … CONCURRENTLY`
(PostgreSQL 14+) takes SHARE UPDATE EXCLUSIVE on the parent instead.

## Example
```sql
ALTER TABLE appointment_audit_logs DETACH PARTITION appointment_audit_logs_p202401;
```

## Use instead
```sql
-- outside a transaction block
ALTER TABLE appointment_audit_logs DETACH PARTITION appointment_audit_logs_p202401 CONCURRENTLY;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule("require-concurrent-detach", kinds=("alter_table",), actions=("detach_partition",))
def check(stmt, ctx):
    if ctx.pg_version < 14 or not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "detach_partition" and not action.concurrently and "FINALIZE" not in action.text.upper():
            yield Violation(
                f"DETACH PARTITION {action.name} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on "
                f"{name(stmt)} (blocks all reads and writes)",
                fix=f"ALTER TABLE {name(stmt)} DETACH PARTITION {action.name} CONCURRENTLY;  -- outside a transaction",
            )
