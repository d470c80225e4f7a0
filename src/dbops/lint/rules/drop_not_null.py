"""DROP NOT NULL outside a contract-phase migration.

## What it does
Flags `ALTER TABLE … ALTER COLUMN c DROP NOT NULL` on an existing table,
unless the migration is marked as the contract phase.

## Why is this bad?
Code that is still deployed assumes the column is never NULL; once NULLs
appear it breaks (null dereferences, wrong aggregates). Relaxing a
constraint is a contract step of expand → migrate → contract, after all code
handles NULL.

## Example
```sql
ALTER TABLE patients ALTER COLUMN phone DROP NOT NULL;
```

## Use instead
```sql
-- dbops: phase=contract
ALTER TABLE patients ALTER COLUMN phone DROP NOT NULL;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "drop-not-null", squawk=("ban-drop-not-null",), strong_migrations=("change_column_null",),
    kinds=("alter_table",),
    actions=("drop_not_null",),
)
def check(stmt, ctx):
    if ctx.contract_phase() or not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "drop_not_null":
            yield Violation(
                f"DROP NOT NULL on {name(stmt)}.{action.column} breaks code that assumes it is never NULL "
                "(allowed only in a contract-phase migration)",
                fix="make the code handle NULL first, then do it in a migration marked `-- dbops: phase=contract`",
            )
