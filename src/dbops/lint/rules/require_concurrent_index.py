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

import re
from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix, alembic_create_index
from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name

_INDEX = re.compile(r"\bINDEX\b", re.I)
_ON = re.compile(r"\bON\s+", re.I)


@rule(
    "require-concurrent-index",
    squawk=("require-concurrent-index-creation",),
    strong_migrations=("add_index",),
    kinds=(Kind.CREATE_INDEX,),
)
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.concurrently or stmt.only or not ctx.existing(stmt.table):
        return
    yield Violation(
        f"CREATE INDEX on existing table {name(stmt)} without CONCURRENTLY holds a SHARE lock "
        "(blocks writes) for the whole build",
        fix=_partitioned_fix(stmt) if stmt.table in ctx.partitioned_tables else _fix(stmt),
    )


def _fix(stmt: Stmt) -> Fix:
    sql = _INDEX.sub("INDEX CONCURRENTLY", stmt.text.rstrip(";"), count=1) + ";"
    return Fix(sql=sql, alembic=lambda: alembic_create_index(sql.rstrip(";")), outside_transaction=True)


def _partitioned_fix(stmt: Stmt) -> Fix:
    """A partitioned table: an index ON ONLY the parent, built concurrently per partition and attached."""
    parent = _ON.sub("ON ONLY ", stmt.text.rstrip(";"), count=1) + ";"
    index = stmt.index_name or "<index>"
    return Fix(
        sql=parent,
        note="partitioned table: the parent's index is created invalid ON ONLY the parent; then, for each "
        f"partition: CREATE INDEX CONCURRENTLY <partition_index> ON <partition> (…); "
        f"ALTER INDEX {index} ATTACH PARTITION <partition_index>;",
    )
