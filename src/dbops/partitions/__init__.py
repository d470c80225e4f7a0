"""Monthly partitions: ``ensure_partitions`` creates ahead, checks the default, applies retention.

>>> from dbops.partitions import partition_name
>>> from datetime import date
>>> partition_name("appointment_audit_logs", date(2027, 1, 1))
'appointment_audit_logs_p202701'
"""

from __future__ import annotations

from dbops.partitions.ensure import PartitionedTable, detached_partitions, discover, ensure_partitions
from dbops.partitions.months import add_months, month_start, months_window, partition_name, retention_cutoff
from dbops.partitions.report import PartitionAction, PartitionReport

__all__ = [
    "PartitionAction",
    "PartitionReport",
    "PartitionedTable",
    "add_months",
    "detached_partitions",
    "discover",
    "ensure_partitions",
    "month_start",
    "months_window",
    "partition_name",
    "retention_cutoff",
]
