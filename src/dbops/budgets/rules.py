"""The budget rules in the rule catalog: id, default severity, title and documentation.

``RULES`` (id → title) serves config validation (``ignore``) and older callers; ``ENTRIES`` are
the catalog records behind ``dbops rules budget-…`` and SARIF's rule descriptors.

>>> RULES["budget-select-star"]
'SELECT * in a hot query (reads and ships every column; breaks index-only scans).'
"""

from __future__ import annotations

from dbops.findings.catalog import RuleMeta
from dbops.findings.model import Severity

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO


def _rule(id: str, severity: Severity, title: str, what: str, why: str, fix: str) -> RuleMeta:
    doc = f"## What it does\n{what}\n\n## Why is this bad?\n{why}\n\n## Use instead\n{fix}"
    return RuleMeta(id, title, severity, doc, check="budgets")


ENTRIES: tuple[RuleMeta, ...] = (
    # static (sqlglot against the models, no database)
    _rule("budget-missing-index", _E,
          "A filter, join key or ORDER BY of a hot query is not served by an index (equalities first, then range "
          "or order).",
          "For each table a hot query reads, finds an index whose leading columns are the query's equality "
          "filters, then its range filter or ORDER BY — the shape a B-tree can serve without reading rows it "
          "throws away.",
          "Without it the query reads every row of the table (or of the tenant) to find a few: its cost grows "
          "with the data, and at 10M rows the page that was fast in development times out.",
          "Create the index the finding names, concurrently, in a migration "
          "(`CREATE INDEX CONCURRENTLY … ON table (equality columns…, range or order column)`); "
          "`dbops check budgets` with a database proves it with hypopg."),
    _rule("budget-tenant-filter", _E,
          "A tenant-owned table is read without the tenant key filter (it leaks across tenants).",
          "Flags a hot query that reads a table holding the tenant key column (`clinic_id`, `studio_id`) "
          "without filtering on it.",
          "Every tenant's rows are read — and may be returned to the wrong tenant — and no tenant-leading index "
          "can serve the query.",
          "Filter on the tenant key (`WHERE clinic_id = :clinic_id AND …`); repositories built for one tenant "
          "add it for you."),
    _rule("budget-select-star", _W,
          "SELECT * in a hot query (reads and ships every column; breaks index-only scans).",
          "Flags `SELECT *` (or `table.*`) in a hot query.",
          "Every column is read and sent, including large ones; an index-only scan becomes impossible; a "
          "column added later silently joins the payload.",
          "Name the columns the caller uses."),
    _rule("budget-unbounded", _E,
          "A list query without LIMIT (its cost grows with the data).",
          "Flags a hot query returning a list without `LIMIT` (or keyset pagination).",
          "The result — and the time to build and send it — grows with the table; the largest tenant pays "
          "first.",
          "Paginate: `ORDER BY … LIMIT :limit` with a keyset (`WHERE (created_at, id) < (:after_at, :after_id)`)."),
    _rule("budget-function-on-column", _E,
          "A function or cast wraps an indexed column in a filter, so the index cannot be used.",
          "Flags a filter such as `lower(email) = :email` or `created_at::date = :day` on a column whose index "
          "is on the bare column.",
          "The planner can only use an index on the expression it indexes: the filter reads every row.",
          "Compare the bare column with a transformed parameter (`created_at >= :day AND created_at < :day + 1`), "
          "or index the expression (`CREATE INDEX CONCURRENTLY … (lower(email))`)."),
    _rule("budget-leading-wildcard", _E,
          "LIKE/ILIKE with a leading wildcard and no trigram index (scans every row).",
          "Flags `LIKE '%…'`/`ILIKE '%…'` on a column without a trigram (pg_trgm GIN/GiST) index.",
          "A B-tree serves only a known prefix: a leading wildcard reads every row.",
          "A trigram index (`CREATE INDEX CONCURRENTLY … USING gin (col gin_trgm_ops)`), or full-text search."),
    _rule("budget-invalid-query", _E,
          "The query does not fit the schema (unknown table or column).",
          "Reports a hot query of `budgets.yaml` that names a table or column the models do not have, or does "
          "not parse.",
          "The budget cannot be checked, and the application query it documents is probably broken too.",
          "Fix the query in `budgets.yaml` (or the models) so that they agree."),
    # budgets meet the code (no database)
    _rule("budget-sql-stale", _E,
          "The budgeted SQL is not what the repository method named by `method` sends.",
          "Compares the `sql` of a query that names a `method` with the hot statement that method declares "
          "(`@issues(...)` in platformdb), compiled as the application sends it.",
          "The budget measures a query the application no longer runs: the query it does run is unbudgeted.",
          "Run `dbops budgets sync` (it rewrites only the `sql` blocks), then re-check the budgets."),
    _rule("budget-not-budgeted", _E,
          "A repository method issues a hot statement that budgets.yaml does not budget.",
          "Lists the hot statements the repository modules of a schema declare (`@issues(...)`) that have no "
          "query of the same name in `budgets.yaml`.",
          "A hot query without a budget is never measured: an index it needs, or a tenant filter it lacks, "
          "reaches production unchecked.",
          "Add the query under `schemas.<schema>.queries` with its `method`, sample `params` and budget; "
          "`dbops budgets sync` fills in its SQL."),
    # dynamic (EXPLAIN on a database)
    _rule("budget-index-unreachable", _E,
          "Even with sequential scans disabled, a budgeted table is read by a Seq Scan.",
          "Runs `EXPLAIN` with `enable_seqscan = off`: a Seq Scan that remains means no index can serve the "
          "query at all.",
          "The planner has no choice but to read the whole table, whatever the statistics say.",
          "Create the index the query needs (see `budget-missing-index`)."),
    _rule("budget-rows-examined", _E,
          "The plan examines more rows than max_rows_examined.",
          "Sums, over the scan nodes of `EXPLAIN (ANALYZE, BUFFERS)`, the rows returned plus the rows removed "
          "by filters and rechecks (times loops), on the seeded database.",
          "Rows read and thrown away are the cost that grows with the data; a query within its row budget stays "
          "fast as tables grow.",
          "An index matching the filter and order (equalities first), a tighter query, or a raised budget "
          "when the work is inherent."),
    _rule("budget-buffers", _E,
          "The plan touches more buffers than max_buffers.",
          "Reads the shared buffers hit and read by the plan (`EXPLAIN (ANALYZE, BUFFERS)`).",
          "Pages touched are I/O and cache pressure: too many for one hot query crowds the working set out of "
          "memory.",
          "Narrower indexes (covering ones for index-only scans), fewer columns, a tighter filter."),
    _rule("budget-latency", _W,
          "The p95 latency is above max_ms.",
          "Times the query several times on the seeded database and compares its 95th percentile with "
          "`max_ms` (an error with `[tool.dbops.budgets] enforce_latency`).",
          "Latency on a shared CI machine is noisy: it warns by default; rows examined and buffers are the "
          "stable budgets.",
          "Fix what `budget-rows-examined`/`budget-buffers` report; raise `max_ms` if the work is inherent."),
    _rule("budget-query-failed", _E,
          "The query failed on the database with the sample parameters.",
          "Reports a hot query that raises an error when run with its sample parameters.",
          "The budget cannot be measured, and the application query probably fails as well.",
          "Fix the query or its sample parameters in `budgets.yaml`."),
    _rule("budget-too-little-data", _W,
          "The database holds too little data to measure the query (seed --scale first).",
          "Reports a hot query whose sample parameters (`from_sql`) found no row: the database is empty or holds "
          "only the small default seed.",
          "A budget measured on a handful of rows says nothing about 10M users: it is not measured, and not "
          "called broken either.",
          "Load realistic data first: `dbops seed SCHEMA --scale 10000` (or give literal parameters)."),
    _rule("budget-hypothetical-index", _I,
          "hypopg: the index that would bring the query back into its budget.",
          "For a query over budget, creates the suggested index hypothetically (hypopg) and shows the plan "
          "that would use it.",
          "A proof, before any migration, that the index would be used.",
          "Add that index, concurrently, in a migration."),
    _rule("budgets-missing", _I,
          "The project has no budgets file.",
          "`dbops check all` reports that the project has no `budgets.yaml` (the file named by "
          "`[tool.dbops.budgets] file`).",
          "Without documented hot queries nothing checks that they stay within budget as the data grows.",
          "Document the hot queries in `budgets.yaml` (see the README)."),
)

RULES: dict[str, str] = {m.id: m.title for m in ENTRIES if m.id != "budgets-missing"}


def rule_docs() -> dict[str, str]:
    """Rule id → one-line description (older callers; SARIF takes the catalog entries)."""
    return dict(RULES)


def catalog_entries() -> list[RuleMeta]:
    """The catalog entries of the budget rules."""
    return list(ENTRIES)
