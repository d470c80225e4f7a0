"""LOCK TABLE in a migration.

## What it does
Flags an explicit `LOCK TABLE` in a mode that blocks writes (SHARE or
stronger; the default mode is ACCESS EXCLUSIVE) on an existing table.

## Why is this bad?
The lock is held until the end of the transaction, on top of whatever the
following statements take. Most migrations do not need it; when one does (to
fix a lock order and avoid deadlocks) it deserves a suppression with the
reason.

## Example
```sql
LOCK TABLE orders;
```

## Use instead
Let each statement take the lock it needs, with `lock_timeout` set; or
suppress with a reason: `-- dbops: ignore[lock-table] fixes the lock order`.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.findings import Severity
from dbops.lint import locks as L
from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule


@rule("lock-table", severity=Severity.WARNING, kinds=(Kind.LOCK,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.lock < L.SHARE or not any(ctx.existing(t) for t in stmt.tables):
        return
    yield Violation(
        f"LOCK TABLE {stmt.display} IN {stmt.option} MODE {L.what_it_blocks(stmt.lock)} until the end of the "
        "transaction",
        fix=Fix(note="remove it, or say why it is needed: "
                + ctx.suppression("lock-table", "<why the lock is needed, and why it is short>")),
    )
