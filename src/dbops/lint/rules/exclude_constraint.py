"""ADD EXCLUDE constraint on an existing table.

## What it does
Flags `ALTER TABLE … ADD CONSTRAINT … EXCLUDE USING …` on a table that
existed before the migration.

## Why is this bad?
An exclusion constraint builds its index and checks every row while holding
an ACCESS EXCLUSIVE lock, and — unlike UNIQUE — it cannot be attached to an
index built concurrently beforehand, nor added NOT VALID. On a big table
that is a long outage.

## Example
```sql
ALTER TABLE doctor_availability ADD CONSTRAINT no_overlap
    EXCLUDE USING gist (doctor_id WITH =, slot WITH &&);
```

## Use instead
Create the constraint together with the table (a new table, backfilled and
swapped in), or enforce the rule with a unique index built CONCURRENTLY / a
trigger, and accept the exclusion constraint only on new tables.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name


@action_rule("exclude-constraint", actions=(ActionKind.ADD_CONSTRAINT,),
             strong_migrations=("add_exclusion_constraint",))
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.constraint != "exclude":
        return
    yield Violation(
        f"EXCLUDE constraint on existing table {name(stmt)} builds and checks under an ACCESS EXCLUSIVE lock "
        "and has no concurrent form",
        fix=Fix(note=f"add it when the table is created, or enforce the rule another way; if the table is small "
                f"enough, say so: {ctx.suppression('exclude-constraint', '<rows, and why the lock is short>')}"),
    )
