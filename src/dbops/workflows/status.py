"""``dbops status``: where a database stands against its schema's revisions and models.

Read-only. Reports the current and head revisions, the pending revisions,
edited (or vanished) applied revision files, and the drift between the
models and the database (``dbops.drift.model_drift``, checked when the
database is at head: before that, pending revisions would all look like
drift).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbops.config import SchemaSettings, Settings, mask_url
from dbops.db import connection
from dbops.drift import drift_finding, model_drift
from dbops.findings import Finding, Report, Severity
from dbops.revisions import EditedRevision, RevisionFile, compare, database_state, load_history


@dataclass
class SchemaStatus:
    """One schema's status; ``up_to_date`` is what ``dbops status`` exits on."""

    schema: str
    database: str  # masked URL
    current: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()
    pending: list[RevisionFile] = field(default_factory=list)
    edited: list[EditedRevision] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)  # applied, no checksum recorded yet
    drift: list[str] | None = None  # None: not checked (see drift_note)
    drift_note: str | None = None

    @property
    def up_to_date(self) -> bool:
        return not (self.pending or self.edited or self.drift)

    def report(self, settings: Settings, schema: SchemaSettings) -> Report:
        """The status as findings (``--format json|sarif|github``): one error per thing that is not up to date.

        ``revision-pending`` at the pending revision's file, ``revision-edited`` at the edited file,
        ``model-drift`` at the model's file and line.
        """
        findings = [
            Finding("revision-pending", Severity.ERROR,
                    f"{self.schema}: revision {p.revision} ({p.message or p.file}) is not applied to {self.database}",
                    file=p.file, line=1, object=self.schema, check="status", fix=f"dbops migrate {self.schema}")
            for p in self.pending
        ]
        findings += [
            Finding("revision-edited", Severity.ERROR, f"{self.schema}: {e.describe()}", file=e.file,
                    line=1 if e.actual is not None else None, object=self.schema, check="status",
                    fix=f"restore the applied file (git), or rebuild the dev database: dbops reset {self.schema}")
            for e in self.edited
        ]
        findings += [drift_finding(settings, schema, difference, "the database differs from the models")
                     for difference in self.drift or []]
        return Report(findings, {self.schema: self.to_dict()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "database": self.database,
            "current": list(self.current),
            "heads": list(self.heads),
            "up_to_date": self.up_to_date,
            "pending": [p.to_dict() for p in self.pending],
            "edited": [e.to_dict() for e in self.edited],
            "unrecorded": self.unrecorded,
            "drift": self.drift,
            "drift_note": self.drift_note,
        }


def status(settings: Settings, schema: SchemaSettings, url: str, *, check_drift: bool = True) -> SchemaStatus:
    """The status of ``schema`` in the database at ``url`` (changes nothing).

    A database at a revision that has no file here is an InputError (exit 2), as in every command.
    """

    history = load_history(settings, schema)
    with connection(url) as conn:
        conn.read_only = True
        current, recorded = database_state(conn)
    history.check_known(current, recorded)
    result = SchemaStatus(schema.name, mask_url(url), current=current, heads=history.heads)
    result.pending = [history.revisions[r] for r in history.pending(current)]
    result.edited = compare(recorded, history.files())
    result.unrecorded = [r for r in history.applied(current) if r not in recorded]
    if not check_drift:
        result.drift_note = "drift not checked"
    elif result.pending:
        result.drift_note = "drift not checked: the database is not at head"
    else:
        result.drift, result.drift_note = _drift(settings, schema, url)
    return result


def _drift(settings: Settings, schema: SchemaSettings, url: str) -> tuple[list[str] | None, str | None]:
    if not schema.models:
        return None, "drift not checked: no models module configured for this schema"
    return list(model_drift(settings, schema, url)), None
