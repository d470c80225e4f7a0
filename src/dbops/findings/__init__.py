"""The one shape every check emits, and its machine formats.

>>> f = Finding(rule="require-concurrent-index", severity=Severity.ERROR,
...             message="CREATE INDEX without CONCURRENTLY", file="m.sql", line=3, column=1)
>>> Report([f]).exit_code()
1
>>> Report([]).exit_code()
0
"""

from dbops.findings.formats import to_github, to_json, to_sarif
from dbops.findings.model import Finding, Report, Severity

__all__ = ["Finding", "Report", "Severity", "to_github", "to_json", "to_sarif"]
