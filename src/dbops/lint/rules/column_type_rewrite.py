"""ALTER COLUMN TYPE that rewrites the table.

## What it does
Flags `ALTER TABLE … ALTER COLUMN c TYPE t` on an existing table unless the
change is known to be catalog-only. dbops knows the binary-coercible cases:
`varchar(n)` → `varchar(m ≥ n)` / `varchar` / `text`, `text` → `varchar`,
`numeric(p, s)` → `numeric(q ≥ p, s)` / `numeric`, a larger precision of
`timestamp`/`time`/`interval`, `varbit(n)` → `varbit(m ≥ n)`, `cidr` → `inet`,
`text`/`varchar` ↔ `citext`, `xml` → `text`. The current type comes from,
in order: the migrations seen so far in the run (an Alembic history is linted
from its first revision; `.sql` files from the first file given), and the
live database when `--database-url` is given.

## Why is this bad?
Any other type change rewrites the table and rebuilds its indexes while
holding an ACCESS EXCLUSIVE lock: no reads, no writes for the duration.
Shrinking a limit (`varchar(50)` → `varchar(20)`, `text` → `varchar(20)`)
rewrites too: PostgreSQL checks every value by rewriting. A `USING` clause
always rewrites.

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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.pgtypes import change_cost
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name

_FIX = Fix(note="expand/contract: add a new column of the new type, write both from the application, backfill in "
           "batches, switch reads, then drop the old column in a contract-phase migration")


@action_rule(
    "column-type-rewrite",
    actions=(ActionKind.ALTER_TYPE,),
    squawk=("changing-column-type",),
    strong_migrations=("change_column",),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.type is None:
        return
    old = ctx.catalog.column_type(stmt.table, action.column)
    cost = "rewrite" if action.using else change_cost(old, action.type)
    if cost == "none":
        return
    target = f"{name(stmt)}.{action.column}"
    new = action.type.sql()
    if old is None:
        message = (f"changing the type of {target} to {new} rewrites the table under an ACCESS EXCLUSIVE lock "
                   "unless the old type is binary-coercible (dbops does not know the current type: lint the whole "
                   "history, or give --database-url)")
    else:
        message = (f"changing {target} from {old.sql()} to {new}{' with USING' if action.using else ''} rewrites "
                   "the table and its indexes under an ACCESS EXCLUSIVE lock")
    yield Violation(message, fix=_FIX, details={"old_type": old.sql() if old else None, "new_type": new})
