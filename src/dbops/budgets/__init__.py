"""Query budgets: the hot queries of budgets.yaml, held to their budgets (``dbops check budgets``).

- ``load_budgets(path) -> BudgetFile``: YAML + JSON Schema (``budgets.schema.json``,
  shipped with the package) + SQL checks; errors at ``file:line`` (exit 2).
- ``check_static(budget_file, settings, schema=None) -> Report``: sqlglot
  against the models — indexes serving each filter/join/order, tenant filter,
  SELECT *, LIMIT, functions on indexed columns, leading wildcards.
- ``check_dynamic(budget_file, settings, schema, url, runs=N) -> Report``:
  EXPLAIN on a (seeded) database — index reachability, rows examined,
  buffers, p50/p95 latency, hypopg suggestions.
- ``check_budgets(settings, schema=None, urls=…) -> Report``: both, merged
  per query (what ``dbops check budgets`` runs).

The analysis itself is small pure functions over sqlglot trees
(``analysis.predicates``, ``analysis.filter_columns``,
``indexing.serving_index``, ``indexing.ideal_index``, ``plans.rows_examined``).
"""

from dbops.budgets.analysis import QueryAnalysis, analyze, filter_columns
from dbops.budgets.api import budgets_path, check_budgets, load_project_budgets
from dbops.budgets.catalog import Catalog, Index, TableInfo, catalog_from_database, catalog_from_metadata
from dbops.budgets.dynamic import check_dynamic
from dbops.budgets.indexing import Need, create_index_sql, ideal_index, serving_index
from dbops.budgets.loader import budgets_schema, load_budgets, parse_budgets
from dbops.budgets.model import BudgetFile, HotQuery, ParamSet
from dbops.budgets.rules import RULES, rule_docs
from dbops.budgets.static import check_static

__all__ = [
    "RULES",
    "BudgetFile",
    "Catalog",
    "HotQuery",
    "Index",
    "Need",
    "ParamSet",
    "QueryAnalysis",
    "TableInfo",
    "analyze",
    "budgets_path",
    "budgets_schema",
    "catalog_from_database",
    "catalog_from_metadata",
    "check_budgets",
    "check_dynamic",
    "check_static",
    "create_index_sql",
    "filter_columns",
    "ideal_index",
    "load_budgets",
    "load_project_budgets",
    "parse_budgets",
    "rule_docs",
    "serving_index",
]
