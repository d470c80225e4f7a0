"""ALTER TYPE … ADD VALUE without BEFORE or AFTER.

## What it does
Flags `ALTER TYPE … ADD VALUE 'x'` without `BEFORE` or `AFTER`: the value is appended to the end
of the enum's sort order. Severity info: appending is often what is meant.

## Why is this bad?
An enum sorts by declaration order, not alphabetically: `ORDER BY`, `<`, `>` and range checks
on the column follow it. When the new value does not belong last, queries that compare or sort
statuses silently change meaning. (Not a lock hazard: ADD VALUE holds a brief lock on the type.)

## Example
```sql
ALTER TYPE order_status ADD VALUE 'PARTIALLY_SHIPPED';
```

## Use instead
```sql
ALTER TYPE order_status ADD VALUE 'PARTIALLY_SHIPPED' BEFORE 'SHIPPED';
```
or, when it does belong last, say so with a suppression
(`-- dbops: ignore[enum-value-ordering] REFUNDED sorts last`).
"""

from __future__ import annotations

from collections.abc import Iterator

from dbops.findings import Severity
from dbops.lint.context import Context
from dbops.lint.facts.model import Kind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, rule


@rule("enum-value-ordering", severity=Severity.INFO, squawk=("require-enum-value-ordering",),
      kinds=(Kind.ENUM_ADD_VALUE,))
def check(stmt: Stmt, ctx: Context) -> Iterator[Violation]:
    if stmt.option is not None:
        return
    yield Violation(
        f"ADD VALUE '{stmt.value}' without BEFORE or AFTER appends it to the end of {stmt.display}'s sort order",
        fix=Fix(sql=stmt.text.rstrip(";") + " BEFORE '<existing value>';",
                note="place it, or say it belongs last: " + ctx.suppression("enum-value-ordering", "<why last>")),
    )
