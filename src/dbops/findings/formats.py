"""Machine formats of a Report: JSON, SARIF 2.1.0 and GitHub annotations.

The human text rendering lives in ``dbops.cli.render`` (rich); these are
plain strings so that any caller can write them anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from dbops import __version__
from dbops.findings.model import Report, Severity

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


def to_sarif(report: Report, rule_docs: Mapping[str, str] | None = None) -> str:
    """SARIF 2.1.0 with one run of the tool ``dbops``.

    ``rule_docs`` maps rule id to a short description for the rules section.
    """
    rule_docs = rule_docs or {}
    rule_ids = sorted({f.rule for f in report.findings})
    rules = [
        {"id": rid, "shortDescription": {"text": rule_docs.get(rid, rid)}, "helpUri": f"dbops rules {rid}"}
        for rid in rule_ids
    ]
    results = []
    for f in report.sorted():
        result: dict = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f"\nFix: {f.fix}" if f.fix else "")},
        }
        if f.file:
            region = {}
            if f.line:
                region["startLine"] = f.line
            if f.column:
                region["startColumn"] = f.column
            location: dict = {"physicalLocation": {"artifactLocation": {"uri": f.file}}}
            if region:
                location["physicalLocation"]["region"] = region
            result["locations"] = [location]
        elif f.object:
            result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": f.object}]}]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "dbops", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


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
        subject = f"{f.object}: " if f.object and not f.file else ""
        message = subject + f.message + (f" Fix: {f.fix}" if f.fix else "")
        lines.append(f"::{level[f.severity]} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)
