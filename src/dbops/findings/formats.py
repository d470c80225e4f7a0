"""Machine formats of a Report: JSON, SARIF 2.1.0 and GitHub annotations.

The human text rendering lives in ``dbops.cli.render`` (rich); these are
plain strings so that any caller can write them anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from dbops import __version__
from dbops.findings.model import Finding, Report, Severity

if TYPE_CHECKING:  # the catalog is not imported on the warm path of `check locks --format json`
    from dbops.findings.catalog import RuleMeta

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_json(report: Report) -> str:
    """``{"findings": [...], "summary": {...}}``: one finding per line, stable key order.

    Each finding is encoded compactly by the C encoder (``indent`` would switch
    json to its pure-Python encoder: 10x slower on thousands of findings).

    >>> print(to_json(Report([])))
    {"findings": [
    ],
    "summary": {"counts": {"error": 0, "warning": 0, "info": 0}}}
    """
    data = report.to_dict()
    lines = ",\n".join(json.dumps(f, default=str, ensure_ascii=False) for f in data["findings"])
    summary = json.dumps(data["summary"], default=str, ensure_ascii=False)
    return '{"findings": [\n' + lines + ("\n" if lines else "") + '],\n"summary": ' + summary + "}"


class RuleLookup(Protocol):
    """What SARIF output needs of a rule catalog (``dbops.findings.catalog.Catalog``)."""

    def get(self, name: str, default: RuleMeta | None = None) -> RuleMeta | None: ...


def to_sarif(report: Report, catalog: RuleLookup | Mapping[str, str] | None = None) -> str:
    """SARIF 2.1.0 with one run of the tool ``dbops``.

    ``catalog`` describes the rules (``tool.driver.rules``: a one-line ``shortDescription``, the
    documentation as ``fullDescription``, the default level); a plain mapping of rule id to a
    description also works. Every result with a file has a physical location (a relative URI
    for a relative path); database objects are logical locations.

    >>> import json
    >>> f = Finding(rule="r", severity=Severity.ERROR, message="m", file="migrations/0001 x.sql", line=3)
    >>> run = json.loads(to_sarif(Report([f])))["runs"][0]
    >>> run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    'migrations/0001%20x.sql'
    >>> run["tool"]["driver"]["rules"][0]["shortDescription"]["text"]
    'r'
    """
    rule_ids = sorted({f.rule for f in report.findings})
    rules = [_descriptor(rid, catalog) for rid in rule_ids]
    index = {rid: k for k, rid in enumerate(rule_ids)}
    results = [_result(f, index[f.rule]) for f in report.sorted()]
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "dbops", "version": __version__, "rules": rules}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2)


def _descriptor(rule_id: str, catalog: RuleLookup | Mapping[str, str] | None) -> dict[str, Any]:
    meta = catalog.get(rule_id) if catalog is not None else None
    if meta is not None and not isinstance(meta, str):
        return {**meta.sarif_descriptor(), "id": rule_id}
    text = meta if isinstance(meta, str) and meta.strip() else rule_id
    first = text.strip().splitlines()[0]
    return {"id": rule_id, "shortDescription": {"text": first}, "fullDescription": {"text": text.strip()}}


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message + (f"\nFix: {f.fix}" if f.fix else "")},
    }
    if f.file:
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": file_uri(f.file)}}}
        region = {k: v for k, v in (("startLine", f.line), ("startColumn", f.column)) if v and v > 0}
        if region:
            location["physicalLocation"]["region"] = region
        if f.object:
            location["logicalLocations"] = [{"fullyQualifiedName": f.object}]
        result["locations"] = [location]
    elif f.object:
        result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": f.object}]}]
    return result


def file_uri(path: str) -> str:
    """A file name as a SARIF artifact URI: relative paths stay relative (percent-encoded).

    >>> file_uri("migrations/healthcare/versions/0001_init.py"), file_uri("/tmp/a b.sql")
    ('migrations/healthcare/versions/0001_init.py', 'file:///tmp/a%20b.sql')
    >>> file_uri("<stdin>")
    '%3Cstdin%3E'
    """
    from pathlib import PurePosixPath
    from urllib.parse import quote

    if path.startswith("/"):
        return PurePosixPath(path).as_uri()
    return quote(path.replace("\\", "/"), safe="/")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _subject(f: Finding) -> str:
    """``object: `` before the message of a finding without a file — unless the message starts with it."""
    if not f.object or f.file or f.message.startswith(f"{f.object}:"):
        return ""
    return f"{f.object}: "


def to_github(report: Report) -> str:
    """GitHub Actions workflow commands, one ``::error file=…,line=…::msg`` per finding."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for f in report.sorted():
        props = []
        if f.file:
            props.append(f"file={_escape_property(f.file)}")
            if f.line:
                props.append(f"line={f.line}")
            if f.column:
                props.append(f"col={f.column}")
        props.append(f"title={_escape_property(f.rule)}")
        message = _subject(f) + f.message + (f" Fix: {f.fix}" if f.fix else "")
        lines.append(f"::{level[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)
