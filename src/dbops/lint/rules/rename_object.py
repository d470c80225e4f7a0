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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name

_FIX = Fix(note="expand/contract: add the new name, write both (a trigger keeps them in sync), backfill, switch "
           "reads, then drop the old one in a contract-phase migration")


@action_rule(
    "rename-object",
    actions=(ActionKind.RENAME_COLUMN, ActionKind.RENAME_TABLE),
    squawk=("renaming-column", "renaming-table"),
    strong_migrations=("rename_column", "rename_table"),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.kind is ActionKind.RENAME_COLUMN:
        what = f"column {name(stmt)}.{action.column} to {action.name}"
    else:
        what = f"table {name(stmt)} to {action.name}"
    yield Violation(f"renaming {what} breaks the application version that is still running", fix=_FIX)
