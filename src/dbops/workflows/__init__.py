"""The commands as plain functions, in the spirit of Alembic's ``command`` module.

One function per command, composing the capabilities below it (the Alembic
adapter ``dbops.revisions``, ``lint``, ``drift``, ``seed``, ``typegen``,
``budgets``, ``localdb``); the CLI parses arguments, calls one of these and
renders what it returns. Tests and other programs call the same functions.

- ``migrate(settings, schema, url)`` — ``dbops migrate`` (dev);
- ``create_revision(settings, schema, name, empty=, url=)`` — ``dbops migrate create``;
- ``deploy(settings, schema, url, dry_run=)`` — ``dbops deploy`` (production);
- ``status(settings, schema, url)`` — ``dbops status``;
- ``reset(settings, schema, url, local=, …)`` — ``dbops reset`` (with ``check_reset_allowed``);
- ``check_locks(settings, paths, schema=, since=)`` — ``dbops check locks``
  (``lint_schema_revisions``: render a schema's revisions, then lint them);
- ``check_all(settings)`` — ``dbops check all``.

Names are imported on first access (PEP 562): ``dbops check locks`` on files
loads ``workflows.locks`` and not, say, the seed machinery of ``reset``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbops.workflows.check_all import check_all
    from dbops.workflows.create import CreatedRevision, create_revision
    from dbops.workflows.deploy import DeployReport, EditedRevisionsError, LintRefused, deploy
    from dbops.workflows.locks import check_locks, lint_pending, lint_schema_revisions
    from dbops.workflows.migrate import MigrateResult, migrate
    from dbops.workflows.reset import ResetResult, check_reset_allowed, reset
    from dbops.workflows.status import SchemaStatus, status

_HOMES = {
    "check_all": "check_all",
    "CreatedRevision": "create",
    "create_revision": "create",
    "DeployReport": "deploy",
    "EditedRevisionsError": "deploy",
    "LintRefused": "deploy",
    "deploy": "deploy",
    "check_locks": "locks",
    "lint_pending": "locks",
    "lint_schema_revisions": "locks",
    "MigrateResult": "migrate",
    "migrate": "migrate",
    "ResetResult": "reset",
    "check_reset_allowed": "reset",
    "reset": "reset",
    "SchemaStatus": "status",
    "status": "status",
}

__all__ = [
    "CreatedRevision",
    "DeployReport",
    "EditedRevisionsError",
    "LintRefused",
    "MigrateResult",
    "ResetResult",
    "SchemaStatus",
    "check_all",
    "check_locks",
    "check_reset_allowed",
    "create_revision",
    "deploy",
    "lint_pending",
    "lint_schema_revisions",
    "migrate",
    "reset",
    "status",
]


def __getattr__(name: str) -> Any:
    """The public names, imported from their module on first access."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dbops.workflows.{home}"), name)
    globals()[name] = value
    return value
