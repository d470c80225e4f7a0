"""The rule of ``dbops check types`` in the rule catalog."""

from __future__ import annotations

from dbops.findings.catalog import RuleMeta
from dbops.findings.model import Severity

TYPES_STALE = RuleMeta(
    "types-stale",
    "A committed database-types module differs from what the models generate.",
    Severity.ERROR,
    "## What it does\nRegenerates each schema's database-types module (`src/platformdb/<schema>/db_types.py`) "
    "from the models and compares it with the committed file.\n\n"
    "## Why is this bad?\nBusiness code reads rows through these types: a stale module means the code and the "
    "database disagree on a column, and the type checker cannot see it.\n\n"
    "## Use instead\nRun `dbops generate SCHEMA` and commit the result.",
    check="types",
    fix="dbops generate <schema>",
)


def catalog_entries() -> list[RuleMeta]:
    return [TYPES_STALE]
