"""RENAME of a column or table.

## What it does
Flags `ALTER TABLE … RENAME COLUMN a TO b` and `ALTER TABLE a RENAME TO b`
on a table that existed before the migration.

## Why is this bad?
The rename itself is instant, but it is backward-incompatible: the
application version still running during and after the deploy queries the
old name and fails until every instance is replaced. The guideline's
expand → migrate → contract policy has no step where a rename is safe.

## Example
```sql
ALTER TABLE clients RENAME COLUMN phone TO phone_number;
```

## Use instead
Add the new column (or a view with the new name), write both from the
application, backfill, switch reads, and drop the old one in a later
contract migration.
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "rename-object",
    squawk=("renaming-column", "renaming-table"),
    strong_migrations=("rename_column", "rename_table"),
    kinds=("alter_table",),
    actions=("rename_column", "rename_table"),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "rename_column":
            what = f"column {name(stmt)}.{action.column} to {action.name}"
        elif action.kind == "rename_table":
            what = f"table {name(stmt)} to {action.name}"
        else:
            continue
        yield Violation(
            f"renaming {what} breaks the application version that is still running",
            fix="expand/contract: add the new name, write both, backfill, switch reads, drop the old in a contract "
            "migration",
        )
