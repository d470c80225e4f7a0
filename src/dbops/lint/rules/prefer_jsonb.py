"""json column (prefer jsonb).

## What it does
Flags columns of type `json` in CREATE TABLE, ADD COLUMN and ALTER COLUMN
TYPE.

## Why is this bad?
`json` stores text and re-parses it on every access, cannot be indexed with
GIN, and has no equality operator — `SELECT DISTINCT` and `GROUP BY` on rows
with a json column fail. Changing it to jsonb later rewrites the table under
an ACCESS EXCLUSIVE lock, so choose jsonb now.

## Example
```sql
ALTER TABLE products ADD COLUMN attributes json;
```

## Use instead
```sql
ALTER TABLE products ADD COLUMN attributes jsonb;
```
"""

from __future__ import annotations

from dbops.findings import Severity
from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule("prefer-jsonb", severity=Severity.WARNING, strong_migrations=("add_column_json",),
      kinds=("alter_table", "create_table"), actions=("add_column", "alter_type"))
def check(stmt, ctx):
    columns = list(stmt.json_columns) + [a.column for a in stmt.actions if a.json]
    for column in columns:
        yield Violation(f"column {name(stmt)}.{column} is json: use jsonb", fix=f"declare {column} as jsonb")
