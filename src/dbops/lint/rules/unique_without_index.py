"""ADD UNIQUE / PRIMARY KEY without USING INDEX.

## What it does
Flags `ALTER TABLE … ADD UNIQUE (…)`, `ADD PRIMARY KEY (…)` (and a column
added with `UNIQUE`/`PRIMARY KEY`) on an existing table when the constraint
does not reuse an index built beforehand (`USING INDEX`).

## Why is this bad?
The constraint builds its unique index while holding an ACCESS EXCLUSIVE
lock on the table: no reads, no writes for the whole index build.

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

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "unique-without-index",
    squawk=("disallowed-unique-constraint", "adding-serial-primary-key-field"),
    strong_migrations=("add_unique_constraint",),
    kinds=("alter_table",),
    actions=("add_constraint", "add_column"),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.constraint not in ("unique", "primary_key") or action.using_index:
            continue
        if action.kind not in ("add_constraint", "add_column"):
            continue
        label = "UNIQUE" if action.constraint == "unique" else "PRIMARY KEY"
        index = action.name or f"{stmt.table}_{action.column or '…'}_key"
        yield Violation(
            f"{label} on {name(stmt)} builds its index under an ACCESS EXCLUSIVE lock (blocks all reads and writes)",
            fix=f"CREATE UNIQUE INDEX CONCURRENTLY {index} ON {name(stmt)} (…); then ALTER TABLE {name(stmt)} "
            f"ADD CONSTRAINT {index} {label} USING INDEX {index};",
        )
