"""VACUUM FULL or CLUSTER in a migration.

## What it does
Flags `VACUUM FULL` and `CLUSTER` of an existing table.

## Why is this bad?
Both rewrite the whole table and its indexes under an ACCESS EXCLUSIVE lock:
no reads, no writes until the copy is done — and need free disk space for a
full second copy.

## Example
```sql
VACUUM FULL appointments;
```

## Use instead
Plain `VACUUM` (no long lock) from maintenance jobs, not migrations; to
reclaim space online use an extension such as pg_repack.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule


@rule("vacuum-full-or-cluster", kinds=(Kind.VACUUM, Kind.CLUSTER))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.kind is Kind.VACUUM and stmt.option != "FULL":
        return
    targets = stmt.targets()
    if targets and not any(ctx.existing(t) for t in targets):
        return
    what = "VACUUM FULL" if stmt.kind is Kind.VACUUM else "CLUSTER"
    yield Violation(
        f"{what} {stmt.display or '(every table)'} rewrites the table under an ACCESS EXCLUSIVE lock (blocks all "
        "reads and writes)",
        fix=Fix(note="not in a migration: plain VACUUM (no long lock) from maintenance jobs, or pg_repack to "
                "rewrite online"),
    )
