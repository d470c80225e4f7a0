"""DROP INDEX without CONCURRENTLY.

## What it does
Flags `DROP INDEX` without `CONCURRENTLY`, unless the index was created
earlier in the same migration.

## Why is this bad?
`DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table: while it
waits for running queries to finish, every new read and write of the table
queues behind it. `DROP INDEX CONCURRENTLY` waits for conflicting
transactions without blocking others.

## Example
```sql
DROP INDEX users_email_idx;
```

## Use instead
```sql
-- outside a transaction (Alembic: op.get_context().autocommit_block())
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix, alembic_drop_index
from dbops.lint.registry import Violation, rule


@rule(
    "require-concurrent-index-drop",
    squawk=("require-concurrent-index-deletion",),
    strong_migrations=("remove_index",),
    kinds=(Kind.DROP_INDEX,),
)
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.concurrently:
        return
    shown = dict(zip(stmt.index_names, (stmt.display or "").split(", "), strict=False))
    existing = [shown.get(n, n) for n in stmt.index_names if n not in ctx.created_indexes]
    if not existing:
        return
    yield Violation(
        f"DROP INDEX {', '.join(existing)} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table "
        "(blocks all reads and writes while it waits)",
        fix=Fix(sql="\n".join(f"DROP INDEX CONCURRENTLY IF EXISTS {n};" for n in existing),
                alembic=alembic_drop_index(existing), outside_transaction=True),
    )
