"""ADD COLUMN with a volatile default (or any default before PostgreSQL 11).

## What it does
Flags `ALTER TABLE … ADD COLUMN … DEFAULT expr` on an existing table when the
default is volatile (`gen_random_uuid()`, `random()`, `clock_timestamp()`,
`nextval()`…) or a function dbops cannot prove non-volatile — and any
default when the target PostgreSQL version is older than 11.

## Why is this bad?
Since PostgreSQL 11 a non-volatile default (a constant, `now()`) is stored in
the catalog and the ADD COLUMN is instant. A volatile default must be
computed per row: the whole table is rewritten under an ACCESS EXCLUSIVE lock
(no reads, no writes) — and so is any default before PostgreSQL 11.

## Example
```sql
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();
```

## Use instead
```sql
ALTER TABLE users ADD COLUMN token uuid;                      -- instant
ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();  -- new rows only
-- then backfill existing rows in batches, outside the DDL transaction
UPDATE users SET token = gen_random_uuid() WHERE id BETWEEN 1 AND 10000 AND token IS NULL;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "add-column-volatile-default",
    squawk=("adding-field-with-default",),
    strong_migrations=("add_column_default", "add_column_default_callable"),
    kinds=("alter_table",),
    actions=("add_column",),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.kind != "add_column" or not action.has_default or action.generated:
            continue
        if ctx.pg_version < 11:
            why = f"any DEFAULT rewrites the table before PostgreSQL 11 (target: {ctx.pg_version})"
        elif action.default_volatile:
            why = f"the volatile default {action.default_sql} is computed per row: the table is rewritten"
        elif action.default_volatile is None:
            why = f"dbops cannot prove the default {action.default_sql} is not volatile (a volatile default rewrites the table)"
        else:
            continue
        yield Violation(
            f"ADD COLUMN {action.column} on {name(stmt)}: {why} under an ACCESS EXCLUSIVE lock",
            fix=f"ALTER TABLE {name(stmt)} ADD COLUMN {action.column} {action.type.sql() if action.type else '…'}; "
            f"ALTER TABLE {name(stmt)} ALTER COLUMN {action.column} SET DEFAULT {action.default_sql}; "
            "then backfill in batches",
        )
