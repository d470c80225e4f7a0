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

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "validate-in-same-transaction",
    squawk=("constraint-missing-not-valid",),
    strong_migrations=("validate_foreign_key", "validate_check_constraint"),
    kinds=("alter_table",),
    actions=("validate_constraint",),
)
def check(stmt, ctx):
    if not ctx.in_transaction or not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "validate_constraint" and (stmt.table, action.name) in ctx.tx.not_valid:
            added = ctx.tx.not_valid[(stmt.table, action.name)]
            yield Violation(
                f"VALIDATE CONSTRAINT {action.name} runs in the same transaction as its NOT VALID add (line "
                f"{added.line}): the add's lock on {name(stmt)} is held through the whole validation scan",
                fix="commit between the NOT VALID add and the VALIDATE (a separate migration, or an "
                "autocommit_block() in Alembic)",
            )
