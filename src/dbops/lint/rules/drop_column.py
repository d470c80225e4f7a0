"""DROP COLUMN outside a contract-phase migration.

## What it does
Flags `ALTER TABLE … DROP COLUMN` on an existing table, unless the migration
is marked as the contract phase (`-- dbops: phase=contract` in a SQL file,
`phase = "contract"` in an Alembic revision).

## Why is this bad?
Dropping a column is backward-incompatible: the application version still
running during the deploy reads and writes it (and ORMs select every mapped
column) and starts failing. The guideline's expand → migrate → contract
policy drops a column only after no deployed code uses it, in a migration
meant for that.

## Example
```sql
ALTER TABLE clients DROP COLUMN fax;
```

## Use instead
Stop using the column in the application first (deploy that), then drop it in
a migration marked as the contract phase:
```sql
-- dbops: phase=contract
ALTER TABLE clients DROP COLUMN fax;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "drop-column", squawk=("ban-drop-column",), strong_migrations=("remove_column",),
    kinds=("alter_table",),
    actions=("drop_column",),
)
def check(stmt, ctx):
    if ctx.contract_phase() or not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "drop_column":
            yield Violation(
                f"dropping column {name(stmt)}.{action.column} breaks the application version still running "
                "(allowed only in a contract-phase migration)",
                fix="remove its uses from the code first, then drop it in a migration marked `-- dbops: "
                "phase=contract` (Alembic: `phase = \"contract\"`)",
            )
