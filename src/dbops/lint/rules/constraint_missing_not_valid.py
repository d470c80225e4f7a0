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

import re
from collections.abc import Iterator

from dbops.lint.context import Context
from dbops.lint.facts.model import Action, ActionKind, Stmt
from dbops.lint.fixes import Fix
from dbops.lint.registry import Violation, action_rule
from dbops.lint.rules._common import constraint_name, key_columns, name

_LOCKS = {"foreign_key": "a SHARE ROW EXCLUSIVE lock (blocks writes on both tables)",
          "check": "an ACCESS EXCLUSIVE lock (blocks reads and writes)"}
_LABEL = {"foreign_key": "FOREIGN KEY", "check": "CHECK"}


@action_rule(
    "constraint-missing-not-valid",
    actions=(ActionKind.ADD_CONSTRAINT, ActionKind.ADD_COLUMN),
    squawk=("constraint-missing-not-valid", "adding-foreign-key-constraint"),
    strong_migrations=("add_foreign_key", "add_check_constraint", "add_reference"),
)
def check(stmt: Stmt, action: Action, ctx: Context) -> Iterator[Violation]:
    if action.constraint not in _LABEL:
        return
    label, lock = _LABEL[action.constraint], _LOCKS[action.constraint]
    if action.kind is ActionKind.ADD_CONSTRAINT and not action.not_valid:
        yield Violation(
            f"{label} constraint {action.name or ''} on {name(stmt)} without NOT VALID validates every row under "
            f"{lock}".replace("  ", " "),
            fix=_add_constraint_fix(stmt, action),
        )
    elif action.kind is ActionKind.ADD_COLUMN:
        yield Violation(
            f"ADD COLUMN {action.column} with a {label} constraint validates every row of {name(stmt)} under "
            f"{lock}",
            fix=_add_column_fix(stmt, action),
        )


def _add_constraint_fix(stmt: Stmt, action: Action) -> Fix:
    """The same constraint, named, NOT VALID; VALIDATE in a later transaction."""
    table = name(stmt)
    text = action.text
    constraint = action.name
    if constraint is None:  # VALIDATE needs a name: give it PostgreSQL's own
        after = "FOREIGN KEY" if action.constraint == "foreign_key" else "CHECK"
        columns = key_columns(text, after) if action.constraint == "foreign_key" else []
        constraint = constraint_name(stmt.table or "t", columns, "fkey" if columns else "check")
        text = re.sub(r"^ADD\s+", f"ADD CONSTRAINT {constraint} ", text, count=1, flags=re.I)
    return Fix(sql=f"ALTER TABLE {table} {text} NOT VALID;",
               then=f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};")


def _add_column_fix(stmt: Stmt, action: Action) -> Fix:
    """The column without its constraint, then the constraint NOT VALID, then VALIDATE."""
    table, column = name(stmt), action.column or "<column>"
    type_sql = action.type.sql() if action.type else "<type>"
    if action.constraint == "foreign_key":
        constraint = constraint_name(stmt.table or "t", [column], "fkey")
        body = f"FOREIGN KEY ({column}) REFERENCES {action.references or '<table>'}"
    else:
        constraint = constraint_name(stmt.table or "t", [column], "check")
        body = f"CHECK ({_check_expression(action.text)})"
    return Fix(sql=f"ALTER TABLE {table} ADD COLUMN {column} {type_sql};\n"
               f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {body} NOT VALID;",
               then=f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint};")


def _check_expression(text: str) -> str:
    """The expression of the column's ``CHECK (…)``."""
    from dbops.lint.facts.tokens import index_of, matching_paren, span
    from dbops.lint.sqltext import tokenize

    toks = tokenize(text)
    k = index_of(toks, "CHECK")
    close = matching_paren(toks, k + 1) if k >= 0 else None
    return span(text, toks[k + 2:close]) if close is not None else "<condition>"
