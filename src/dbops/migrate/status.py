"""``dbops status``: where a database stands against its schema's revisions and models.

Read-only. Reports the current and head revisions, the pending revisions,
edited (or vanished) applied revision files, and the drift between the
models and the database (``dbops.drift.model_drift``, checked when the
database is at head: before that, pending revisions would all look like
drift).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.config import SchemaSettings, Settings, mask_url

if TYPE_CHECKING:
    from dbops.migrate.checksums import EditedRevision
    from dbops.migrate.revisions import RevisionFile


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
    unknown_current: list[str] = field(default_factory=list)  # in alembic_version, no file
    drift: list[str] | None = None  # None: not checked (see drift_note)
    drift_note: str | None = None

    @property
    def up_to_date(self) -> bool:
        return not (self.pending or self.edited or self.drift or self.unknown_current)

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
            "unknown_current": self.unknown_current,
            "drift": self.drift,
            "drift_note": self.drift_note,
        }


def status(settings: Settings, schema: SchemaSettings, url: str, *, check_drift: bool = True) -> SchemaStatus:
    """The status of ``schema`` in the database at ``url`` (changes nothing)."""
    from dbops.db import connection
    from dbops.migrate.api import database_state
    from dbops.migrate.checksums import compare
    from dbops.migrate.revisions import load_history

    history = load_history(settings, schema)
    with connection(url) as conn:
        conn.read_only = True
        current, recorded = database_state(conn)
    result = SchemaStatus(schema.name, mask_url(url), current=current, heads=history.heads)
    result.unknown_current = [r for r in current if r not in history.revisions]
    known = tuple(r for r in current if r in history.revisions)
    result.pending = [history.revisions[r] for r in history.pending(known)]
    result.edited = compare(recorded, history.files())
    result.unrecorded = [r for r in history.applied(known) if r not in recorded]
    if not check_drift:
        result.drift_note = "drift not checked"
    elif result.pending or result.unknown_current:
        result.drift_note = "drift not checked: the database is not at head"
    else:
        result.drift, result.drift_note = _drift(settings, schema, url)
    return result


def _drift(settings: Settings, schema: SchemaSettings, url: str) -> tuple[list[str] | None, str | None]:
    if not schema.models:
        return None, "drift not checked: no models module configured for this schema"
    from dbops.drift import model_drift

    return list(model_drift(settings, schema, url)), None
