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

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "set-not-null",
    squawk=("adding-not-nullable-field",),
    strong_migrations=("change_column_null",),
    kinds=("alter_table",),
    actions=("set_not_null",),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind != "set_not_null":
            continue
        if ctx.pg_version >= 12 and (stmt.table, action.column) in ctx.catalog.validated_not_null:
            continue
        constraint = f"{stmt.table}_{action.column}_not_null"
        yield Violation(
            f"SET NOT NULL on {name(stmt)}.{action.column} scans the whole table under an ACCESS EXCLUSIVE lock",
            fix=(
                f"ALTER TABLE {name(stmt)} ADD CONSTRAINT {constraint} CHECK ({action.column} IS NOT NULL) NOT VALID; "
                f"then (another transaction) ALTER TABLE {name(stmt)} VALIDATE CONSTRAINT {constraint}; "
                f"ALTER TABLE {name(stmt)} ALTER COLUMN {action.column} SET NOT NULL; "
                f"ALTER TABLE {name(stmt)} DROP CONSTRAINT {constraint};"
                if ctx.pg_version >= 12
                else "upgrade to PostgreSQL 12+ to use a validated CHECK constraint, or keep a CHECK constraint instead"
            ),
        )
