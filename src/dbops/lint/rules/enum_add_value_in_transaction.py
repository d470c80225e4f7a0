"""ALTER TYPE … ADD VALUE inside a transaction before PostgreSQL 12.

## What it does
Flags `ALTER TYPE … ADD VALUE` inside a transaction block when the target
PostgreSQL version is older than 12.

## Why is this bad?
Before PostgreSQL 12 the statement fails with "ALTER TYPE … ADD cannot run
inside a transaction block": the migration stops half-way. (From 12 on it
works, but the new value cannot be used before COMMIT.)

## Example
```sql
BEGIN;
ALTER TYPE order_status ADD VALUE 'REFUNDED';
COMMIT;
```

## Use instead
Run it outside a transaction (Alembic: `autocommit_block()`), or target
PostgreSQL 12+.
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule


@rule("enum-add-value-in-transaction", kinds=("enum_add_value",))
def check(stmt, ctx):
    if ctx.pg_version < 12 and ctx.in_transaction:
        yield Violation(
            f"ALTER TYPE {stmt.display} ADD VALUE cannot run inside a transaction block before PostgreSQL 12 "
            f"(target: {ctx.pg_version})",
            fix="run it outside the transaction (Alembic: `with op.get_context().autocommit_block():`)",
        )
