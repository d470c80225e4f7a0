"""The pieces every health check shares: the ``Check`` record, the audit context, SQL helpers.

A check is one SQL file in ``sql/`` (package data, first line a ``--`` comment
saying what it finds) plus a mapper turning each row into ``Finding``s. The
runner knows no check by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from importlib import resources
from typing import Any

from dbops.findings import Finding, Severity

Row = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What a mapper may need besides its row: the server and the thresholds in force."""

    database: str = ""
    server_version: int = 0
    stats_reset: datetime | None = None
    postmaster_start: datetime | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    servers: int = 1

    def stats_since(self) -> str:
        """Human words for the statistics window (``since 2026-11-01 10:00 UTC (stats reset)``)."""
        if self.stats_reset is not None:
            return f"since the statistics reset at {self.stats_reset:%Y-%m-%d %H:%M %Z}".rstrip()
        if self.postmaster_start is not None:
            return f"since statistics began (never reset; server up since {self.postmaster_start:%Y-%m-%d %H:%M %Z})".rstrip()
        return "since statistics began (never reset)"


Mapper = Callable[[Row, Context], "Finding | Iterable[Finding] | None"]


@dataclass(frozen=True)
class Check:
    """One named check: its SQL file, its default severity and the mapper of its rows.

    ``runtime`` checks need statistics (skipped with ``schema_only``);
    ``per_server`` ones also run on every replica (a finding only when every
    server agrees); ``sum_columns`` are added up when partitions collapse
    into their parent.
    """

    name: str
    severity: Severity
    mapper: Mapper
    runtime: bool = False
    per_server: bool = False
    sum_columns: tuple[str, ...] = ()

    @property
    def sql_file(self) -> str:
        return self.name.replace("-", "_") + ".sql"

    @cached_property
    def sql(self) -> str:
        return resources.files("dbops.health").joinpath("sql", self.sql_file).read_text(encoding="utf-8")

    @property
    def summary(self) -> str:
        """The first line of the SQL file, without ``--``: what the check finds."""
        return self.sql.splitlines()[0].removeprefix("--").strip()

    @property
    def doc(self) -> str:
        """The documentation of the check: summary, why, fix, severity (from the mapper's docstring)."""
        body = (self.mapper.__doc__ or "").strip()
        kind = "runtime (needs statistics; skipped with --schema-only)" if self.runtime else "schema"
        lines = [f"{self.name} ({self.severity.value}, {kind})", "", self.summary]
        if body:
            lines += ["", _dedent(body)]
        return "\n".join(lines)

    def finding(self, message: str, *, object: str, fix: str | None = None, **details: Any) -> Finding:
        """A finding of this check (rule id = check name)."""
        return Finding(
            rule=self.name,
            severity=self.severity,
            message=message,
            object=object,
            fix=fix,
            check="indexes",
            details={k: _jsonable(v) for k, v in details.items() if v is not None},
        )


def _dedent(text: str) -> str:
    lines = text.splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    cut = min(indents, default=0)
    return "\n".join([lines[0], *(line[cut:] for line in lines[1:])])


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def pretty_size(size: int | float | None) -> str:
    """Bytes for humans (powers of 1024, like ``pg_size_pretty``).

    >>> pretty_size(0), pretty_size(8192), pretty_size(15 * 1024 * 1024), pretty_size(None)
    ('0 bytes', '8 kB', '15 MB', '? bytes')
    >>> pretty_size(1536 * 1024)
    '1.5 MB'
    """
    if size is None:
        return "? bytes"
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            text = f"{value:.1f}".removesuffix(".0") if unit != "bytes" else str(int(value))
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")


def quote_ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL's ``quote_ident`` does for ordinary names.

    >>> quote_ident("users_email_idx"), quote_ident("Weird Name")
    ('users_email_idx', '"Weird Name"')
    """
    return name if _PLAIN_IDENT.match(name) else '"' + name.replace('"', '""') + '"'


def split_qualified(name: str) -> tuple[str, str]:
    """``schema.name`` as printed by ``regclass::text`` (quoted where needed) into its bare parts.

    >>> split_qualified('public.users'), split_qualified('"My Schema"."a.b"'), split_qualified('orphan')
    (('public', 'users'), ('My Schema', 'a.b'), ('', 'orphan'))
    """
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', name)
    bare = [quoted.replace('""', '"') if quoted else plain for quoted, plain in parts]
    if len(bare) == 1:
        return "", bare[0]
    return bare[-2], bare[-1]


def new_index_name(table: str, columns: Iterable[str], suffix: str = "idx") -> str:
    """A conventional name ``<table>_<col>_<col>_<suffix>`` (63 bytes at most), quoted when needed.

    >>> new_index_name("public.appointments", ["clinic_id", "doctor_id"])
    'appointments_clinic_id_doctor_id_idx'
    """
    _, bare = split_qualified(table)
    cols = "_".join(re.sub(r"\W+", "_", c).strip("_") for c in columns)
    tail = f"_{cols}_{suffix}" if cols else f"_{suffix}"
    return quote_ident((bare[: 63 - len(tail)] + tail)[:63])


def concurrently(index_def: str) -> str:
    """``pg_get_indexdef`` output as a ``CREATE … INDEX CONCURRENTLY`` statement.

    >>> concurrently("CREATE UNIQUE INDEX u ON public.t USING btree (a)")
    'CREATE UNIQUE INDEX CONCURRENTLY u ON public.t USING btree (a);'

    A partitioned index cannot be built concurrently: the statement stays as is, with the recipe.

    >>> concurrently("CREATE INDEX p_x ON ONLY public.p USING btree (x)")  # doctest: +ELLIPSIS
    'CREATE INDEX p_x ON ONLY public.p USING btree (x);  -- partitioned: ...'
    """
    if " ON ONLY " in index_def:
        return index_def + ";  -- partitioned: build it CONCURRENTLY on each partition, then ATTACH PARTITION"
    return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", index_def, count=1) + ";"
