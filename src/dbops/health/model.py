"""The pieces every health check shares: the ``Check`` record, the audit context, SQL helpers.

A check is one SQL file in ``sql/`` (package data, first line a ``--`` comment
saying what it finds) plus a mapper turning each row into ``Finding``s. The
runner knows no check by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from importlib import resources
from typing import Any

from dbops.findings import Finding, Severity
from dbops.findings.catalog import RuleMeta

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
    def documentation(self) -> str:
        """Why it matters, what the fix does, why this severity (the mapper's docstring), and its kind."""
        body = _dedent((self.mapper.__doc__ or "").strip())
        kind = ("Runtime check: needs statistics, skipped with `--schema-only`." if self.runtime
                else "Schema check: reads the catalog only.")
        return f"{body}\n\n{kind}" if body else kind

    @property
    def doc(self) -> str:
        """The text ``dbops rules ID`` prints."""
        return self.meta.render()

    @cached_property
    def meta(self) -> RuleMeta:
        """The check's entry in the rule catalog."""
        return RuleMeta(self.name, self.summary, self.severity, self.documentation, check="indexes",
                        fix=getattr(self.mapper, "fix_template", None))

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


class _Value:
    """A row value in a message template: ``{size:size}``, ``{name:ident}``, ``{count:,}``, ``{params[key]}``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if spec == "size":
            return pretty_size(self.value)
        if spec == "ident":
            return quote_ident(self.value)
        return format(self.value, spec)

    def __getitem__(self, key: Any) -> _Value:
        return _Value(self.value.get(key) if isinstance(self.value, Mapping) else self.value[key])


class _Fields(Mapping[str, Any]):
    """What a template may name: the row's columns, and ``stats_since``, ``partitioned``, ``database``, ``params``."""

    def __init__(self, row: Row, ctx: Context) -> None:
        self.row, self.ctx = row, ctx

    def __getitem__(self, key: str) -> Any:
        if key == "stats_since":
            return self.ctx.stats_since()
        if key == "partitioned":
            return f" (on all {self.row['partitions']} partitions)" if self.row.get("partitions") else ""
        if key == "database":
            return self.ctx.database
        if key == "params":
            return _Value(self.ctx.params)
        return _Value(self.row[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self.row)

    def __len__(self) -> int:
        return len(self.row)


def template_mapper(check: Callable[[], Check], *, message: str, object: str, fix: str | None,
                    details: Mapping[str, str], doc: str) -> Mapper:
    """A mapper that fills message, object and fix templates from the row (``str.format`` fields).

    ``details`` maps a detail's name to the row column it holds. The mapper carries its fix
    template (``fix_template``) for the rule catalog.
    """

    def mapper(row: Row, ctx: Context) -> Finding:
        fields = _Fields(row, ctx)
        return check().finding(
            message.format_map(fields),
            object=object.format_map(fields),
            fix=fix.format_map(fields) if fix is not None else None,
            **{name: row.get(column) for name, column in details.items()},
        )

    mapper.__doc__ = doc
    mapper.fix_template = fix  # type: ignore[attr-defined]
    return mapper


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
    ('0 bytes', '8 kB', '15 MB', 'size unknown (never analysed)')
    >>> pretty_size(1536 * 1024)
    '1.5 MB'
    """
    if size is None:  # pg_class.relpages is only set by VACUUM, ANALYZE and index builds
        return "size unknown (never analysed)"
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
