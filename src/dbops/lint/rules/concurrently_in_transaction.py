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

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Kind, Stmt
from dbops.lint.fixes import Fix, alembic_create_index, alembic_drop_index
from dbops.lint.registry import Violation, action_rule, rule
from dbops.lint.rules._common import name

ID = "concurrently-in-transaction"
_WHAT = {Kind.CREATE_INDEX: "CREATE INDEX CONCURRENTLY", Kind.DROP_INDEX: "DROP INDEX CONCURRENTLY",
         Kind.REINDEX: "REINDEX CONCURRENTLY"}


@rule(ID, squawk=("ban-concurrent-index-creation-in-transaction",),
      kinds=(Kind.CREATE_INDEX, Kind.DROP_INDEX, Kind.REINDEX))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if ctx.in_transaction and stmt.concurrently:
        yield _violation(_WHAT[stmt.kind], ctx, _fix(stmt))


@action_rule(ID, actions=(ActionKind.DETACH_PARTITION,), new_tables=True)
def check_detach(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if ctx.in_transaction and action.concurrently:
        sql = f"ALTER TABLE {name(stmt)} DETACH PARTITION {action.name} CONCURRENTLY;"
        yield _violation("DETACH PARTITION CONCURRENTLY", ctx, Fix(sql=sql, outside_transaction=True))


def _violation(what: str, ctx: Context, fix: Fix) -> Violation:
    assert ctx.tx is not None
    where = "a DO block" if ctx.tx.kind == "do" else "a transaction block"
    return Violation(f"{what} cannot run inside {where}: the migration will fail", fix=fix)


def _fix(stmt: Stmt) -> Fix:
    sql = stmt.text.rstrip(";") + ";"
    if stmt.kind is Kind.CREATE_INDEX:
        return Fix(sql=sql, alembic=lambda: alembic_create_index(stmt.text), outside_transaction=True)
    if stmt.kind is Kind.DROP_INDEX:
        return Fix(sql=sql, alembic=alembic_drop_index((stmt.display or "").split(", ")), outside_transaction=True)
    return Fix(sql=sql, outside_transaction=True)
