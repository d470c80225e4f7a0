"""A statement dbops could not analyse.

## What it does
Reports every statement dbops did not understand (an unknown statement, a
form sqlglot cannot parse, dynamic SQL in a DO block, a procedure CALL…).
Its severity is `[tool.dbops.locks] unanalysed_severity` (info by default;
`error` makes CI fail on anything unverified, `off` hides it).

## Why is this bad?
A linter that silently skips what it cannot read gives false confidence. An
unanalysed statement may take any lock.

## Example
```sql
CALL rebuild_everything();
```

## Use instead
Check the statement's locks by hand, then suppress it with the reason:
`-- dbops: ignore[unanalysed] only touches the new table`.
"""

from dbops.findings import Severity
from dbops.lint.registry import engine_rule

engine_rule("unanalysed", module=__name__, severity=Severity.INFO)
