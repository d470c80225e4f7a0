"""Pure month arithmetic and partition naming (no database).

Partitions are monthly ranges ``[first day of month, first day of next
month)`` in UTC, named ``<parent>_pYYYYMM``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

MAX_IDENTIFIER = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer names silently
_SUFFIX = re.compile(r"_p(\d{4})(\d{2})$")


def month_start(day: date | datetime) -> date:
    """The first day of ``day``'s month.

    >>> month_start(date(2026, 11, 29))
    datetime.date(2026, 11, 1)
    """
    return date(day.year, day.month, 1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month`` (negative goes back).

    >>> add_months(date(2026, 11, 1), 3)
    datetime.date(2027, 2, 1)
    >>> add_months(date(2026, 1, 15), -1)
    datetime.date(2025, 12, 1)
    """
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def months_window(today: date, months_ahead: int) -> list[date]:
    """The months a partition must exist for: this month and the next ``months_ahead``.

    >>> [m.isoformat() for m in months_window(date(2026, 11, 29), 2)]
    ['2026-11-01', '2026-12-01', '2027-01-01']
    """
    first = month_start(today)
    return [add_months(first, i) for i in range(months_ahead + 1)]


def retention_cutoff(today: date, retention_months: int) -> date:
    """Partitions whose range ends on or before this day are past retention.

    ``retention_months`` whole months before the current month are kept.

    >>> retention_cutoff(date(2026, 11, 29), 12)
    datetime.date(2025, 11, 1)
    """
    return add_months(month_start(today), -retention_months)


def partition_name(parent: str, month: date) -> str:
    """``<parent>_pYYYYMM``.

    >>> partition_name("appointment_audit_logs", date(2026, 12, 1))
    'appointment_audit_logs_p202612'
    """
    return f"{parent}_p{month.year:04d}{month.month:02d}"


def month_of_partition(parent: str, name: str) -> date | None:
    """The month a ``<parent>_pYYYYMM`` name stands for, or None for other names.

    >>> month_of_partition("logs", "logs_p202602")
    datetime.date(2026, 2, 1)
    >>> month_of_partition("logs", "logs_default") is None
    True
    """
    if not name.startswith(parent):
        return None
    match = _SUFFIX.fullmatch(name[len(parent):])
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def bound_literal(month: date, key_type: str) -> str:
    """The SQL literal of a month boundary for the partition key's type (UTC for timestamptz).

    >>> bound_literal(date(2026, 12, 1), "timestamp with time zone")
    '2026-12-01 00:00:00+00'
    >>> bound_literal(date(2026, 12, 1), "date")
    '2026-12-01'
    """
    if key_type == "date":
        return month.isoformat()
    if key_type == "timestamp without time zone":
        return f"{month.isoformat()} 00:00:00"
    return f"{month.isoformat()} 00:00:00+00"


def parse_bound(text: str) -> datetime | None:
    """A bound from ``pg_get_expr(relpartbound)`` as an aware UTC datetime; None for MINVALUE/MAXVALUE.

    >>> parse_bound("2026-11-01 00:00:00+00")
    datetime.datetime(2026, 11, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_bound("MAXVALUE") is None
    True
    """
    if text.upper() in ("MINVALUE", "MAXVALUE"):
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_utc(month: date) -> datetime:
    """Midnight UTC of a day.

    >>> as_utc(date(2026, 1, 1)).isoformat()
    '2026-01-01T00:00:00+00:00'
    """
    return datetime(month.year, month.month, month.day, tzinfo=UTC)
