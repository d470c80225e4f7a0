"""UPDATE/DELETE backfill inside a DDL transaction.

## What it does
Flags `UPDATE`, `DELETE` and `MERGE` of an existing table in a transaction
that also changes the schema of an existing table (takes a lock that blocks
writes: ALTER TABLE, CREATE INDEX, …).

## Why is this bad?
The DDL's lock is held until COMMIT, so the whole backfill runs with the
table blocked; and a large UPDATE in one transaction also holds row locks on
every row it touches, bloats the table and makes the migration impossible to
resume. Backfills belong in batches, outside the schema change.

## Example
```sql
BEGIN;
ALTER TABLE clients ADD COLUMN is_active boolean;
UPDATE clients SET is_active = true;
COMMIT;
```

## Use instead
```sql
ALTER TABLE clients ADD COLUMN is_active boolean DEFAULT true;  -- constant default: instant
-- or backfill in a separate migration, in batches:
UPDATE clients SET is_active = true WHERE id BETWEEN 1 AND 10000 AND is_active IS NULL;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.findings import Severity
from dbops.lint.context import Context, Transaction
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "backfill-in-ddl-transaction",
    severity=Severity.WARNING,
    strong_migrations=("add_column_default",),
    kinds=(Kind.UPDATE, Kind.DELETE),
)
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    tx = ctx.tx
    if tx is None or tx.kind == "single" or not ctx.existing(stmt.table):
        return
    yield Violation(
        f"{stmt.kind.value.upper()} of existing table {name(stmt)} runs in the same transaction as a schema "
        "change: the DDL lock is held for the whole backfill",
        fix=Fix(note=f"move the backfill to its own migration and run it in batches of ~10,000 rows, outside the "
                f"schema change (`dbops backfill <schema> {stmt.table} --set \"…\"`)"),
        when=_takes_ddl_lock,  # before or after this statement, in the same transaction
    )


def _takes_ddl_lock(tx: Transaction) -> bool:
    return tx.ddl
