"""CREATE INDEX without CONCURRENTLY on an existing table.

## What it does
Flags `CREATE INDEX` (and `CREATE UNIQUE INDEX`) on a table that was not
created earlier in the same migration, when `CONCURRENTLY` is missing.

## Why is this bad?
A plain `CREATE INDEX` holds a SHARE lock on the table for the whole build:
every INSERT, UPDATE and DELETE waits until the index is built — minutes on a
big table. `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE instead,
which lets reads and writes continue.

Indexes on tables created in the same migration are not flagged (the table is
empty and nobody else can see it yet). `CREATE INDEX … ON ONLY parent` (the
first step of indexing a partitioned table) is not flagged either: it builds
nothing.

## Example
```sql
CREATE INDEX users_email_idx ON users (email);
```

## Use instead
```sql
-- outside a transaction (Alembic: inside op.get_context().autocommit_block())
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
```
For a partitioned table: `CREATE INDEX … ON ONLY parent`, then
`CREATE INDEX CONCURRENTLY` on each partition and
`ALTER INDEX parent_idx ATTACH PARTITION partition_idx`.
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "require-concurrent-index",
    squawk=("require-concurrent-index-creation",),
    strong_migrations=("add_index",),
    kinds=("create_index",),
)
def check(stmt, ctx):
    if stmt.concurrently or stmt.only or not ctx.existing(stmt.table):
        return
    partitioned = stmt.table in ctx.partitioned_tables
    fix = (
        f"CREATE INDEX {stmt.index_name or '<name>'} ON ONLY {name(stmt)} (…); then CREATE INDEX CONCURRENTLY on each "
        "partition and ALTER INDEX … ATTACH PARTITION"
        if partitioned
        else stmt.text.replace("INDEX", "INDEX CONCURRENTLY", 1)
        if "INDEX" in stmt.text
        else "CREATE INDEX CONCURRENTLY … (outside a transaction)"
    )
    yield Violation(
        f"CREATE INDEX on existing table {name(stmt)} without CONCURRENTLY holds a SHARE lock "
        "(blocks writes) for the whole build",
        fix=fix + ("" if partitioned else "  -- outside a transaction block"),
    )
