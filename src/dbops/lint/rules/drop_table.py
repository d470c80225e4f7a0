"""DROP TABLE outside a contract-phase migration.

## What it does
Flags `DROP TABLE` of a table that existed before the migration, unless the
migration is marked as the contract phase (`-- dbops: phase=contract`,
`phase = "contract"` in an Alembic revision).

## Why is this bad?
The running application may still query the table; the drop also takes an
ACCESS EXCLUSIVE lock on it and on tables whose foreign keys point to it.
Data is gone for good: dropping belongs to a deliberate contract step.

## Example
```sql
DROP TABLE legacy_sessions;
```

## Use instead
```sql
-- dbops: phase=contract
DROP TABLE legacy_sessions;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule("drop-table", squawk=("ban-drop-table",), kinds=("drop_table",))
def check(stmt, ctx):
    if ctx.contract_phase():
        return
    existing = [t for t in stmt.tables if ctx.existing(t)]
    if existing:
        yield Violation(
            f"dropping table {name(stmt)} breaks the application version still running and loses its data "
            "(allowed only in a contract-phase migration)",
            fix="stop using it first, then drop it in a migration marked `-- dbops: phase=contract`",
        )
