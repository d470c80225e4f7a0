"""Finding, Severity and Report: the contract between checks and renderers."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any


class Severity(enum.StrEnum):
    """Ordered severities; ``Severity.ERROR`` fails a build by default."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r} (use error, warning or info)") from None


@dataclass(frozen=True)
class Finding:
    """One thing a check found.

    ``file``/``line``/``column`` (1-based) locate file-based findings;
    ``object`` names the database object for database-based ones. ``fix`` is
    the safe alternative or the SQL to run. ``aliases`` lists equivalent rule
    names of other tools (squawk, strong_migrations). ``details`` holds
    check-specific data (sizes, measured values) for JSON consumers.
    """

    rule: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    object: str | None = None
    fix: str | None = None
    aliases: tuple[str, ...] = ()
    excerpt: str | None = None
    check: str | None = None
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def location(self) -> str | None:
        """``file:line:column`` (as far as known), or None."""
        if not self.file:
            return None
        parts = [self.file]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: empty fields left out, severity as its string.

        Shallow on purpose (``dataclasses.asdict`` deep-copies ``details``: slow
        on thousands of findings, and JSON does not need the copy).
        """
        data: dict[str, Any] = {}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if value in (None, (), [], {}):
                continue
            data[name] = value
        data["severity"] = self.severity.value
        if self.aliases:
            data["aliases"] = list(self.aliases)
        return data


_FIELD_NAMES = tuple(f.name for f in fields(Finding))


@dataclass
class Report:
    """Findings plus a free-form summary (counts, measured figures)."""

    findings: list[Finding] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    def extend(self, other: Report, *, prefix: str | None = None) -> None:
        """Merge another report (``dbops check all``); its summary nests under ``prefix``."""
        self.findings.extend(other.findings)
        if prefix:
            self.summary[prefix] = other.summary
        else:
            self.summary.update(other.summary)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for finding in self.findings:
            counts[finding.severity.value] += 1
        return counts

    def exit_code(self, fail_on: Severity = Severity.ERROR) -> int:
        """1 when a finding is at or above ``fail_on``, else 0 (docs/design.md "Exit codes")."""
        return int(any(f.severity.rank >= fail_on.rank for f in self.findings))

    def sorted(self) -> list[Finding]:
        """Most severe first, then by location/object, stable."""
        return sorted(
            self.findings,
            key=lambda f: (-f.severity.rank, f.file or "", f.line or 0, f.column or 0, f.object or "", f.rule),
        )

    def to_dict(self) -> dict[str, Any]:
        summary = {"counts": self.counts(), **self.summary}
        return {"findings": [f.to_dict() for f in self.sorted()], "summary": summary}
