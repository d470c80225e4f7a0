"""The rules of ``dbops status`` about revisions, in the rule catalog (drift is ``dbops.drift.rules``)."""

from __future__ import annotations

from dbops.findings.catalog import RuleMeta
from dbops.findings.model import Severity

REVISION_PENDING = RuleMeta(
    "revision-pending",
    "A revision file is not applied to the database yet.",
    Severity.ERROR,
    "## What it does\nLists the revisions between the database's current revision and the head of the "
    "revision files (`dbops status`).\n\n"
    "## Why is this bad?\nThe database lacks what the code expects: the models, the generated types and the "
    "queries assume the schema at head.\n\n"
    "## Use instead\nApply them: `dbops migrate SCHEMA` (dev) or `dbops deploy SCHEMA` (production).",
    check="status",
    fix="dbops migrate <schema>",
)

REVISION_EDITED = RuleMeta(
    "revision-edited",
    "An applied revision file was edited (or deleted) after it was applied.",
    Severity.ERROR,
    "## What it does\nCompares the sha256 dbops recorded when each revision was applied with the file now.\n\n"
    "## Why is this bad?\nA database that already ran the old text never runs the new one: databases drift "
    "apart silently, and `dbops deploy` refuses to continue.\n\n"
    "## Use instead\nRestore the file as it was (git) and put the change in a new revision; on a dev database, "
    "`dbops reset SCHEMA` rebuilds it from the files.",
    check="status",
    fix="restore the file (git); put the change in a new revision",
)


def catalog_entries() -> list[RuleMeta]:
    return [REVISION_PENDING, REVISION_EDITED]
