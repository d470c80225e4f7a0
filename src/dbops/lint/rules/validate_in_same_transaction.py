"""VALIDATE CONSTRAINT in the same transaction as its NOT VALID add.

## What it does
Flags `ALTER TABLE … VALIDATE CONSTRAINT c` when `c` was added `NOT VALID`
earlier in the same transaction.

## Why is this bad?
The point of NOT VALID is to take the strong lock only for an instant and to
validate later under SHARE UPDATE EXCLUSIVE. In one transaction, the lock
taken by the ADD (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both
tables for a foreign key) is held until COMMIT — through the whole
validation scan. You get the long lock anyway.

## Example
```sql
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_client_fk FOREIGN KEY (client_id) REFERENCES clients NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_client_fk;
COMMIT;
```

## Use instead
Commit between the two (two migrations, or an Alembic `autocommit_block()`
around the VALIDATE).
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name


@action_rule(
    "validate-in-same-transaction",
    actions=(ActionKind.VALIDATE_CONSTRAINT,),
    squawk=("constraint-missing-not-valid",),
    strong_migrations=("validate_foreign_key", "validate_check_constraint"),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    key = (stmt.table or "", action.name or "")
    if not ctx.in_transaction or ctx.tx is None or key not in ctx.tx.not_valid:
        return
    added = ctx.tx.not_valid[key]
    yield Violation(
        f"VALIDATE CONSTRAINT {action.name} runs in the same transaction as its NOT VALID add (line "
        f"{ctx.line_of(added)}): the add's lock on {name(stmt)} is held through the whole validation scan",
        fix=Fix(sql=f"ALTER TABLE {name(stmt)} VALIDATE CONSTRAINT {action.name};", outside_transaction=True,
                note="commit between the NOT VALID add and the VALIDATE (the next migration, or:)"),
    )
