"""TRUNCATE … CASCADE.

## What it does
Flags `TRUNCATE … CASCADE`.

## Why is this bad?
CASCADE also empties every table that has a foreign key pointing to the
truncated ones — recursively, including tables the author did not think of —
each under an ACCESS EXCLUSIVE lock.

## Example
```sql
TRUNCATE clients CASCADE;
```

## Use instead
Name every table to empty explicitly (`TRUNCATE a, b;`) or delete in batches.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule("truncate-cascade", squawk=("ban-truncate-cascade",), kinds=(Kind.TRUNCATE,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.option == "CASCADE":
        yield Violation(
            f"TRUNCATE {name(stmt)} CASCADE also empties every table referencing it, each under an ACCESS EXCLUSIVE "
            "lock",
            fix=Fix(sql=f"TRUNCATE {name(stmt)}, <every referencing table you mean to empty>;",
                    note="name every table to empty; without CASCADE PostgreSQL refuses if one is missing"),
        )
