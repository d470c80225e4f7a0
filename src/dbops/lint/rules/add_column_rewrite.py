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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name

_WHAT = {"serial": "a serial column", "identity": "an identity column", "stored": "a GENERATED … STORED column"}
_PLAIN = {"int2": "smallint", "int4": "integer", "int8": "bigint"}


@action_rule(
    "add-column-rewrite",
    actions=(ActionKind.ADD_COLUMN,),
    squawk=("adding-field-with-default",),
    strong_migrations=("add_column_generated_stored", "add_column_auto_incrementing"),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.generated not in _WHAT:
        return
    yield Violation(
        f"adding {_WHAT[action.generated]} {action.column} to {name(stmt)} rewrites the whole table under an "
        "ACCESS EXCLUSIVE lock (blocks all reads and writes)",
        fix=_fix(stmt, action),
    )


def _fix(stmt: Stmt, action: Action) -> Fix:
    table, column = name(stmt), action.column
    type_sql = action.type.sql() if action.type else "bigint"
    plain = _PLAIN.get(type_sql, type_sql)
    if action.generated == "stored":
        return Fix(sql=f"ALTER TABLE {table} ADD COLUMN {column} {plain};",
                   note="a plain nullable column is instant; fill it in batches and keep it current from the "
                   "application or a trigger (or compute it in a view)")
    sequence = f"{stmt.table}_{column}_seq"
    return Fix(
        sql=f"ALTER TABLE {table} ADD COLUMN {column} {plain};\n"
        f"CREATE SEQUENCE {sequence} AS {plain} OWNED BY {table}.{column};\n"
        f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT nextval('{sequence}');",
        note="instant: a nullable column, then a default for new rows; backfill the existing rows in batches",
    )
