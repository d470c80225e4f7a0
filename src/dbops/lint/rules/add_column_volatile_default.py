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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import name


@action_rule(
    "add-column-volatile-default",
    actions=(ActionKind.ADD_COLUMN,),
    squawk=("adding-field-with-default",),
    strong_migrations=("add_column_default", "add_column_default_callable"),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if not action.has_default or action.generated:
        return
    if ctx.pg_version < 11:
        why = f"any DEFAULT rewrites the table before PostgreSQL 11 (target: {ctx.pg_version})"
    elif action.default_volatile:
        why = f"the volatile default {action.default_sql} is computed per row: the table is rewritten"
    elif action.default_volatile is None:
        why = f"dbops cannot prove the default {action.default_sql} is not volatile (a volatile default rewrites the table)"
    else:
        return
    table = name(stmt)
    yield Violation(
        f"ADD COLUMN {action.column} on {table}: {why} under an ACCESS EXCLUSIVE lock",
        fix=Fix(
            sql=f"ALTER TABLE {table} ADD COLUMN {action.column} {action.type.sql() if action.type else '<type>'};\n"
            f"ALTER TABLE {table} ALTER COLUMN {action.column} SET DEFAULT {action.default_sql};",
            note=f"instant: the default applies to new rows; backfill the existing ones in batches "
            f"(`dbops backfill <schema> {stmt.table} --set \"{action.column} = {action.default_sql}\"`)",
        ),
    )
