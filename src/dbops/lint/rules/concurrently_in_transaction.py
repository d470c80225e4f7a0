"""CONCURRENTLY inside a transaction block (the migration fails).

## What it does
Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
`REINDEX … CONCURRENTLY` and `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`
when they run inside a transaction: after `BEGIN`, in a file your runner wraps
in a transaction (`--assume-in-transaction`), inside a DO block, or in an
Alembic revision outside `autocommit_block()`.

## Why is this bad?
PostgreSQL refuses them there ("cannot run inside a transaction block"): the
deploy fails half-way. Worse, a runner that catches it may retry without
CONCURRENTLY.

## Example
```sql
BEGIN;
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
COMMIT;
```

## Use instead
```python
# Alembic
with op.get_context().autocommit_block():
    op.create_index("users_email_idx", "users", ["email"], postgresql_concurrently=True)
```
For plain SQL files, put the statement in its own file that your runner does
not wrap in a transaction (e.g. `-- dbops: no-transaction`).
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule


@rule(
    "concurrently-in-transaction",
    squawk=("ban-concurrent-index-creation-in-transaction",),
    kinds=("create_index", "drop_index", "reindex", "alter_table"),
    actions=("detach_partition",),
)
def check(stmt, ctx):
    if not ctx.in_transaction:
        return
    concurrent = stmt.concurrently or any(a.kind == "detach_partition" and a.concurrently for a in stmt.actions)
    if not concurrent:
        return
    where = "a DO block" if ctx.tx.kind == "do" else "a transaction block"
    what = {"create_index": "CREATE INDEX CONCURRENTLY", "drop_index": "DROP INDEX CONCURRENTLY",
            "reindex": "REINDEX CONCURRENTLY"}.get(stmt.kind, "DETACH PARTITION CONCURRENTLY")
    yield Violation(
        f"{what} cannot run inside {where}: the migration will fail",
        fix="run it outside the transaction (Alembic: `with op.get_context().autocommit_block():`; "
        "SQL: a separate file the runner does not wrap in a transaction)",
    )
