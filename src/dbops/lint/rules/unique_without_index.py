"""ADD UNIQUE without USING INDEX.

## What it does
Flags `ALTER TABLE … ADD [CONSTRAINT …] UNIQUE (…)` (and a column added with `UNIQUE`) on an
existing table when the constraint does not reuse an index built beforehand (`USING INDEX`).
Primary keys are `primary-key-without-index`.

## Why is this bad?
The constraint builds its unique index while holding an ACCESS EXCLUSIVE lock on the table: no
reads, no writes for the whole index build.

## Example
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```

## Use instead
```sql
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);  -- outside a transaction
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;  -- instant
```
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import AUTOCOMMIT, Fix, alembic_create_index, op_execute
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import constraint_name, key_columns, name


@action_rule(
    "unique-without-index",
    actions=(ActionKind.ADD_CONSTRAINT, ActionKind.ADD_COLUMN),
    squawk=("disallowed-unique-constraint",),
    strong_migrations=("add_unique_constraint",),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.constraint != "unique" or action.using_index:
        return
    columns = [action.column] if action.kind is ActionKind.ADD_COLUMN and action.column else \
        key_columns(action.text, "UNIQUE")
    index = action.name or constraint_name(stmt.table or "t", columns, "key")
    yield Violation(
        f"UNIQUE on {name(stmt)} builds its index under an ACCESS EXCLUSIVE lock (blocks all reads and writes)",
        fix=unique_index_fix(stmt, action, index, columns, "UNIQUE"),
    )


def unique_index_fix(stmt: Stmt, action: Action, index: str, columns: list[str], label: str) -> Fix:
    """Build the unique index concurrently first, then attach it (``… USING INDEX``): instant."""
    table = name(stmt)
    create = f"CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} ({', '.join(columns) or '<columns>'});"
    attach = f"ALTER TABLE {table} ADD CONSTRAINT {index} {label} USING INDEX {index};"
    if action.kind is not ActionKind.ADD_COLUMN:
        return Fix(sql=create, alembic=lambda: alembic_create_index(create), outside_transaction=True, then=attach)
    type_sql = action.type.sql() if action.type else "<type>"
    return Fix(
        sql=f"ALTER TABLE {table} ADD COLUMN {action.column} {type_sql};",
        then=f"{create}\n{attach}",
        then_alembic=f"{AUTOCOMMIT}\n    {alembic_create_index(create) or op_execute(create)}\n{op_execute(attach)}",
        note=f"add the column without {label}; then build its unique index outside a transaction block and attach it",
    )
