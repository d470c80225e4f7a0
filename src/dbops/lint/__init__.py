"""Lock-safety lint of PostgreSQL migrations (``dbops check locks``).

Public API:

* ``lint_sql(text, …) -> Report`` — one SQL text (a file's content, stdin);
* ``lint_paths(paths, settings, …) -> Report`` — .sql files and directories
  (``-`` is stdin), with a content-hash cache for warm reruns;
* ``lint_revisions(rendered, settings, *, report=None)`` — a schema's Alembic
  revisions, already rendered to SQL (``RevisionInput``: ``dbops.revisions``
  renders them, ``dbops.workflows`` composes the two; the lint never imports
  either);
* ``RULES`` (id → rule) and ``rule_doc(id)``.

Importing the package is light: the parser (sqlglot) and the rule modules
load on first use, so a warm rerun that finds every file in the
cache never loads them.

>>> from dbops.lint import lint_sql
>>> report = lint_sql("CREATE INDEX users_email_idx ON users (email);")
>>> sorted({f.rule for f in report.findings})
['require-concurrent-index', 'require-lock-timeout']
>>> lint_sql("CREATE TABLE t (id bigint); CREATE INDEX t_idx ON t (id);").findings
[]
"""

from __future__ import annotations

from typing import Any

__all__ = ["RULES", "RevisionInput", "lint_paths", "lint_revisions", "lint_sql", "options_from_settings", "rule_doc"]

_API = ("lint_paths", "lint_revisions", "lint_sql", "options_from_settings")


def __getattr__(name: str) -> Any:
    """The public names, imported on first access (PEP 562)."""
    if name in _API:
        from dbops.lint import api

        value = getattr(api, name)
    elif name == "RevisionInput":
        from dbops.lint.inputs import RevisionInput

        value = RevisionInput
    elif name in ("RULES", "rule_doc"):
        from dbops.lint import registry

        registry.load_rules()
        value = getattr(registry, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
