"""SET NOT NULL without a validated CHECK constraint.

## What it does
Flags `ALTER TABLE … ALTER COLUMN c SET NOT NULL` on an existing table unless
a validated `CHECK (c IS NOT NULL)` constraint is known to exist (added and
validated earlier in this migration or in an earlier migration of the run)
and the target PostgreSQL version is 12 or later.

## Why is this bad?
SET NOT NULL scans the whole table to prove there is no NULL while holding an
ACCESS EXCLUSIVE lock: no reads, no writes for the duration of the scan.
Since PostgreSQL 12 the scan is skipped when a validated CHECK constraint
already proves it — and that constraint can be added without a long lock.

## Example
```sql
ALTER TABLE appointments ALTER COLUMN doctor_id SET NOT NULL;
```

## Use instead
```sql
ALTER TABLE appointments ADD CONSTRAINT appointments_doctor_id_not_null
    CHECK (doctor_id IS NOT NULL) NOT VALID;              -- instant
-- in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes continue)
ALTER TABLE appointments VALIDATE CONSTRAINT appointments_doctor_id_not_null;
ALTER TABLE appointments ALTER COLUMN doctor_id SET NOT NULL;  -- no scan (PG12+)
ALTER TABLE appointments DROP CONSTRAINT appointments_doctor_id_not_null;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import constraint_name, name


@action_rule(
    "set-not-null",
    actions=(ActionKind.SET_NOT_NULL,),
    squawk=("adding-not-nullable-field",),
    strong_migrations=("change_column_null",),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if ctx.pg_version >= 12 and (stmt.table, action.column) in ctx.catalog.validated_not_null:
        return
    yield Violation(
        f"SET NOT NULL on {name(stmt)}.{action.column} scans the whole table under an ACCESS EXCLUSIVE lock",
        fix=_fix(stmt, action, ctx),
    )


def _fix(stmt: Stmt, action: Action, ctx: Context) -> Fix:
    table, column = name(stmt), action.column or "<column>"
    if ctx.pg_version < 12:
        return Fix(note="PostgreSQL 12+ skips the scan when a validated CHECK (… IS NOT NULL) exists; before 12, "
                   "keep a NOT VALID + VALIDATE'd CHECK constraint instead of SET NOT NULL")
    constraint = constraint_name(stmt.table or "t", [column], "not_null")
    return Fix(
        sql=f"ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({column} IS NOT NULL) NOT VALID;",
        then=f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};\n"
        f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;\n"
        f"ALTER TABLE {table} DROP CONSTRAINT {constraint};",
    )
