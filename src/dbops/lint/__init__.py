"""Lock-safety lint of PostgreSQL migrations (``dbops check locks``).

Public API:

* ``lint_sql(text, …) -> Report`` — one SQL text (a file's content, stdin);
* ``lint_paths(paths, settings, …) -> Report`` — .sql files and directories
  (``-`` is stdin), with a content-hash cache for warm reruns;
* ``lint_revisions(settings, schema_settings, *, since=None, revisions=None)``
  — Alembic revisions rendered one at a time through offline mode;
* ``RULES`` (id → rule) and ``rule_doc(id)``.

>>> report = lint_sql("CREATE INDEX users_email_idx ON users (email);")
>>> sorted({f.rule for f in report.findings})
['require-concurrent-index', 'require-lock-timeout']
>>> lint_sql("CREATE TABLE t (id bigint); CREATE INDEX t_idx ON t (id);").findings
[]
"""

from __future__ import annotations

from dbops.lint.api import lint_paths, lint_revisions, lint_sql, options_from_settings
from dbops.lint.registry import RULES, load_rules, rule_doc

load_rules()

__all__ = ["RULES", "lint_paths", "lint_revisions", "lint_sql", "options_from_settings", "rule_doc"]
