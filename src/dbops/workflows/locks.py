"""``dbops check locks``: the lock-safety lint of files and of the schemas' revisions.

The composition the lint itself does not know: read a schema's history and
render its revisions through Alembic (``dbops.revisions``), then lint the
rendered SQL (``dbops.lint``, a leaf that never imports Alembic).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from dbops.config import SchemaSettings, Settings
from dbops.findings import Report, Severity
from dbops.lint import lint_paths, lint_revisions
from dbops.revisions import History, load_history, render_history

#: The lint rule a deploy satisfies by construction (it sets lock_timeout before every revision).
LOCK_TIMEOUT_RULE = "require-lock-timeout"


def lint_schema_revisions(settings: Settings, schema: SchemaSettings, *, since: str | None = None,
                          revisions: Iterable[str] | None = None, pg_version: int | None = None,
                          history: History | None = None) -> Report:
    """Lint the revisions of one schema: all, those after ``since``, or the ids in ``revisions``.

    Every revision is rendered (earlier ones tell the lint the column types);
    findings come only for the selected ones.
    """
    history = history or load_history(settings, schema)
    selected: set[str] | None = None
    if revisions is not None:
        selected = history.resolve(list(revisions))
    elif since:
        selected = history.after(since)
    return lint_revisions(render_history(settings, history), settings, report=selected, pg_version=pg_version,
                          schema=schema.name)


def lint_pending(settings: Settings, schema: SchemaSettings, revisions: list[str], *,
                 deploy_lock_timeout: str | None = None, history: History | None = None) -> Report:
    """Lock-safety lint of the pending ``revisions`` (``deploy``, ``migrate create``).

    ``deploy_lock_timeout``: the lock_timeout ``deploy`` sets before each
    revision; when it is not zero, "missing lock_timeout" findings are
    downgraded to info (the revision cannot wait unbounded under deploy).
    """
    report = lint_schema_revisions(settings, schema, revisions=revisions, history=history)
    if deploy_lock_timeout and not is_zero_duration(deploy_lock_timeout):
        report.findings = [
            replace(f, severity=Severity.INFO,
                    message=f"{f.message} (under dbops deploy: lock_timeout = {deploy_lock_timeout} is set "
                    "before each revision)")
            if f.rule == LOCK_TIMEOUT_RULE and f.severity is not Severity.INFO else f
            for f in report.findings
        ]
    return report


def check_locks(settings: Settings, paths: Sequence[str | Path] | None = None, *, schema: str | None = None,
                since: str | None = None, assume_in_transaction: bool | None = None,
                pg_version: int | None = None, database_url: str | None = None) -> Report:
    """``dbops check locks``: the files given, else (or with ``schema``) the schemas' revisions.

    ``database_url``: the files' tables are read there first (their current column types), so
    that a type change that only relabels is not reported as a rewrite.
    """
    report = Report()
    if paths:
        known = None
        if database_url:
            from dbops.lint.live import column_types  # psycopg: only when a database is given

            known = column_types(database_url)
        report.extend(lint_paths(paths, settings, assume_in_transaction=assume_in_transaction,
                                 pg_version=pg_version, known_types=known), prefix="files")
    if not paths or schema:
        for schema_settings in settings.select(schema):
            part = lint_schema_revisions(settings, schema_settings, since=since, pg_version=pg_version)
            report.extend(part, prefix=schema_settings.name)
    return report


def is_zero_duration(value: str) -> bool:
    """PostgreSQL's "disabled" timeout values.

    >>> [is_zero_duration(v) for v in ("0", "0ms", " 0 s", "2s", "500ms")]
    [True, True, True, False, False]
    """
    return re.fullmatch(r"\s*0+\s*(us|ms|s|min|h|d)?\s*", value) is not None
