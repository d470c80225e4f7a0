"""The rule ids of the budget checks and a one-line description of each (SARIF, docs, ignores)."""

from __future__ import annotations

RULES: dict[str, str] = {
    # static (sqlglot, no database)
    "budget-missing-index": "A filter, join key or ORDER BY of a hot query is not served by an index "
    "(equalities first, then range or order).",
    "budget-tenant-filter": "A tenant-owned table is read without the tenant key filter (it leaks across tenants).",
    "budget-select-star": "SELECT * in a hot query (reads and ships every column; breaks index-only scans).",
    "budget-unbounded": "A list query without LIMIT (its cost grows with the data).",
    "budget-function-on-column": "A function or cast wraps an indexed column in a filter, so the index cannot be used.",
    "budget-leading-wildcard": "LIKE/ILIKE with a leading wildcard and no trigram index (scans every row).",
    "budget-invalid-query": "The query does not fit the schema (unknown table or column).",
    # dynamic (EXPLAIN on a database)
    "budget-index-unreachable": "Even with sequential scans disabled, a budgeted table is read by a Seq Scan.",
    "budget-rows-examined": "The plan examines more rows than max_rows_examined.",
    "budget-buffers": "The plan touches more buffers than max_buffers.",
    "budget-latency": "The p95 latency is above max_ms.",
    "budget-query-failed": "The query failed on the database with the sample parameters.",
    "budget-hypothetical-index": "hypopg: the index that would bring the query back into its budget.",
}


def rule_docs() -> dict[str, str]:
    """Rule id → description, for SARIF output."""
    return dict(RULES)
