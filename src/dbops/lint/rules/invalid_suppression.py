"""A suppression comment without a reason or with an unknown rule id.

## What it does
Reports `-- dbops: ignore[…]` / `ignore-file[…]` comments (and `# dbops:
ignore[…]` in Alembic revisions) that give no reason, name no rule, or name
a rule dbops does not know.

## Why is this bad?
A suppression is a decision that a hazard is acceptable; without the reason
the next reader cannot check it, and a misspelled rule id suppresses
nothing.

## Example
```sql
-- dbops: ignore[require-concurrent-index]
CREATE INDEX users_email_idx ON users (email);
```

## Use instead
```sql
-- dbops: ignore[require-concurrent-index] users has 40 rows, built during the maintenance window
CREATE INDEX users_email_idx ON users (email);
```
"""

from dbops.findings import Severity
from dbops.lint.registry import engine_rule

engine_rule("invalid-suppression", module=__name__, severity=Severity.WARNING)
