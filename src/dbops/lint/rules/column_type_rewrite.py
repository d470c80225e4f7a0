"""ALTER COLUMN TYPE that rewrites (or scans) the table.

## What it does
Flags `ALTER TABLE … ALTER COLUMN c TYPE t` on an existing table unless the
change is known to be catalog-only. dbops knows the binary-coercible cases:
`varchar(n)` → `varchar(m ≥ n)` / `varchar` / `text`, `text` → `varchar`,
`numeric(p, s)` → `numeric(q ≥ p, s)` / `numeric`, a larger precision of
`timestamp`/`time`/`interval`, `cidr` → `inet`. The current type comes from
the migrations seen so far (run dbops on the whole migration history, or the
column's CREATE/ADD in the same file).

## Why is this bad?
Any other type change rewrites the table and rebuilds its indexes while
holding an ACCESS EXCLUSIVE lock: no reads, no writes for the duration.
Shrinking a limit (`varchar(50)` → `varchar(20)`) does not rewrite but scans
every row under the same lock. A `USING` clause always rewrites.

## Example
```sql
ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint;  -- from integer
```

## Use instead
Expand and contract: add a new column of the new type, write both columns
from the application, backfill in batches, switch reads, then drop the old
column in a later (contract) migration.
"""

from __future__ import annotations

from dbops.lint.pgtypes import change_cost
from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "column-type-rewrite",
    squawk=("changing-column-type",),
    strong_migrations=("change_column",),
    kinds=("alter_table",),
    actions=("alter_type",),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind != "alter_type" or action.type is None:
            continue
        old = ctx.catalog.column_type(stmt.table, action.column)
        cost = "rewrite" if action.default_sql == "USING" else change_cost(old, action.type)
        if cost == "none":
            continue
        target = f"{name(stmt)}.{action.column}"
        if cost == "unknown":
            message = (f"changing the type of {target} to {action.type.sql()} rewrites the table under an ACCESS "
                       "EXCLUSIVE lock unless the old type is binary-coercible (dbops does not know the current type)")
        elif cost == "scan":
            message = (f"changing {target} from {old.sql()} to {action.type.sql()} checks every row under an "
                       "ACCESS EXCLUSIVE lock")
        else:
            message = (f"changing {target} {'from ' + old.sql() + ' ' if old else ''}to {action.type.sql()} rewrites "
                       "the table and its indexes under an ACCESS EXCLUSIVE lock")
        yield Violation(message, fix="add a new column of the new type, backfill it in batches, switch the "
                        "application, then drop the old column in a contract migration")
