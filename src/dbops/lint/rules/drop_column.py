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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import CONTRACT_ALEMBIC, CONTRACT_SQL, name

CONTRACT = Fix(sql=CONTRACT_SQL, alembic=CONTRACT_ALEMBIC,
               note="remove its uses from the code and deploy that first; then mark this migration contract-phase:")


@action_rule("drop-column", actions=(ActionKind.DROP_COLUMN,), squawk=("ban-drop-column",),
             strong_migrations=("remove_column",))
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if ctx.contract_phase():
        return
    yield Violation(
        f"dropping column {name(stmt)}.{action.column} breaks the application version still running "
        "(allowed only in a contract-phase migration)",
        fix=CONTRACT,
    )
