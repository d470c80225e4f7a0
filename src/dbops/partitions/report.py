"""What ``ensure_partitions`` did: one action per partition touched or checked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# action -> level: "ok" changes or confirms, "warning" needs a look, "error" was not done.
# "would …": a --dry-run plan; "not detached"/"not dropped": retention left for a confirmed run (--yes).
LEVELS = {
    "exists": "ok",
    "created": "ok",
    "moved": "ok",
    "finalized": "ok",
    "detached": "ok",
    "dropped": "ok",
    "kept": "ok",
    "info": "ok",
    "would create": "ok",
    "would move": "ok",
    "would finalize": "ok",
    "would detach": "ok",
    "would drop": "ok",
    "not detached": "warning",
    "not dropped": "warning",
    "warning": "warning",
    "error": "error",
}


@dataclass(frozen=True)
class PartitionAction:
    """One line of the report.

    ``lock`` names the strongest lock the step took on the parent (or the
    partition/default, said in ``detail``), so a reader can check the claim
    "no ACCESS EXCLUSIVE on the parent beyond what ATTACH/DETACH need".
    """

    table: str
    action: str
    partition: str | None = None
    range_from: str | None = None
    range_to: str | None = None
    rows: int | None = None
    lock: str | None = None
    detail: str = ""

    @property
    def level(self) -> str:
        return LEVELS[self.action]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["level"] = self.level
        return {k: v for k, v in data.items() if v not in (None, "")}


@dataclass
class PartitionReport:
    """Every action of one ``ensure_partitions`` run, plus the parameters it ran with."""

    schema: str
    today: str
    months_ahead: int
    retention_months: int
    drop: bool
    dry_run: bool = False
    tables: list[str] = field(default_factory=list)
    actions: list[PartitionAction] = field(default_factory=list)

    def add(self, action: PartitionAction) -> None:
        self.actions.append(action)

    def count(self, action: str) -> int:
        return sum(1 for a in self.actions if a.action == action)

    @property
    def changed(self) -> int:
        """How many partitions were created, moved into, detached, finalized or dropped."""
        return sum(1 for a in self.actions if a.action in ("created", "moved", "detached", "finalized", "dropped"))

    @property
    def unconfirmed(self) -> list[PartitionAction]:
        """Retention steps left undone for want of a confirmation."""
        return [a for a in self.actions if a.action in ("not detached", "not dropped")]

    @property
    def planned_retention(self) -> list[PartitionAction]:
        """What a dry run would detach or drop."""
        return [a for a in self.actions if a.action in ("would detach", "would drop")]

    def exit_code(self) -> int:
        """1 when a step could not be done (an ``error`` action) or retention awaits confirmation, else 0."""
        return 1 if any(a.level == "error" for a in self.actions) or self.unconfirmed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "today": self.today,
            "months_ahead": self.months_ahead,
            "retention_months": self.retention_months,
            "drop": self.drop,
            "dry_run": self.dry_run,
            "tables": list(self.tables),
            "actions": [a.to_dict() for a in self.actions],
            "summary": {
                "changed": self.changed,
                **{name: self.count(name) for name in LEVELS if self.count(name)},
            },
        }
