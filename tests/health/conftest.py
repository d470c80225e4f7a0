"""Helpers for the health-audit tests: plant defects with real SQL, audit, look at findings."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import psycopg
import pytest


def execute(url: str, *statements: str) -> None:
    """Run statements one by one in autocommit (so CONCURRENTLY, VACUUM and COMMIT in DO work)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def flush_stats(conn: psycopg.Connection) -> None:
    """Make this backend's pending statistics visible to other backends now (PG15 flushes lazily)."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")


def objects(report, rule: str) -> set[str]:
    """The objects the report flags under ``rule``."""
    return {f.object for f in report.findings if f.rule == rule}


def finding(report, rule: str, obj: str):
    matches = [f for f in report.findings if f.rule == rule and f.object == obj]
    assert len(matches) == 1, (rule, obj, [(f.rule, f.object) for f in report.findings])
    return matches[0]


@pytest.fixture
def audit_db(settings):
    """``audit_db(url, schema_only=False, **index_settings)`` → Report, with thresholds overridden."""
    from dbops.health import audit

    def run(url: str | list[str], *, schema_only: bool = False, exclude=(), on_query=None, **overrides):
        custom = dataclasses.replace(settings, indexes=dataclasses.replace(settings.indexes, **overrides))
        urls = [url] if isinstance(url, str) else url
        return audit(urls, custom, schema_only=schema_only, exclude=exclude, on_query=on_query)

    return run


@pytest.fixture
def h():
    """The helpers above as one object (test modules cannot import conftest in importlib mode)."""
    return SimpleNamespace(execute=execute, flush_stats=flush_stats, objects=objects, finding=finding)
