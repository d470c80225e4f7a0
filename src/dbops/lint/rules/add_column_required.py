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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name, placeholder_default


@action_rule("add-column-required", actions=(ActionKind.ADD_COLUMN,), squawk=("adding-required-field",))
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if not action.not_null or action.has_default or action.generated:
        return
    type_sql = action.type.sql() if action.type else "<type>"
    yield Violation(
        f"ADD COLUMN {action.column} NOT NULL without a DEFAULT fails on a non-empty {name(stmt)}",
        fix=Fix(
            sql=f"ALTER TABLE {name(stmt)} ADD COLUMN {action.column} {type_sql} NOT NULL "
            f"DEFAULT {placeholder_default(type_sql)};",
            note="a constant default is instant since PostgreSQL 11; or add the column nullable, backfill it, "
            "then SET NOT NULL safely (`dbops rules set-not-null`)",
        ),
    )
