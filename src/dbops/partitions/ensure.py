"""Monthly partition maintenance: create ahead, check the default, detach past retention.

Lock choices (PostgreSQL 15), measured in ``pg_locks`` by the tests:

* **create**: ``CREATE TABLE p (LIKE parent INCLUDING ALL EXCLUDING IDENTITY)``
  + a CHECK constraint matching the bound + ``ALTER TABLE parent ATTACH
  PARTITION p``, all in one short transaction under ``lock_timeout``. ATTACH
  takes SHARE UPDATE EXCLUSIVE on the parent (reads and writes continue) and
  the CHECK lets it skip the validation scan of the new table.
  ``CREATE TABLE … PARTITION OF`` would take ACCESS EXCLUSIVE on the parent,
  blocking every query on the table while it waits; that is why it is not
  used. Both forms take ACCESS EXCLUSIVE on the default partition (to prove
  it holds no row of the new range) and SHARE ROW EXCLUSIVE on tables the
  parent's foreign keys reference (the cloned FK is validated on the empty
  table): both are brief and bounded by ``lock_timeout``. One transaction
  means an interrupted run leaves nothing half-made. IDENTITY is excluded:
  the parent's identity sequence serves rows inserted through it.
* **default partition**: rows of a month about to get its partition are moved
  in the same transaction (lock the parent ONLY in SHARE UPDATE EXCLUSIVE and
  the default in ACCESS EXCLUSIVE first, so no lock is upgraded midway; copy,
  delete, attach). Above ``max_move_rows`` the month is reported, not moved:
  the move holds the default's ACCESS EXCLUSIVE lock for its whole duration.
* **retention**: ``DETACH PARTITION … CONCURRENTLY`` (SHARE UPDATE EXCLUSIVE,
  outside a transaction). PostgreSQL refuses CONCURRENTLY when the table has a
  default partition; then a plain DETACH runs (ACCESS EXCLUSIVE on the parent,
  catalog-only so held for milliseconds, its wait bounded by ``lock_timeout``)
  and the report says so. A detach left pending by an interrupted CONCURRENTLY
  run is completed with ``FINALIZE``. Dropping happens only with ``drop=True``,
  and only for tables dbops itself detached (marked by a comment).

Retention never runs silently: detaching or dropping needs ``confirmed``
(``--yes``, or the user's answer on a terminal). Without it the partitions are
reported ``not detached`` / ``not dropped`` (exit 1) and nothing of the
retention happens, while the partitions ahead are still created. Only when
``[tool.dbops.partitions] retention_unattended = true`` and a confirmed run of
the same (or a longer) retention, with the same drop setting, already ran on
that table (recorded in ``dbops_partition_retention``) does an unconfirmed run
apply it — cron after a first run by a person. ``dry_run`` changes nothing
and reports what would happen (``would create``, ``would detach`` …).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from dbops.db import connection
from dbops.errors import UsageError, first_line
from dbops.partitions.months import (
    MAX_IDENTIFIER,
    add_months,
    as_utc,
    bound_literal,
    month_of_partition,
    month_start,
    months_window,
    parse_bound,
    partition_name,
    retention_cutoff,
)
from dbops.partitions.report import PartitionAction, PartitionReport

if TYPE_CHECKING:
    import psycopg

    from dbops.config import SchemaSettings, Settings

TIME_TYPES = ("timestamp with time zone", "timestamp without time zone", "date")
DETACH_COMMENT = "dbops: detached from {parent}"
#: Confirmed retention runs, per partitioned table (what lets ``retention_unattended`` apply later runs).
RETENTION_TABLE = "dbops_partition_retention"
RETENTION_DDL = f"""
CREATE TABLE IF NOT EXISTS {RETENTION_TABLE} (
    table_name text PRIMARY KEY,
    retention_months integer NOT NULL,
    drop_detached boolean NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now()
)
"""
_BOUND = re.compile(r"FOR VALUES FROM \((?P<lo>.+?)\) TO \((?P<hi>.+?)\)$", re.S)
_CHECK_NAME = "dbops_partition_bound"


@dataclass(frozen=True)
class PartitionedTable:
    """A top-level partitioned table found in ``pg_partitioned_table``."""

    oid: int
    schema: str
    name: str
    strategy: str
    key_columns: int
    key: str | None
    key_type: str | None
    default: str | None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def monthly_capable(self) -> bool:
        return self.strategy == "r" and self.key_columns == 1 and self.key is not None and self.key_type in TIME_TYPES

    @property
    def time_key(self) -> tuple[str, str]:
        """(key column, key type) of a ``monthly_capable`` table; a ValueError for any other."""
        if self.key is None or self.key_type is None:
            raise ValueError(f"{self.qualified} is not partitioned by one time column")
        return self.key, self.key_type


@dataclass(frozen=True)
class Partition:
    name: str
    lower: datetime | None  # None = MINVALUE
    upper: datetime | None  # None = MAXVALUE
    detach_pending: bool

    def overlaps(self, lo: datetime, hi: datetime) -> bool:
        return (self.lower is None or self.lower < hi) and (self.upper is None or lo < self.upper)


def ensure_partitions(
    settings: Settings,
    schema_settings: SchemaSettings,
    url: str,
    *,
    months_ahead: int | None = None,
    retention_months: int | None = None,
    drop: bool = False,
    today: date | None = None,
    months_back: int = 0,
    dry_run: bool = False,
    confirmed: bool = False,
    log: Callable[[str], None] | None = None,
) -> PartitionReport:
    """Create this month's and the next ``months_ahead`` months' partitions of every
    range-partitioned table of the database, check its default partition, and
    (with ``retention_months``) detach — and with ``drop`` drop — older ones.

    Idempotent: a second run reports ``exists`` for everything and changes
    nothing. ``None`` arguments take ``[tool.dbops.partitions]``. ``months_back``
    also creates past months (``seed_at_scale`` uses it before loading history).
    ``dry_run``: change nothing, report the plan. ``confirmed``: the user
    agreed to the retention's detaches/drops (see the module docstring).
    """
    config = settings.partitions
    months_ahead = config.months_ahead if months_ahead is None else months_ahead
    retention_months = config.retention_months if retention_months is None else retention_months
    if months_ahead < 0 or months_back < 0:
        raise UsageError(f"--months-ahead must be 0 or more, not {months_ahead}")
    if retention_months < 0:
        raise UsageError(f"--retention must be 0 (keep all) or more months, not {retention_months}")
    if drop and not retention_months:
        raise UsageError("--drop needs --retention MONTHS", hint="e.g. `dbops partitions ensure --retention 12 --drop`")
    today = today or datetime.now(UTC).date()
    report = PartitionReport(schema_settings.name, today.isoformat(), months_ahead, retention_months, drop,
                             dry_run=dry_run)

    with connection(url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (config.lock_timeout,))
        worker = _Worker(conn, report, config.retries, config.max_move_rows, log or (lambda _m: None),
                         dry_run=dry_run)
        tables = discover(conn)
        report.tables = [t.qualified for t in tables]
        _check_declared(report, schema_settings, tables)
        for table in tables:
            if not table.monthly_capable:
                report.add(PartitionAction(
                    table.qualified, "warning",
                    detail="not a single-column RANGE partitioning on a timestamptz/timestamp/date column: skipped",
                ))
                continue
            window = months_window(add_months(month_start(today), -months_back), months_ahead + months_back)
            if retention_months:
                window = [m for m in window if add_months(m, 1) > retention_cutoff(today, retention_months)]
            worker.ensure_table(table, window)
            if retention_months:
                apply = confirmed or (config.retention_unattended and _confirmed_before(
                    conn, table, retention_months, drop))
                worker.retention(table, retention_cutoff(today, retention_months), drop, apply=apply)
                if apply and confirmed and not dry_run:
                    _record_confirmed(conn, table, retention_months, drop)
    return report


def _confirmed_before(conn: psycopg.Connection, table: PartitionedTable, retention_months: int, drop: bool) -> bool:
    """A confirmed run kept at most as much as this one would (and dropped if this one drops)."""
    exists = conn.execute("SELECT to_regclass(%s)", (f"public.{RETENTION_TABLE}",)).fetchone()
    if not exists or exists[0] is None:
        return False
    row = conn.execute(f"SELECT retention_months, drop_detached FROM {RETENTION_TABLE} WHERE table_name = %s",
                       (table.qualified,)).fetchone()
    return row is not None and retention_months >= row[0] and (row[1] or not drop)


def _record_confirmed(conn: psycopg.Connection, table: PartitionedTable, retention_months: int, drop: bool) -> None:
    import psycopg

    with contextlib.suppress(psycopg.errors.UniqueViolation):  # two first runs at once: the other created it
        conn.execute(RETENTION_DDL)
    conn.execute(
        f"INSERT INTO {RETENTION_TABLE} (table_name, retention_months, drop_detached) VALUES (%s, %s, %s) "
        "ON CONFLICT (table_name) DO UPDATE SET retention_months = EXCLUDED.retention_months, "
        "drop_detached = EXCLUDED.drop_detached, confirmed_at = now()",
        (table.qualified, retention_months, drop),
    )


def discover(conn: psycopg.Connection) -> list[PartitionedTable]:
    """Top-level partitioned tables outside the system schemas, with their key and default partition."""
    rows = conn.execute(
        """
        SELECT c.oid, n.nspname, c.relname, pt.partstrat, pt.partnatts,
               a.attname, format_type(a.atttypid, a.atttypmod), d.relname
        FROM pg_partitioned_table pt
        JOIN pg_class c ON c.oid = pt.partrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0] AND pt.partattrs[0] <> 0
        LEFT JOIN pg_class d ON d.oid = pt.partdefid
        WHERE NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%%'
        ORDER BY n.nspname, c.relname
        """
    ).fetchall()
    return [PartitionedTable(*row) for row in rows]


def detached_partitions(conn: Any) -> frozenset[str]:
    """Tables ``partitions ensure`` detached and kept (marked by their comment), in ``public``.

    ``conn`` is a psycopg or SQLAlchemy connection. They belong to partition
    maintenance, not to the models: drift and autogenerate ignore them.
    """
    query = ("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
             "AND NOT c.relispartition AND obj_description(c.oid, 'pg_class') LIKE 'dbops: detached from %%'")
    run = getattr(conn, "exec_driver_sql", None) or conn.execute
    return frozenset(r[0] for r in run(query).fetchall())


def partitions_of(conn: psycopg.Connection, table: PartitionedTable) -> list[Partition]:
    """The non-default partitions of ``table`` with their bounds (UTC)."""
    rows = conn.execute(
        """
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), i.inhdetachpending
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = %s ORDER BY c.relname
        """,
        (table.oid,),
    ).fetchall()
    out = []
    for name, bound, pending in rows:
        match = _BOUND.match(bound or "")
        if not match:  # DEFAULT
            continue
        out.append(Partition(name, _bound_value(match["lo"]), _bound_value(match["hi"]), pending))
    return out


def _bound_value(text: str) -> datetime | None:
    text = text.strip()
    if text.startswith("'"):
        text = text[1:-1]
    return parse_bound(text)


def _check_declared(report: PartitionReport, schema_settings: SchemaSettings, tables: list[PartitionedTable]) -> None:
    known = {t.name for t in tables} | {t.qualified for t in tables}
    for declared in schema_settings.partitioned_tables:
        if declared not in known:
            report.add(PartitionAction(
                declared, "warning",
                detail=f"declared in tool.dbops.schemas.{schema_settings.name}.partitioned_tables "
                "but not a partitioned table in the database (convert it in a migration)",
            ))


class _Worker:
    """The steps of one table, on one autocommit connection (transactions are explicit)."""

    def __init__(
        self, conn: psycopg.Connection, report: PartitionReport, retries: int, max_move_rows: int,
        log: Callable[[str], None], *, dry_run: bool = False,
    ) -> None:
        self.conn = conn
        self.dry_run = dry_run
        self.report = report
        self.retries = max(retries, 1)
        self.max_move_rows = max_move_rows
        self.log = log

    # -- creation -----------------------------------------------------------

    def ensure_table(self, table: PartitionedTable, window: list[date]) -> None:
        self._finalize_pending(table)
        parts = partitions_of(self.conn, table)
        in_default = self._default_months(table)
        if table.default is None:
            self.report.add(PartitionAction(
                table.qualified, "info",
                detail="no default partition: inserts outside every partition's range fail",
            ))
        _key, key_type = table.time_key
        for month in window:
            lo, hi = as_utc(month), as_utc(add_months(month, 1))
            lo_text, hi_text = bound_literal(month, key_type), bound_literal(add_months(month, 1), key_type)
            same = [p for p in parts if p.lower == lo and p.upper == hi]
            if same:
                self.report.add(PartitionAction(table.qualified, "exists", same[0].name, lo_text, hi_text))
                continue
            clash = [p for p in parts if p.overlaps(lo, hi)]
            if clash:
                self.report.add(PartitionAction(
                    table.qualified, "error", clash[0].name, lo_text, hi_text,
                    detail=f"{clash[0].name} already covers part of this month with other bounds: not created",
                ))
                continue
            name = partition_name(table.name, month)
            if len(name) > MAX_IDENTIFIER:
                self.report.add(PartitionAction(
                    table.qualified, "error", name, lo_text, hi_text,
                    detail=f"the name is longer than {MAX_IDENTIFIER} characters: rename the parent table",
                ))
                continue
            if self._relation_exists(table.schema, name):
                self.report.add(PartitionAction(
                    table.qualified, "error", name, lo_text, hi_text,
                    detail="a table of that name exists and is not a partition of the parent: rename or drop it",
                ))
                continue
            rows = in_default.pop(month, 0)
            if self.dry_run and rows <= self.max_move_rows:
                self.report.add(PartitionAction(
                    table.qualified, "would move" if rows else "would create", name, lo_text, hi_text,
                    rows=rows or None, lock="SHARE UPDATE EXCLUSIVE",
                    detail="CREATE TABLE (LIKE parent) + CHECK + ATTACH PARTITION"
                    + (f"; would move {rows} rows out of {table.default}" if rows else ""),
                ))
                continue
            if rows > self.max_move_rows:
                self.report.add(PartitionAction(
                    table.qualified, "error", name, lo_text, hi_text, rows=rows,
                    detail=f"the default partition {table.default} holds {rows} rows of this month, more than "
                    f"max_move_rows={self.max_move_rows}; moving them holds ACCESS EXCLUSIVE on the default "
                    "for the whole move: raise tool.dbops.partitions.max_move_rows for a maintenance window",
                ))
                continue
            self._create(table, name, lo_text, hi_text, rows)
        for month, rows in sorted(in_default.items()):
            self.report.add(PartitionAction(
                table.qualified, "warning", table.default,
                bound_literal(month, key_type), bound_literal(add_months(month, 1), key_type), rows=rows,
                detail=f"the default partition holds {rows} rows of {month:%Y-%m}, a month without a partition "
                "(outside the window created here)",
            ))

    def _create(self, table: PartitionedTable, name: str, lo: str, hi: str, rows: int) -> None:
        from psycopg import sql

        key_column, key_type = table.time_key
        parent = sql.Identifier(table.schema, table.name)
        child = sql.Identifier(table.schema, name)
        key = sql.Identifier(key_column)
        lo_lit, hi_lit = sql.Literal(lo), sql.Literal(hi)
        cast = sql.SQL(key_type)  # a type name read from the catalog, not user input
        statements: list[Any] = []
        if rows:
            assert table.default is not None  # rows to move out of the default partition: there is one
            default = sql.Identifier(table.schema, table.default)
            statements += [
                sql.SQL("LOCK TABLE ONLY {} IN SHARE UPDATE EXCLUSIVE MODE").format(parent),
                sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(default),
            ]
        statements += [
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING IDENTITY)").format(child, parent),
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({k} IS NOT NULL AND {k} >= {}::{t} AND {k} < {}::{t})").format(
                child, sql.Identifier(_CHECK_NAME), lo_lit, hi_lit, k=key, t=cast),
        ]
        if rows:
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in self._insertable_columns(table))
            where = sql.SQL("{k} >= {}::{t} AND {k} < {}::{t}").format(lo_lit, hi_lit, k=key, t=cast)
            statements += [
                sql.SQL("INSERT INTO {} ({c}) SELECT {c} FROM ONLY {} WHERE {}").format(child, default, where, c=columns),
                sql.SQL("DELETE FROM ONLY {} WHERE {}").format(default, where),
            ]
        statements += [
            sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(parent, child, lo_lit, hi_lit),
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(child, sql.Identifier(_CHECK_NAME)),
        ]
        moved = None
        insert_at = 4 if rows else -1  # the INSERT … SELECT whose rowcount is the rows moved

        def step() -> None:
            nonlocal moved
            with self.conn.transaction():
                for index, statement in enumerate(statements):
                    cur = self.conn.execute(statement)
                    if index == insert_at:
                        moved = cur.rowcount

        error = self._with_retries(step, f"create {name}")
        detail = "CREATE TABLE (LIKE parent) + CHECK + ATTACH PARTITION"
        if error:
            self.report.add(PartitionAction(table.qualified, "error", name, lo, hi, lock="SHARE UPDATE EXCLUSIVE",
                                            detail=error))
        elif rows:
            self.report.add(PartitionAction(
                table.qualified, "moved", name, lo, hi, rows=moved, lock="SHARE UPDATE EXCLUSIVE",
                detail=f"{detail}; moved {moved} rows out of {table.default} (ACCESS EXCLUSIVE on the default)",
            ))
        else:
            self.report.add(PartitionAction(table.qualified, "created", name, lo, hi, lock="SHARE UPDATE EXCLUSIVE",
                                            detail=detail))

    def _default_months(self, table: PartitionedTable) -> dict[date, int]:
        """Rows in the default partition, counted per (UTC) month."""
        if table.default is None:
            return {}
        from psycopg import sql

        rows = self.conn.execute(
            sql.SQL("SELECT date_trunc('month', {k})::date, count(*) FROM ONLY {d} WHERE {k} IS NOT NULL GROUP BY 1").format(
                k=sql.Identifier(table.time_key[0]), d=sql.Identifier(table.schema, table.default))
        ).fetchall()
        return {month: count for month, count in rows}

    def _insertable_columns(self, table: PartitionedTable) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' ORDER BY attnum",
            (table.oid,),
        )]

    def _relation_exists(self, schema: str, name: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (schema, name),
        ).fetchone() is not None

    # -- retention ------------------------------------------------------------

    def retention(self, table: PartitionedTable, cutoff: date, drop: bool, *, apply: bool = True) -> None:
        """Detach (and with ``drop`` drop) partitions ending before ``cutoff``; ``apply`` False: only report them."""
        limit = as_utc(cutoff)
        done: set[str] = set()
        for part in partitions_of(self.conn, table):
            if part.upper is None or part.upper > limit:
                continue
            if self.dry_run or not apply:
                self._not_applied(table, part.name, part.lower, part.upper, "detach" + (" and drop" if drop else ""))
                done.add(part.name)
                continue
            if self._detach(table, part):
                done.add(part.name)
                self._after_detach(table, part.name, part, drop)
        self._earlier_detached(table, cutoff, drop, skip=done, apply=apply and not self.dry_run)

    def _not_applied(self, table: PartitionedTable, name: str, lower: datetime | None, upper: datetime | None,
                     what: str) -> None:
        rows = self.conn.execute(sql_count(table.schema, name)).fetchone()
        verb = what.split()[0]
        if self.dry_run:
            self.report.add(PartitionAction(table.qualified, f"would {verb}", name, _fmt(lower), _fmt(upper),
                                            rows=rows[0] if rows else None, detail=f"retention: would {what}"))
        else:
            self.report.add(PartitionAction(
                table.qualified, {"detach": "not detached", "drop": "not dropped"}[verb], name, _fmt(lower), _fmt(upper),
                rows=rows[0] if rows else None,
                detail=f"retention would {what} it: rerun with --yes to confirm (nothing was detached or dropped)",
            ))

    def _detach(self, table: PartitionedTable, part: Partition) -> bool:
        from psycopg import sql

        parent, child = sql.Identifier(table.schema, table.name), sql.Identifier(table.schema, part.name)
        lo, hi = _fmt(part.lower), _fmt(part.upper)
        if table.default is None:
            statement = sql.SQL("ALTER TABLE {} DETACH PARTITION {} CONCURRENTLY").format(parent, child)
            lock, how = "SHARE UPDATE EXCLUSIVE", "DETACH PARTITION CONCURRENTLY"

            def step() -> None:
                try:
                    self.conn.execute(statement)
                except Exception:
                    # An interrupted CONCURRENTLY leaves the detach pending: complete it.
                    if self._pending(table, part.name):
                        self.conn.execute(sql.SQL("ALTER TABLE {} DETACH PARTITION {} FINALIZE").format(parent, child))
                        return
                    raise
        else:
            statement = sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(parent, child)
            lock = "ACCESS EXCLUSIVE"
            how = (f"plain DETACH PARTITION: PostgreSQL refuses CONCURRENTLY while a default partition "
                   f"({table.default}) exists; catalog-only, its wait bounded by lock_timeout")

            def step() -> None:
                with self.conn.transaction():
                    self.conn.execute(statement)

        error = self._with_retries(step, f"detach {part.name}")
        if error:
            self.report.add(PartitionAction(table.qualified, "error", part.name, lo, hi, lock=lock, detail=error))
            return False
        self.report.add(PartitionAction(table.qualified, "detached", part.name, lo, hi, lock=lock, detail=how))
        return True

    def _after_detach(self, table: PartitionedTable, name: str, part: Partition | None, drop: bool) -> None:
        from psycopg import sql

        child = sql.Identifier(table.schema, name)
        if drop:
            error = self._with_retries(lambda: self._in_tx(sql.SQL("DROP TABLE {}").format(child)), f"drop {name}")
            month = month_of_partition(table.name, name)
            lo = _fmt(part.lower) if part else (_fmt(as_utc(month)) if month else None)
            hi = _fmt(part.upper) if part else (_fmt(as_utc(add_months(month, 1))) if month else None)
            self.report.add(PartitionAction(
                table.qualified, "error" if error else "dropped", name, lo, hi,
                detail=error or "DROP TABLE of the detached partition (no lock on the parent)",
            ))
            return
        comment = DETACH_COMMENT.format(parent=table.qualified) + f" on {datetime.now(UTC):%Y-%m-%d}"
        self._in_tx(sql.SQL("COMMENT ON TABLE {} IS {}").format(child, sql.Literal(comment)))

    def _earlier_detached(self, table: PartitionedTable, cutoff: date, drop: bool, skip: set[str],
                          apply: bool = True) -> None:
        """Tables dbops detached in an earlier run (marked by comment): drop with ``drop``, else report kept."""
        rows = self.conn.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind = 'r' AND NOT c.relispartition
              AND obj_description(c.oid, 'pg_class') LIKE %s ORDER BY c.relname
            """,
            (table.schema, DETACH_COMMENT.format(parent=table.qualified).replace("_", "\\_") + "%"),
        ).fetchall()
        for (name,) in rows:
            month = month_of_partition(table.name, name)
            if name in skip or month is None or add_months(month, 1) > cutoff:
                continue
            if drop and not apply:
                self._not_applied(table, name, as_utc(month), as_utc(add_months(month, 1)), "drop")
            elif drop:
                self._after_detach(table, name, None, drop=True)
            else:
                self.report.add(PartitionAction(
                    table.qualified, "kept", name, detail="detached earlier and kept; --drop drops it",
                ))

    # -- helpers --------------------------------------------------------------

    def _finalize_pending(self, table: PartitionedTable) -> None:
        from psycopg import sql

        for part in partitions_of(self.conn, table):
            if not part.detach_pending:
                continue
            if self.dry_run:
                self.report.add(PartitionAction(table.qualified, "would finalize", part.name, _fmt(part.lower),
                                                _fmt(part.upper), detail="a DETACH CONCURRENTLY left pending"))
                continue
            statement = sql.SQL("ALTER TABLE {} DETACH PARTITION {} FINALIZE").format(
                sql.Identifier(table.schema, table.name), sql.Identifier(table.schema, part.name))
            error = self._with_retries(partial(self.conn.execute, statement), f"finalize {part.name}")
            self.report.add(PartitionAction(
                table.qualified, "error" if error else "finalized", part.name, _fmt(part.lower), _fmt(part.upper),
                lock="SHARE UPDATE EXCLUSIVE", detail=error or "completed a DETACH CONCURRENTLY left pending",
            ))

    def _pending(self, table: PartitionedTable, name: str) -> bool:
        return any(p.name == name and p.detach_pending for p in partitions_of(self.conn, table))

    def _in_tx(self, statement: Any) -> None:
        with self.conn.transaction():
            self.conn.execute(statement)

    def _with_retries(self, step: Callable[[], object], what: str) -> str | None:
        """Run ``step``; retry on lock_timeout/deadlock; return an error message or None."""
        import psycopg

        last = ""
        for attempt in range(1, self.retries + 1):
            try:
                step()
                return None
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
                last = first_line(exc)
                self.log(f"{what}: {last} (attempt {attempt}/{self.retries})")
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
            except psycopg.Error as exc:
                return f"{what} failed: {first_line(exc)}"
        return f"{what}: gave up after {self.retries} attempts ({last}); nothing changed, rerun later"


def sql_count(schema: str, name: str) -> Any:
    """``SELECT count(*)`` of one table (a partition: small enough to count)."""
    from psycopg import sql

    return sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))


def _fmt(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%d %H:%M:%S+00")
