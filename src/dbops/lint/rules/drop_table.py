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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import CONTRACT_ALEMBIC, CONTRACT_SQL

_FIX = Fix(sql=CONTRACT_SQL, alembic=CONTRACT_ALEMBIC,
           note="stop using it and deploy that first; then mark this migration contract-phase:")


@rule("drop-table", squawk=("ban-drop-table",), kinds=(Kind.DROP_TABLE,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if ctx.contract_phase():
        return
    existing = [t for t in stmt.tables if ctx.existing(t)]
    if existing:
        yield Violation(
            f"dropping table {', '.join(existing)} breaks the application version still running and loses its "
            "data (allowed only in a contract-phase migration)",
            fix=_FIX,
        )
