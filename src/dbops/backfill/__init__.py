"""Online batched backfills (expand → **migrate** → contract): ``backfill(url, table, set_expr, …)``.

>>> from dbops.backfill import assignments
>>> assignments("full_name = name || ' (' || email || ')'", {"id", "name", "email", "full_name"}, key="id")
[('full_name', "name || ' (' || email || ')'")]
"""

from __future__ import annotations

from dbops.backfill.runner import PROGRESS_TABLE, BackfillProgress, BackfillReport, JobStatus, backfill, backfill_status
from dbops.backfill.validate import assignments, condition

__all__ = [
    "PROGRESS_TABLE",
    "BackfillProgress",
    "BackfillReport",
    "JobStatus",
    "assignments",
    "backfill",
    "backfill_status",
    "condition",
]
