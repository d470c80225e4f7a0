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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import CONTRACT_ALEMBIC, CONTRACT_SQL, name

_FIX = Fix(sql=CONTRACT_SQL, alembic=CONTRACT_ALEMBIC,
           note="make the code handle NULL and deploy that first; then mark this migration contract-phase:")


@action_rule("drop-not-null", actions=(ActionKind.DROP_NOT_NULL,), squawk=("ban-drop-not-null",),
             strong_migrations=("change_column_null",))
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if ctx.contract_phase():
        return
    yield Violation(
        f"DROP NOT NULL on {name(stmt)}.{action.column} breaks code that assumes it is never NULL "
        "(allowed only in a contract-phase migration)",
        fix=_FIX,
    )
