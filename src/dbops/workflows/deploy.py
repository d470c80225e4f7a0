"""``dbops deploy``: apply pending revisions to production, safely.

No autogenerate, no prompts. In order:

1. take the schema's advisory lock (bounded wait; a second deploy gives up
   with "another deploy holds the lock");
2. refuse when an applied revision file was edited since it was applied
   (its sha256 no longer matches ``dbops_revision_checksums``);
3. lint the pending revisions (``dbops.workflows.locks.lint_pending``),
   refuse on error findings;
4. apply them, each in its own transaction (``autocommit_block`` parts
   outside it) with ``lock_timeout`` / ``statement_timeout`` from
   ``[tool.dbops.deploy]``, reset after every revision; a revision that hit
   ``lock_timeout`` (or a deadlock) is rolled back and retried with
   exponential backoff, a bounded number of times; any other failure rolls
   the revision back and stops: the database stays at the previous revision.

``dry_run`` renders the SQL through Alembic's offline mode and changes nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings
from dbops.db import connection
from dbops.errors import ConfigError, DbopsError, OperationFailed
from dbops.revisions import (
    RETRYABLE_SQLSTATES,
    AppliedStep,
    EditedRevision,
    History,
    MigrationSession,
    RunHooks,
    alembic_config,
    compare,
    database_state,
    error_detail,
    load_history,
    migration_session,
    revision_failed,
    sqlstate,
    upgrade_sql,
)
from dbops.workflows.locks import lint_pending

if TYPE_CHECKING:
    from dbops.findings import Report

Log = Callable[[str], None]


def _silent(_: str) -> None:
    pass


class EditedRevisionsError(OperationFailed):
    """Applied revision files were edited: deploying on top of them is refused (exit 1)."""

    def __init__(self, schema: str, edited: list[EditedRevision]) -> None:
        self.edited = edited
        files = "; ".join(e.describe() for e in edited)
        super().__init__(
            f"{schema}: refusing to deploy: {files}",
            location=edited[0].file if edited and edited[0].actual is not None else None,
            hint="restore the applied revision file(s) as they were (git) and put the change in a new revision",
        )


class LintRefused(OperationFailed):
    """The lock-safety lint found errors in the pending revisions (exit 1); ``report`` holds them."""

    def __init__(self, schema: str, report: Report) -> None:
        self.report = report
        errors = sum(1 for f in report.findings if f.severity.value == "error")
        super().__init__(
            f"{schema}: refusing to deploy: the lock-safety lint found {errors} error(s) in the pending revisions",
            hint="fix the revisions (or suppress a finding with `-- dbops: ignore[rule] reason`) and deploy again",
        )


@dataclass
class AppliedRevision:
    revision: str
    file: str
    seconds: float
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "file": self.file, "seconds": round(self.seconds, 3),
                "attempts": self.attempts}


@dataclass
class DeployReport:
    """The outcome of one schema's deploy (or dry run)."""

    schema: str
    dry_run: bool = False
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    pending: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    applied: list[AppliedRevision] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)  # one line per retry
    edited: list[EditedRevision] = field(default_factory=list)
    recorded_unrecorded: list[str] = field(default_factory=list)
    lint: Report | None = None
    sql: str = ""
    lock_wait_seconds: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "dry_run": self.dry_run,
            "before": list(self.before),
            "after": list(self.after),
            "heads": list(self.heads),
            "pending": [{"revision": r, "file": self.files.get(r)} for r in self.pending],
            "applied": [a.to_dict() for a in self.applied],
            "retries": self.retries,
            "edited": [e.to_dict() for e in self.edited],
            "recorded_unrecorded": self.recorded_unrecorded,
            "lint": self.lint.to_dict() if self.lint is not None else None,
            "sql": self.sql if self.dry_run else None,
            "lock_wait_seconds": round(self.lock_wait_seconds, 3),
            "seconds": round(self.seconds, 3),
        }


def deploy(settings: Settings, schema: SchemaSettings, url: str, *, dry_run: bool = False,
           log: Log = _silent, sleep: Callable[[float], None] = time.sleep) -> DeployReport:
    """Deploy the pending revisions of ``schema`` to ``url`` (see the module docstring).

    Raises OperationFailed (exit 1) when the lock is busy, an applied revision
    was edited, the lint refuses (``LintRefused``) or a revision fails.
    """
    started = time.perf_counter()
    history = load_history(settings, schema)
    report = DeployReport(schema.name, dry_run=dry_run, heads=history.heads,
                          files={r: f.file for r, f in history.revisions.items()})
    if dry_run:
        _dry_run(settings, schema, url, history, report)
    else:
        with migration_session(url, "dbops deploy") as session:
            timeouts = _session_timeouts(session, settings)
            report.lock_wait_seconds = session.lock(schema.name, settings.deploy.advisory_lock_wait_seconds, log)
            _deploy_locked(settings, schema, session, history, report, timeouts, log, sleep)
    report.seconds = time.perf_counter() - started
    return report


def _deploy_locked(settings: Settings, schema: SchemaSettings, session: MigrationSession, history: History,
                   report: DeployReport, timeouts: list[str], log: Log, sleep: Callable[[float], None]) -> None:
    report.before, recorded = session.state()
    history.check_known(report.before, recorded)
    report.edited = compare(recorded, history.files())
    if report.edited:
        raise EditedRevisionsError(schema.name, report.edited)
    report.pending = history.pending(report.before)
    if not report.pending:
        report.after = report.before
        return
    report.lint = lint_pending(settings, schema, report.pending, deploy_lock_timeout=settings.deploy.lock_timeout,
                               history=history)
    if report.lint is not None and _has_errors(report.lint):
        raise LintRefused(schema.name, report.lint)

    report.recorded_unrecorded = session.record_unrecorded(history, report.before, recorded, settings.root)
    if report.recorded_unrecorded:  # applied before dbops tracked them (plain alembic): trusted as they are now
        log(f"{schema.name}: recorded the checksums of {len(report.recorded_unrecorded)} revision(s) applied before "
            "dbops tracked them")

    attempts: Counter[str] = Counter()
    mark = [time.perf_counter()]

    def on_step(step: AppliedStep) -> None:
        now = time.perf_counter()
        rev = step.revision
        report.applied.append(AppliedRevision(rev, report.files.get(rev, rev), now - mark[0], attempts[rev] + 1))
        log(f"{schema.name}: applied {report.files.get(rev, rev)} in {now - mark[0]:.2f}s")
        mark[0] = now

    hooks = RunHooks(preamble=timeouts, after_each=timeouts, on_step=on_step)
    config = alembic_config(settings, schema, session.url)
    deploy_settings = settings.deploy
    while True:
        mark[0] = time.perf_counter()
        try:
            session.run(config, "upgrade", "heads", hooks, script=history.script)
            break
        except DbopsError:
            raise
        except Exception as exc:
            current = session.current()
            pending = history.pending(current)
            failing = pending[0] if pending else None
            state = sqlstate(exc)
            if failing is not None and state in RETRYABLE_SQLSTATES and attempts[failing] < deploy_settings.retries:
                attempts[failing] += 1
                delay = min(deploy_settings.retry_backoff_seconds * 2 ** (attempts[failing] - 1),
                            deploy_settings.retry_backoff_max_seconds)
                line = (f"{schema.name}: {report.files.get(failing, failing)} hit {RETRYABLE_SQLSTATES[state]} "
                        f"({error_detail(exc)}); rolled back, retry {attempts[failing]}/{deploy_settings.retries} "
                        f"in {delay:.1f}s")
                report.retries.append(line)
                log(line)
                sleep(delay)
                continue
            if failing is not None and state in RETRYABLE_SQLSTATES:
                exc_note = f"still blocked after {deploy_settings.retries} retries"
                raise OperationFailed(
                    f"{schema.name}: revision {failing} gave up: {error_detail(exc)} ({exc_note}); rolled back, "
                    f"the database stays at {', '.join(current) or 'base (empty)'}",
                    location=report.files.get(failing),
                    hint="find the session holding the lock (pg_locks / pg_stat_activity) and deploy again when it "
                    "is done, or raise tool.dbops.deploy.retries",
                ) from exc
            raise revision_failed(schema, history, failing, current, exc) from exc
    report.after = session.current()


def _session_timeouts(session: MigrationSession, settings: Settings) -> list[str]:
    """``SET lock_timeout/statement_timeout`` from config, validated by the server (bad value: ConfigError)."""
    import sqlalchemy

    statements = []
    for name in ("lock_timeout", "statement_timeout"):
        value = getattr(settings.deploy, name)
        try:
            session.conn.execute(sqlalchemy.text("SELECT set_config(:name, :value, false)"),
                                 {"name": name, "value": value})
        except sqlalchemy.exc.DBAPIError as exc:
            session.conn.rollback()
            raise ConfigError(
                f"tool.dbops.deploy.{name} = {value!r} is not a valid PostgreSQL {name}: {error_detail(exc)}",
                location=str(settings.config_file) if settings.config_file else None,
                hint="use a duration such as '2s', '500ms' or '15min'",
            ) from None
        statements.append(f"SET {name} = '{value}'")
    session.conn.rollback()
    return statements


def _has_errors(report: Report) -> bool:
    return any(f.severity.value == "error" for f in report.findings)


def _dry_run(settings: Settings, schema: SchemaSettings, url: str, history: History, report: DeployReport) -> None:
    """Read-only: current revision, edited files, lint, and the SQL Alembic would run (offline mode)."""

    with connection(url) as conn:
        conn.read_only = True
        report.before, recorded = database_state(conn)
    history.check_known(report.before, recorded)
    report.after = report.before
    report.edited = compare(recorded, history.files())
    report.pending = history.pending(report.before)
    if not report.pending:
        return
    report.lint = lint_pending(settings, schema, report.pending, deploy_lock_timeout=settings.deploy.lock_timeout,
                               history=history)
    timeouts = [f"SET {name} = '{getattr(settings.deploy, name)}'" for name in ("lock_timeout", "statement_timeout")]
    if len(report.before) > 1:
        raise OperationFailed(f"{schema.name}: --dry-run from several heads ({', '.join(report.before)}) is not supported",
                              hint="merge the branches first (alembic merge)")
    try:
        report.sql = upgrade_sql(settings, schema, url, report.before[0] if report.before else None,
                                 RunHooks(preamble=timeouts, after_each=timeouts))
    except DbopsError:
        raise
    except Exception as exc:
        raise OperationFailed(f"{schema.name}: cannot render the pending revisions as SQL: {error_detail(exc)}",
                              hint="a revision that inspects the database (op.get_bind()) cannot run offline") from exc
