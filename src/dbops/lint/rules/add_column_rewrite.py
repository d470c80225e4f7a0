"""ADD COLUMN serial / identity / GENERATED … STORED (rewrites the table).

## What it does
Flags adding a `serial`/`bigserial` column, a `GENERATED … AS IDENTITY`
column or a `GENERATED ALWAYS AS (expr) STORED` column to an existing table.

## Why is this bad?
Each of these must write a value into every existing row: PostgreSQL
rewrites the whole table (and its indexes) while holding an ACCESS EXCLUSIVE
lock — no reads, no writes, for as long as the rewrite takes.

## Example
```sql
ALTER TABLE orders ADD COLUMN seq bigserial;
ALTER TABLE orders ADD COLUMN total_eur numeric GENERATED ALWAYS AS (total_cents / 100.0) STORED;
```

## Use instead
Add a plain nullable column, fill it in batches, then attach the default /
sequence (or compute the value in a view or in the application):
```sql
ALTER TABLE orders ADD COLUMN seq bigint;
CREATE SEQUENCE orders_seq_seq OWNED BY orders.seq;
ALTER TABLE orders ALTER COLUMN seq SET DEFAULT nextval('orders_seq_seq');
-- backfill existing rows in batches
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name

_WHAT = {"serial": "a serial column", "identity": "an identity column", "stored": "a GENERATED … STORED column"}


@rule(
    "add-column-rewrite",
    squawk=("adding-field-with-default", "adding-serial-primary-key-field"),
    strong_migrations=("add_column_generated_stored", "add_column_auto_incrementing"),
    kinds=("alter_table",),
    actions=("add_column",),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind == "add_column" and action.generated in _WHAT:
            yield Violation(
                f"adding {_WHAT[action.generated]} {action.column} to {name(stmt)} rewrites the whole table under an "
                "ACCESS EXCLUSIVE lock (blocks all reads and writes)",
                fix="add a plain nullable column, backfill it in batches, then set its default/sequence",
            )
