"""FOREIGN KEY or CHECK constraint added without NOT VALID.

## What it does
Flags `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY` / `CHECK` on an existing
table without `NOT VALID`, and `ADD COLUMN … REFERENCES …` / `CHECK (…)` on an
existing table (a constraint added with a column cannot be NOT VALID).

## Why is this bad?
Adding the constraint validates every existing row while holding the lock:
SHARE ROW EXCLUSIVE on both tables for a foreign key (writes blocked on the
table and on the referenced table), ACCESS EXCLUSIVE for a CHECK (reads and
writes blocked) — for the duration of a full scan.

## Example
```sql
ALTER TABLE appointments ADD CONSTRAINT appointments_doctor_fk
    FOREIGN KEY (doctor_id) REFERENCES doctors (id);
```

## Use instead
```sql
ALTER TABLE appointments ADD CONSTRAINT appointments_doctor_fk
    FOREIGN KEY (doctor_id) REFERENCES doctors (id) NOT VALID;       -- instant
-- in a later transaction: scans without blocking reads or writes
ALTER TABLE appointments VALIDATE CONSTRAINT appointments_doctor_fk;
```
"""

from __future__ import annotations

from dbops.lint.registry import Violation, rule
from dbops.lint.rules._common import name


@rule(
    "constraint-missing-not-valid",
    squawk=("constraint-missing-not-valid", "adding-foreign-key-constraint"),
    strong_migrations=("add_foreign_key", "add_check_constraint", "add_reference"),
    kinds=("alter_table",),
    actions=("add_constraint", "add_column"),
)
def check(stmt, ctx):
    if not ctx.existing(stmt.table):
        return
    for action in stmt.actions:
        if action.constraint not in ("foreign_key", "check"):
            continue
        label = "FOREIGN KEY" if action.constraint == "foreign_key" else "CHECK"
        lock = "SHARE ROW EXCLUSIVE (blocks writes on both tables)" if label == "FOREIGN KEY" else \
            "ACCESS EXCLUSIVE (blocks reads and writes)"
        if action.kind == "add_constraint" and not action.not_valid:
            yield Violation(
                f"{label} constraint {action.name or ''} on {name(stmt)} without NOT VALID validates every row under "
                f"a {lock} lock".replace("  ", " "),
                fix=f"{action.text} NOT VALID; then, in another transaction: ALTER TABLE {name(stmt)} "
                f"VALIDATE CONSTRAINT {action.name or '<name>'};",
            )
        elif action.kind == "add_column":
            yield Violation(
                f"ADD COLUMN {action.column} with a {label} constraint validates every row of {name(stmt)} under "
                f"a {lock} lock",
                fix=f"add the column without the constraint, then ALTER TABLE {name(stmt)} ADD CONSTRAINT … {label} "
                "(…) NOT VALID; and VALIDATE CONSTRAINT in another transaction",
            )
