"""The full rule catalog, assembled from every check (the CLI composes the capabilities).

The lint rules come first (the common case: a SARIF report of ``check locks``), the others load
only when a rule id is not found among those already loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from dbops.findings.catalog import LazyCatalog, RuleMeta


def _lint() -> Iterable[RuleMeta]:
    from dbops.lint.registry import catalog_entries

    return catalog_entries()


def _health() -> Iterable[RuleMeta]:
    from dbops.health.checks import catalog_entries

    return catalog_entries()


def _budgets() -> Iterable[RuleMeta]:
    from dbops.budgets.rules import catalog_entries

    return catalog_entries()


def _others() -> Iterable[RuleMeta]:
    from dbops.drift.rules import catalog_entries as drift
    from dbops.revisions.rules import catalog_entries as revisions
    from dbops.typegen.rules import catalog_entries as types

    return [*types(), *drift(), *revisions()]


@lru_cache(maxsize=1)
def rule_catalog() -> LazyCatalog:
    """Every rule id a dbops finding can carry (``dbops rules``, SARIF, ``docs/rules.md``)."""
    return LazyCatalog([_lint, _health, _budgets, _others])
