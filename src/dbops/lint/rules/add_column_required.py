"""ADD COLUMN … NOT NULL without a default.

## What it does
Flags adding a `NOT NULL` column without a `DEFAULT` to an existing table.

## Why is this bad?
Existing rows would hold NULL in the new column, so PostgreSQL rejects the
statement on any non-empty table: the deploy fails (after having waited for
an ACCESS EXCLUSIVE lock). It passes in development, where the table is
empty, and fails in production.

## Example
```sql
ALTER TABLE patients ADD COLUMN phone text NOT NULL;
```

## Use instead
```sql
-- a constant default is instant since PostgreSQL 11
ALTER TABLE patients ADD COLUMN phone text NOT NULL DEFAULT '';
-- or: add it nullable, backfill, then add a CHECK (phone IS NOT NULL) NOT VALID,
-- VALIDATE it, and SET NOT NULL (see `dbops rules set-not-null`)
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "add-column-required",
    squawk=("adding-required-field",),
    kinds=("alter_table",),
    actions=("add_column",),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "add_column" and action.not_null and not action.has_default and not action.generated:
            yield Violation(
                f"ADD COLUMN {action.column} NOT NULL without a DEFAULT fails on a non-empty {name(stmt)}",
                fix=f"ALTER TABLE {name(stmt)} ADD COLUMN {action.column} {action.type.sql() if action.type else '…'} "
                "NOT NULL DEFAULT <constant>;  -- or add it nullable, backfill, then set NOT NULL safely",
            )
