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

from collections.abc import Iterator

from dbops.findings import Severity
from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule, rule
from dbops.lint.rules._common import name

ID = "prefer-jsonb"


@rule(ID, severity=Severity.WARNING, strong_migrations=("add_column_json",), kinds=(Kind.CREATE_TABLE,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    for column in stmt.json_columns:
        yield Violation(f"column {name(stmt)}.{column} is json: use jsonb",
                        fix=Fix(note=f"declare {column} as jsonb in this CREATE TABLE"))


@action_rule(ID, actions=(ActionKind.ADD_COLUMN, ActionKind.ALTER_TYPE), new_tables=True)
def check_action(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if not action.json:
        return
    if action.kind is ActionKind.ADD_COLUMN:
        fix = Fix(sql=f"ALTER TABLE {name(stmt)} ADD COLUMN {action.column} jsonb;")
    else:
        fix = Fix(sql=f"ALTER TABLE {name(stmt)} ALTER COLUMN {action.column} TYPE jsonb;")
    yield Violation(f"column {name(stmt)}.{action.column} is json: use jsonb", fix=fix)
