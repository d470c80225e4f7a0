"""``dbops migrate`` (dev): apply pending revisions, then regenerate the types module.

The pending revisions are linted first (lock safety): dev applies them anyway
(the dev database is yours), but ``MigrateResult.lint`` carries the findings
so the CLI can warn that ``dbops deploy`` will refuse the errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings
from dbops.errors import DbopsError
from dbops.revisions import (
    EditedRevision,
    RunHooks,
    alembic_config,
    compare,
    load_history,
    migration_session,
    revision_failed,
)
from dbops.typegen import GenerateResult, generate
from dbops.workflows.locks import lint_pending

if TYPE_CHECKING:
    from dbops.findings import Report

Log = Callable[[str], None]


def _silent(_: str) -> None:
    pass


@dataclass
class MigrateResult:
    """What ``dbops migrate`` did for one schema."""

    schema: str
    applied: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # revision -> file
    edited: list[EditedRevision] = field(default_factory=list)
    recorded_unrecorded: list[str] = field(default_factory=list)
    types: GenerateResult | None = None
    types_note: str | None = None
    lint: Report | None = None  # lock-safety lint of the revisions this run applied (None: nothing pending)
    seconds: float = 0.0

    @property
    def lint_errors(self) -> int:
        return 0 if self.lint is None else sum(1 for f in self.lint.findings if f.severity.value == "error")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "applied": [{"revision": r, "file": self.files.get(r)} for r in self.applied],
            "edited": [e.to_dict() for e in self.edited],
            "recorded_unrecorded": self.recorded_unrecorded,
            "types": str(self.types.path) if self.types is not None else None,
            "types_note": self.types_note,
            "lint": self.lint.to_dict() if self.lint is not None else None,
            "seconds": round(self.seconds, 3),
        }


def migrate(settings: Settings, schema: SchemaSettings, url: str, *, generate_types: bool = True,
            lint: bool = True, log: Log = _silent) -> MigrateResult:
    """``dbops migrate``: apply pending revisions (dev database), then regenerate the types module.

    Unlike ``deploy`` it does not refuse edited applied revisions (you edit
    your own revision while developing): it reports them, so ``dbops reset``
    can rebuild the database.
    """
    started = time.perf_counter()
    history = load_history(settings, schema)
    config = alembic_config(settings, schema, url)
    result = MigrateResult(schema.name, files={r: f.file for r, f in history.revisions.items()})
    hooks = RunHooks(on_step=lambda step: result.applied.append(step.revision) if step.is_upgrade else None)
    with migration_session(url, "dbops migrate") as session:
        session.lock(schema.name, settings.deploy.advisory_lock_wait_seconds, log)
        current, recorded = session.state()
        history.check_known(current, recorded)
        result.edited = compare(dict(recorded), history.files())
        result.recorded_unrecorded = session.record_unrecorded(history, current, recorded, settings.root)
        pending = history.pending(current)
        if pending and lint:
            result.lint = lint_pending(settings, schema, pending, history=history)
        if pending:
            try:
                session.run(config, "upgrade", "heads", hooks, script=history.script)
            except DbopsError:
                raise
            except Exception as exc:
                now = session.current()
                pending = history.pending(now)
                raise revision_failed(schema, history, pending[0] if pending else None, now, exc) from exc
    if generate_types:
        result.types, result.types_note = _generate_types(settings, schema)
    result.seconds = time.perf_counter() - started
    return result


def _generate_types(settings: Settings, schema: SchemaSettings) -> tuple[GenerateResult | None, str | None]:
    if not schema.types_module or not schema.models:
        return None, "types not generated (no models / types_module configured for this schema)"
    return generate(settings, schema), None
