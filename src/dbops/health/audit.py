"""``audit()``: run the checks on a primary (and its replicas) and turn the rows into a Report."""

from __future__ import annotations

import dataclasses
import fnmatch
import time
from collections.abc import Iterable, Sequence
from typing import Any

from dbops.config import Settings
from dbops.config.settings import IndexesSettings
from dbops.config.urls import mask_url
from dbops.errors import ConfigError, UsageError
from dbops.findings import Finding, Report, Severity
from dbops.health.checks import CHECKS
from dbops.health.model import Check, Context, Row, split_qualified
from dbops.health.runner import QueryHook, agree_across_servers, collapse_partitions, run_checks


def audit(
    urls: Sequence[str],
    settings: Settings,
    *,
    schema_only: bool = False,
    exclude: Iterable[str] = (),
    pg_schemas: Sequence[str] | None = None,
    on_query: QueryHook | None = None,
) -> Report:
    """Index and schema health audit of the database at ``urls[0]`` (read-only, constant query count).

    ``urls[1:]`` are its replicas: per-server checks (unused indexes) report
    an index only when every server agrees. ``schema_only`` skips the checks
    that need statistics (CI on a fresh database). ``exclude`` adds name
    patterns to ``[tool.dbops.indexes] exclude_objects``; ``pg_schemas``
    limits the audit to those PostgreSQL schemas. ``on_query`` is a test hook
    called after each statement while the transaction is open.
    The summary holds ``queries`` (statements sent, all servers) and
    ``elapsed_ms``.
    """
    if not urls:
        raise UsageError("no database URL to audit", hint="pass --database-url or configure the schema's URL")
    cfg = settings.indexes
    checks = select_checks(cfg, schema_only=schema_only, location=_where(settings))
    params = parameters(cfg, pg_schemas)
    patterns = [*cfg.exclude_objects, *exclude]
    started = time.perf_counter()
    timeouts = {"statement_timeout": cfg.statement_timeout, "lock_timeout": cfg.lock_timeout}
    primary = run_checks(urls[0], checks, params, on_query=on_query, **timeouts)
    per_server = [c for c in checks if c.per_server]
    replicas = [run_checks(url, per_server, params, on_query=on_query, **timeouts) for url in urls[1:]] if per_server else []
    raw = primary.context
    if pg_schemas:
        present = set(raw.get("namespaces") or ())
        missing = [name for name in pg_schemas if name not in present]
        if missing:
            raise UsageError(
                f"--pg-schema: no schema {', '.join(repr(m) for m in missing)} in database {raw['database']}",
                hint=f"its schemas: {', '.join(sorted(present)) or 'none'}",
            )
    ctx = Context(
        database=raw["database"],
        server_version=raw["server_version"],
        stats_reset=raw["stats_reset"],
        postmaster_start=raw["postmaster_start"],
        params=params,
        servers=1 + len(replicas),
    )
    findings: list[Finding] = []
    for check in checks:
        rows = primary.rows[check.name]
        if check.per_server and replicas:
            rows = agree_across_servers(rows, [r.rows[check.name] for r in replicas])
        rows = collapse_partitions(rows, primary.partition_leaves, check.sum_columns)
        for row in rows:
            if _too_small(row, cfg):
                continue
            for finding in _as_list(check.mapper(row, ctx)):
                if _excluded(finding, row, patterns):
                    continue
                findings.append(_with_severity(finding, cfg))
    for finding in findings:
        finding.details.setdefault("database", ctx.database)
    elapsed = time.perf_counter() - started
    report = Report(findings)
    report.summary = {
        "database": ctx.database,
        "servers": [mask_url(u) for u in urls[: 1 + len(replicas)]],
        "server_version": ctx.server_version,
        "schema_only": schema_only,
        "checks": [c.name for c in checks],
        "pg_schemas": list(pg_schemas) if pg_schemas else None,
        "queries": primary.queries + sum(r.queries for r in replicas),
        "queries_per_server": [primary.queries, *(r.queries for r in replicas)],
        "elapsed_ms": round(elapsed * 1000, 1),
        "stats_reset": ctx.stats_reset.isoformat() if ctx.stats_reset else None,
    }
    return report


def select_checks(cfg: IndexesSettings, *, schema_only: bool = False, location: str | None = None) -> list[Check]:
    """The checks to run: all registered ones minus ``ignore``d / ``off`` ones (and runtime ones when schema_only)."""
    for name in [*cfg.ignore, *cfg.severity]:
        if name not in CHECKS:
            raise ConfigError(
                f"unknown check {name!r} in [tool.dbops.indexes]", location=location,
                hint=f"known checks: {', '.join(CHECKS)}",
            )
    for name, value in cfg.severity.items():
        if value not in ("error", "warning", "info", "off"):
            raise ConfigError(
                f"tool.dbops.indexes.severity.{name} must be error, warning, info or off, not {value!r}",
                location=location,
            )
    return [
        c
        for c in CHECKS.values()
        if c.name not in cfg.ignore and cfg.severity.get(c.name) != "off" and not (schema_only and c.runtime)
    ]


def parameters(cfg: IndexesSettings, pg_schemas: Sequence[str] | None = None) -> dict[str, Any]:
    """The named parameters every check's SQL may use (thresholds and schema filters from config).

    >>> p = parameters(IndexesSettings(), ["public"])
    >>> p["schemas"], p["exclude_schemas"], p["unused_max_scans"]
    (['public'], [], 0)
    """
    return {
        "schemas": list(pg_schemas) if pg_schemas else None,
        "exclude_schemas": list(cfg.exclude_schemas),
        "sequence_percent": float(cfg.sequence_overflow_percent),
        "int4_pk_min_rows": int(cfg.int4_pk_min_rows),
        "int4_pk_percent": float(cfg.int4_pk_percent),
        "unused_max_scans": int(cfg.unused_index_max_scans),
        "unused_min_age_days": float(cfg.unused_index_min_age_days),
        "seq_scan_min_count": int(cfg.seq_scan_min_count),
        "seq_scan_min_rows": int(cfg.seq_scan_min_rows),
        "bloat_min_bytes": int(cfg.bloat_min_bytes),
        "bloat_min_percent": float(cfg.bloat_min_percent),
        "cache_hit_min_percent": float(cfg.cache_hit_min_percent),
        "cache_hit_min_blocks": int(cfg.cache_hit_min_blocks),
        "wraparound_max_age": int(cfg.wraparound_max_age),
        "stale_min_rows": int(cfg.stale_min_rows),
    }


def _where(settings: Settings) -> str | None:
    return str(settings.config_file) if settings.config_file else None


def _as_list(result: Finding | Iterable[Finding] | None) -> list[Finding]:
    if result is None:
        return []
    if isinstance(result, Finding):
        return [result]
    return list(result)


def _too_small(row: Row, cfg: IndexesSettings) -> bool:
    table_size = row.get("table_size")
    index_size = row.get("index_size")
    return (table_size is not None and table_size < cfg.min_table_size_bytes) or (
        index_size is not None and index_size < cfg.min_index_size_bytes
    )


def _names(qualified: str | None) -> list[str]:
    if not qualified:
        return []
    schema, name = split_qualified(qualified.split(" (")[0])
    return [f"{schema}.{name}" if schema else name, name]


def excluded(names: Iterable[str], patterns: Sequence[str]) -> bool:
    """True when a name (``schema.name`` or bare ``name``) matches a glob pattern.

    >>> excluded(["public.tmp_import", "tmp_import"], ["tmp_*"]), excluded(["audit.log", "log"], ["public.*"])
    (True, False)
    """
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)


def _excluded(finding: Finding, row: Row, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    obj = finding.object or ""
    names = _names(obj)
    if obj.count(".") >= 2:  # table.column / table.constraint: match the table too
        names += _names(obj.rsplit(".", 1)[0])
    names += _names(row.get("table_name"))
    return excluded(names, patterns)


def _with_severity(finding: Finding, cfg: IndexesSettings) -> Finding:
    override = cfg.severity.get(finding.rule)
    if override and override != "off":
        return dataclasses.replace(finding, severity=Severity.parse(override))
    return finding
