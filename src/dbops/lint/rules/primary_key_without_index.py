"""ADD PRIMARY KEY (or a column added with PRIMARY KEY) without USING INDEX.

## What it does
Flags `ALTER TABLE … ADD PRIMARY KEY (…)` and `ALTER TABLE … ADD COLUMN … PRIMARY KEY` (for
example `ADD COLUMN id serial PRIMARY KEY`) on an existing table, unless the key reuses a unique
index built beforehand (`ADD CONSTRAINT … PRIMARY KEY USING INDEX …`).

## Why is this bad?
The primary key builds its unique index — and checks that the key columns hold no NULL —
while holding an ACCESS EXCLUSIVE lock on the table: no reads, no writes for the whole build.
A `serial` column added with it also rewrites the table (`add-column-rewrite`).

## Example
```sql
ALTER TABLE events ADD PRIMARY KEY (id);
ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;
```

## Use instead
```sql
-- the key columns NOT NULL first (a validated CHECK makes SET NOT NULL instant: set-not-null)
CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);   -- outside a transaction
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;  -- instant
```
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import constraint_name, key_columns, name
from dbops.lint.rules.unique_without_index import unique_index_fix


@action_rule(
    "primary-key-without-index",
    actions=(ActionKind.ADD_CONSTRAINT, ActionKind.ADD_COLUMN),
    squawk=("adding-serial-primary-key-field",),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.constraint != "primary_key" or action.using_index:
        return
    adding = action.kind is ActionKind.ADD_COLUMN
    columns = [action.column] if adding and action.column else key_columns(action.text, "PRIMARY KEY")
    index = action.name or constraint_name(stmt.table or "t", [], "pkey")
    what = f"ADD COLUMN {action.column} … PRIMARY KEY" if adding else "ADD PRIMARY KEY"
    yield Violation(
        f"{what} on existing table {name(stmt)} builds the primary key's unique index (and checks NOT NULL) under "
        "an ACCESS EXCLUSIVE lock (blocks all reads and writes)",
        fix=_fix(stmt, action, index, columns),
    )


def _fix(stmt: Stmt, action: Action, index: str, columns: list[str]) -> Fix:
    fix = unique_index_fix(stmt, action, index, columns, "PRIMARY KEY")
    note = ("the key columns must be NOT NULL first (a validated CHECK (… IS NOT NULL) makes SET NOT NULL instant: "
            "`dbops rules set-not-null`)")
    if action.kind is ActionKind.ADD_COLUMN:
        note = ("add the column as a plain nullable bigint with a default for new rows, backfill it in batches, "
                "make it NOT NULL safely; then build the unique index concurrently and attach it as the key")
    return Fix(fix.sql, fix.alembic, fix.outside_transaction, fix.then, fix.then_alembic, note)
