"""ALTER TYPE … ADD VALUE in a transaction before PostgreSQL 12, or its new value used before COMMIT.

## What it does
Flags `ALTER TYPE … ADD VALUE` inside a transaction block when the target PostgreSQL version is
older than 12, and — on any version — a later statement of the same transaction that uses the
value just added.

## Why is this bad?
Before PostgreSQL 12 the statement fails with "ALTER TYPE … ADD cannot run inside a transaction
block": the migration stops half-way. From 12 on it runs, but the new value cannot be used
until the transaction commits: the later statement fails with "unsafe use of new value".

## Example
```sql
BEGIN;
ALTER TYPE order_status ADD VALUE 'REFUNDED';
UPDATE orders SET status = 'REFUNDED' WHERE refunded_at IS NOT NULL;  -- unsafe use of new value
COMMIT;
```

## Use instead
Add the value in its own transaction (Alembic: `with op.get_context().autocommit_block():`) and
use it in a later migration.
"""

from __future__ import annotations

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule


@rule("enum-add-value-in-transaction")
def check(stmt: Stmt, ctx: Context) -> list[Violation] | None:  # every statement: no generator
    tx = ctx.tx
    if tx is None or tx.kind == "single" or (not tx.enum_values and stmt.kind is not Kind.ENUM_ADD_VALUE):
        return None
    if stmt.kind is Kind.ENUM_ADD_VALUE:  # BEFORE/AFTER a value added earlier in the transaction is fine
        if ctx.pg_version >= 12:
            return None
        return [Violation(
            f"ALTER TYPE {stmt.display} ADD VALUE cannot run inside a transaction block before PostgreSQL 12 "
            f"(target: {ctx.pg_version})",
            fix=Fix(sql=stmt.text.rstrip(";") + ";", outside_transaction=True),
        )]
    for value, added in tx.enum_values.items():
        if _quoted(value) in stmt.text:
            return [Violation(
                f"uses the enum value '{value}' added in the same transaction (line {ctx.line_of(added)}): "
                "PostgreSQL refuses it before COMMIT (unsafe use of new value)",
                fix=Fix(sql=added.text.rstrip(";") + ";", outside_transaction=True,
                        note="add the value in its own transaction, and use it in a later migration:"),
            )]
    return None


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
