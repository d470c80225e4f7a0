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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name


@action_rule("require-concurrent-detach", actions=(ActionKind.DETACH_PARTITION,))
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if ctx.pg_version < 14 or action.concurrently or "FINALIZE" in action.text.upper():
        return
    yield Violation(
        f"DETACH PARTITION {action.name} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on "
        f"{name(stmt)} (blocks all reads and writes)",
        fix=Fix(sql=f"ALTER TABLE {name(stmt)} DETACH PARTITION {action.name} CONCURRENTLY;",
                outside_transaction=True),
    )
