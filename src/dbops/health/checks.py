"""The registry of health checks: one SQL file + one mapper each.

Where the finding is only templates over the row (message, object, fix), the check is
declared (``declare``); where it needs logic, a mapper function is registered (``@check``).
Each mapper's docstring (``doc=`` of a declaration) is the check's documentation (why it
matters, what the fix does, why this severity). Severities: ``error`` for what breaks
production (invalid index, FK type mismatch, sequence near overflow, XID
wraparound); ``warning`` for structural defects to fix; ``info`` for hints
and runtime observations that need a human's judgement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

from dbops.findings import Finding, Severity
from dbops.findings.catalog import RuleMeta
from dbops.health.model import (
    Check,
    Context,
    Mapper,
    Row,
    concurrently,
    new_index_name,
    pretty_size,
    quote_ident,
    template_mapper,
)

CHECKS: dict[str, Check] = {}


def check(
    name: str,
    severity: Severity,
    *,
    runtime: bool = False,
    per_server: bool = False,
    sum_columns: tuple[str, ...] = (),
) -> Callable[[Mapper], Mapper]:
    """Register a mapper as the check ``name`` (its SQL is ``sql/<name with _>.sql``)."""

    def register(mapper: Mapper) -> Mapper:
        CHECKS[name] = Check(name, severity, mapper, runtime=runtime, per_server=per_server, sum_columns=sum_columns)
        return mapper

    return register


def declare(
    name: str,
    severity: Severity,
    *,
    doc: str,
    message: str,
    object: str,
    fix: str | None,
    details: Mapping[str, str],
    runtime: bool = False,
    per_server: bool = False,
    sum_columns: tuple[str, ...] = (),
) -> None:
    """Register the check ``name`` whose finding is templates over its row (``str.format`` fields).

    Fields are the row's columns — ``{size:size}`` prints bytes for humans, ``{name:ident}`` quotes an
    identifier, ``{count:,}`` groups digits — and ``{stats_since}``, ``{partitioned}`` (" (on all N
    partitions)"), ``{database}``, ``{params[key]}``. ``details`` maps a detail to its row column.
    """
    mapper = template_mapper(lambda: CHECKS[name], message=message, object=object, fix=fix, details=details,
                             doc=doc)
    CHECKS[name] = Check(name, severity, mapper, runtime=runtime, per_server=per_server, sum_columns=sum_columns)


def catalog_entries() -> list[RuleMeta]:
    """The catalog entries of every health check."""
    return [c.meta for c in CHECKS.values()]


def _c(name: str) -> Check:
    return CHECKS[name]


def _partitioned_note(row: Row) -> str:
    return f" (on all {row['partitions']} partitions)" if row.get("partitions") else ""


# --------------------------------------------------------------------------- schema checks


@check("invalid-indexes", Severity.ERROR)
def invalid_indexes(row: Row, ctx: Context) -> Finding:
    """An invalid index is left behind by a failed ``CREATE INDEX CONCURRENTLY`` or
    ``REINDEX CONCURRENTLY`` (duplicate rows for a unique index, a cancelled
    build, a deadlock). The planner never uses it, yet every write still
    maintains it, and an invalid *unique* index still rejects duplicates.
    Indexes being built right now (``pg_stat_progress_create_index``) are
    skipped. Fix: drop it concurrently and build it again concurrently (for a
    unique index, remove the duplicates first). Severity error: it costs writes
    and silently misses the plans it was made for.
    """
    idx, table = row["index_name"], row["table_name"]
    if row["partitioned"]:
        return _c("invalid-indexes").finding(
            f"partitioned index on {table} is invalid: some partitions have no attached index",
            object=idx,
            fix=f"-- create the missing index on each such partition CONCURRENTLY, then:\n"
            f"ALTER INDEX {idx} ATTACH PARTITION <partition_index>;",
            table=table,
            index_def=row["index_def"],
        )
    extra = " (unique: still rejects duplicates on write)" if row["is_unique"] and row["is_ready"] else ""
    fix = f"DROP INDEX CONCURRENTLY {idx};\n{concurrently(row['index_def'])}"
    if row["is_unique"]:
        fix = "-- remove the duplicate rows first: the unique build failed on them\n" + fix
    return _c("invalid-indexes").finding(
        f"invalid index on {table}, {pretty_size(row['index_size'])}: never used by queries, still maintained{extra}",
        object=idx,
        fix=fix,
        table=table,
        index_size=row["index_size"],
        index_def=row["index_def"],
    )


@check("duplicate-indexes", Severity.WARNING)
def duplicate_indexes(row: Row, ctx: Context) -> Iterator[Finding]:
    """Two or more indexes with identical definitions (method, key and INCLUDE
    columns, expressions, operator classes, collations, order, predicate) on
    one table: every write maintains each copy, for nothing. The one kept is,
    in order, the primary key, a constraint's index, a unique index (NULLS NOT
    DISTINCT first), then the oldest; the others are reported. Fix: ``DROP
    INDEX CONCURRENTLY`` (or ``DROP CONSTRAINT`` when the copy backs a
    constraint). Severity warning.
    """
    members = sorted(
        row["indexes"],
        key=lambda m: (
            not m["is_primary"],
            m["constraint_name"] is None,
            not m["is_unique"],
            not m["nulls_not_distinct"],
            m["oid"],
        ),
    )
    keeper, *copies = members
    for copy in copies:
        if copy["constraint_name"]:
            fix = f"ALTER TABLE {row['table_name']} DROP CONSTRAINT {quote_ident(copy['constraint_name'])};"
        else:
            fix = f"DROP INDEX CONCURRENTLY {copy['index_name']};"
        yield _c("duplicate-indexes").finding(
            f"duplicate of {keeper['index_name']} on {row['table_name']}, {pretty_size(copy['index_size'])} wasted",
            object=copy["index_name"],
            fix=fix,
            table=row["table_name"],
            duplicate_of=keeper["index_name"],
            index_size=copy["index_size"],
        )


declare(
    "intersecting-indexes", Severity.WARNING,
    doc="""A non-unique btree index whose key columns are the leading key columns of
    another btree index on the same table — same expressions, operator classes,
    collations, sort order and predicate, its INCLUDE columns present in the
    other — is covered by it: ``(a)`` next to ``(a, b)``. Every lookup it serves
    the longer index serves too. A unique index is never covered (it enforces
    something), nor is an index backing a constraint, nor a partial index by a
    plain one. Fix: drop the covered index concurrently. Severity warning.
    """,
    message="covered by {covering_index} (its leading columns) on {table_name}, {index_size:size} wasted",
    object="{index_name}",
    fix="DROP INDEX CONCURRENTLY {index_name};",
    details={"table": "table_name", "covering_index": "covering_index", "index_size": "index_size",
             "index_def": "index_def", "covering_def": "covering_def"},
)


@check("fk-without-index", Severity.WARNING, sum_columns=("table_size",))
def fk_without_index(row: Row, ctx: Context) -> Finding:
    """A foreign key whose columns are not the leading columns of a valid btree
    (or single-column hash) index on the referencing table: every delete or
    key update on the referenced table scans the referencing table (under a
    lock), and joins on the key cannot use an index. Column order matters: the
    FK columns must come first in the index (in any order among themselves) —
    so a composite primary key ``(clinic_id, id)`` supports an FK on
    ``clinic_id``, but an index on ``(created_at, clinic_id)`` does not. A
    partial index that only drops NULLs counts. On a partitioned table the
    finding is raised once on the parent when no partition has the index.
    Fix: ``CREATE INDEX CONCURRENTLY`` on the FK columns (on a partitioned
    table: an index ``ON ONLY`` the parent, built concurrently on each
    partition and attached). Severity warning.
    """
    table, cols = row["table_name"], row["columns"]
    col_list = ", ".join(quote_ident(c) for c in cols)
    name = new_index_name(table, cols)
    if row.get("partitions"):
        fix = (
            f"CREATE INDEX {name} ON ONLY {table} ({col_list});\n"
            f"-- for each partition: CREATE INDEX CONCURRENTLY <partition>_{'_'.join(cols)}_idx ON <partition> ({col_list});\n"
            f"--                     ALTER INDEX {name} ATTACH PARTITION <partition>_{'_'.join(cols)}_idx;"
        )
    else:
        fix = f"CREATE INDEX CONCURRENTLY {name} ON {table} ({col_list});"
    return _c("fk-without-index").finding(
        f"foreign key {row['constraint_name']} ({col_list}) → {row['referenced_table']} has no index starting with "
        f"its columns{_partitioned_note(row)}; table {pretty_size(row['table_size'])}",
        object=table,
        fix=fix,
        constraint=row["constraint_name"],
        columns=cols,
        referenced_table=row["referenced_table"],
        table_size=row["table_size"],
        partitions=row.get("partitions"),
    )


declare(
    "duplicate-foreign-keys", Severity.WARNING,
    doc="""Two foreign keys on the same columns referencing the same columns: each
    one is checked on every write, and both hold locks on the referenced rows.
    Fix: drop the newer one. Severity warning.
    """,
    message="foreign key {constraint_name} duplicates {duplicate_of} ({constraint_def})",
    object="{table_name}.{constraint_name:ident}",
    fix="ALTER TABLE {table_name} DROP CONSTRAINT {constraint_name:ident};",
    details={"table": "table_name", "duplicate_of": "duplicate_of"},
)


declare(
    "intersecting-foreign-keys", Severity.WARNING,
    doc="""Two foreign keys from one table to the same table over overlapping (but
    not identical) columns, or over the same columns in a different order:
    usually one of them is a mistake or is implied by the other. There is no
    mechanical fix — review which one the model needs. Severity warning.
    """,
    message="foreign key {constraint_name} ({constraint_def}) overlaps {other_constraint} ({other_def}); keep the one "
    "the model needs",
    object="{table_name}.{constraint_name:ident}",
    fix=None,
    details={"table": "table_name", "other_constraint": "other_constraint"},
)


declare(
    "fk-type-mismatch", Severity.ERROR,
    doc="""A foreign key column whose type differs from the referenced column
    (``integer`` referencing ``bigint``, ``varchar`` referencing ``text``…): the
    referencing column overflows before the key does, and comparisons need
    casts that can defeat indexes. Fix: change the column to the referenced
    type (this rewrites the table under ACCESS EXCLUSIVE: on a big table, add
    a new column, backfill in batches, and swap). Severity error.
    """,
    message="foreign key {constraint_name}: {column_name:ident} is {column_type} but "
    "{referenced_table}.{referenced_column:ident} is {referenced_type}",
    object="{table_name}.{column_name:ident}",
    fix="-- rewrites the table under ACCESS EXCLUSIVE; on a big table add a column, backfill, swap\n"
    "ALTER TABLE {table_name} ALTER COLUMN {column_name:ident} TYPE {referenced_type};",
    details={"table": "table_name", "constraint": "constraint_name", "column_type": "column_type",
             "referenced_type": "referenced_type"},
)


@check("tables-without-primary-key", Severity.WARNING)
def tables_without_primary_key(row: Row, ctx: Context) -> Finding:
    """A table without a primary key: rows cannot be addressed reliably, logical
    replication cannot replicate its updates and deletes, and ORMs misbehave.
    A partitioned table is reported once, not per partition. Fix: promote an
    existing unique index on NOT NULL columns (``ADD PRIMARY KEY USING INDEX``,
    no table scan), or add a key column. Severity warning.
    """
    table = row["table_name"]
    if row["candidate_index"]:
        fix = f"ALTER TABLE {table} ADD PRIMARY KEY USING INDEX {row['candidate_index']};"
    else:
        fix = (
            f"-- no unique index on NOT NULL columns to promote: add a key, e.g.\n"
            f"ALTER TABLE {table} ADD COLUMN id bigint GENERATED BY DEFAULT AS IDENTITY;\n"
            f"CREATE UNIQUE INDEX CONCURRENTLY {new_index_name(table, [], 'pkey')} ON {table} (id);\n"
            f"ALTER TABLE {table} ADD PRIMARY KEY USING INDEX {new_index_name(table, [], 'pkey')};"
        )
    size = "" if row["partitioned"] else f" ({pretty_size(row['table_size'])}, ~{max(row['estimated_rows'], 0):,} rows)"
    return _c("tables-without-primary-key").finding(
        f"{'partitioned table' if row['partitioned'] else 'table'} has no primary key{size}",
        object=table,
        fix=fix,
        table_size=row["table_size"],
        candidate_index=row["candidate_index"],
    )


declare(
    "not-valid-constraints", Severity.WARNING,
    doc="""A constraint added ``NOT VALID`` and never validated: rows that existed
    before are not checked, and the planner cannot use a CHECK constraint to
    skip partitions. Validation only takes SHARE UPDATE EXCLUSIVE (reads and
    writes continue). Fix: ``ALTER TABLE … VALIDATE CONSTRAINT``. Severity
    warning.
    """,
    message="{constraint_type} constraint {constraint_name} is NOT VALID ({constraint_def})",
    object="{table_name}.{constraint_name:ident}",
    fix="ALTER TABLE {table_name} VALIDATE CONSTRAINT {constraint_name:ident};",
    details={"table": "table_name"},
)


@check("nullable-index-first-column", Severity.INFO)
def nullable_index_first_column(row: Row, ctx: Context) -> Finding:
    """A non-unique, non-partial btree index whose first column is nullable
    stores an entry for every NULL, which lookups on that column (``= $1``)
    never need. A partial index ``WHERE col IS NOT NULL`` serves the same
    queries (foreign key checks included) and shrinks with the NULL share.
    Fix: build the partial index concurrently, then drop the old one.
    Severity info: worth it only when many rows are NULL.
    """
    idx, table, col = row["index_name"], row["table_name"], quote_ident(row["column_name"])
    new_name = new_index_name(table, [row["column_name"]], "notnull_idx")
    index_def = row["index_def"].replace(f" INDEX {idx.split('.')[-1]} ON ", f" INDEX {new_name} ON ", 1)
    partial = concurrently(index_def + f" WHERE {col} IS NOT NULL")
    return _c("nullable-index-first-column").finding(
        f"first column {col} of this index on {table} is nullable; NULL entries are indexed for nothing "
        f"({pretty_size(row['index_size'])})",
        object=idx,
        fix=f"{partial}\nDROP INDEX {'' if ' ON ONLY ' in index_def else 'CONCURRENTLY '}{idx};",
        table=table,
        column=row["column_name"],
        index_size=row["index_size"],
    )


@check("boolean-index-columns", Severity.WARNING)
def boolean_index_columns(row: Row, ctx: Context) -> Finding:
    """A non-unique index with a boolean key column: a boolean splits the table
    in two, so the column adds size without selectivity. Filter on it with a
    partial index (``WHERE is_active``) over the columns that do select.
    Fix: build that partial index concurrently, then drop this one.
    Severity warning.
    """
    idx, table = row["index_name"], row["table_name"]
    positions = set(row["boolean_positions"])
    keys = row["key_columns"]
    booleans = [c for i, c in enumerate(keys, start=1) if i in positions]
    others = [c for i, c in enumerate(keys, start=1) if i not in positions]
    where = " AND ".join(booleans)
    if others:
        create = (
            f"CREATE INDEX CONCURRENTLY {new_index_name(table, others, 'partial_idx')} ON {table} "
            f"({', '.join(others)}) WHERE {where};  -- or WHERE NOT …, whichever the queries filter on"
        )
    else:
        create = f"-- index the column the queries sort or filter by next, with WHERE {where} (or WHERE NOT …)"
    return _c("boolean-index-columns").finding(
        f"index on {table} has boolean key column(s) {', '.join(booleans)} ({pretty_size(row['index_size'])})",
        object=idx,
        fix=f"{create}\nDROP INDEX CONCURRENTLY {idx};",
        table=table,
        boolean_columns=booleans,
        index_size=row["index_size"],
    )


@check("btree-on-array-or-jsonb", Severity.WARNING)
def btree_on_array_or_jsonb(row: Row, ctx: Context) -> Finding:
    """A non-unique btree index on an array or jsonb column only serves equality
    and ordering of whole values; the queries such columns get (``@>``, ``?``,
    ``&&``, ``ANY``) cannot use it, and its entries are large. Fix: a GIN index
    (``jsonb_path_ops`` when only ``@>`` is used), then drop the btree.
    Severity warning.
    """
    idx, table = row["index_name"], row["table_name"]
    cols = [c.rsplit(" (", 1)[0] for c in row["columns"]]
    if row["key_count"] == 1:
        create = f"CREATE INDEX CONCURRENTLY {new_index_name(table, cols, 'gin_idx')} ON {table} USING gin ({cols[0]});"
    else:
        create = f"-- a GIN index on {', '.join(cols)} (other key columns need btree_gin or their own index)"
    return _c("btree-on-array-or-jsonb").finding(
        f"btree index on {table} over {', '.join(row['columns'])}: containment/key lookups cannot use it "
        f"({pretty_size(row['index_size'])})",
        object=idx,
        fix=f"{create}\nDROP INDEX CONCURRENTLY {idx};",
        table=table,
        columns=row["columns"],
        index_size=row["index_size"],
    )


@check("sequence-overflow", Severity.ERROR)
def sequence_overflow(row: Row, ctx: Context) -> Finding:
    """A sequence whose last value has used more than
    ``[tool.dbops.indexes] sequence_overflow_percent`` (default 80 %) of its
    range. The range ends at the smaller of the sequence's own maximum and the
    maximum of the column it feeds (a ``bigint`` sequence behind an ``integer``
    column stops at 2^31-1, when the insert fails). Identity, serial and
    ``OWNED BY`` sequences are matched to their column. Fix: widen the column
    (and the sequence) to bigint. Severity error: inserts fail at the limit.
    """
    seq = row["sequence_name"]
    table, col = row["table_name"], row["column_name"]
    target = f"{table}.{quote_ident(col)} ({row['column_type']})" if table else "no owning column"
    if table and row["column_type"] in ("integer", "smallint"):
        fix = "-- rewrites the table under ACCESS EXCLUSIVE; on a big table add a bigint column, backfill, swap\n"
        fix += f"ALTER TABLE {table} ALTER COLUMN {quote_ident(col)} TYPE bigint;"
        if not row["is_identity"]:
            fix += f"\nALTER SEQUENCE {seq} AS bigint;"
    elif row["sequence_type"] in ("integer", "smallint"):
        fix = f"ALTER SEQUENCE {seq} AS bigint;"
    else:
        fix = f"-- the bigint range itself is nearly used: plan a new key (uuid) or ALTER SEQUENCE {seq} CYCLE only if old rows are gone"
    return _c("sequence-overflow").finding(
        f"sequence at {row['last_value']:,} = {row['used_percent']}% of its limit {row['value_limit']:,} "
        f"(feeds {target})",
        object=seq,
        fix=fix,
        table=table,
        column=col,
        last_value=row["last_value"],
        limit=row["value_limit"],
        used_percent=row["used_percent"],
    )


@check("int4-primary-keys", Severity.WARNING)
def int4_primary_keys(row: Row, ctx: Context) -> Finding:
    """An ``integer`` (or ``smallint``) primary key column on a table that is
    already big (``int4_pk_min_rows`` estimated rows) or whose key sequence has
    used ``int4_pk_percent`` of the int4 range: it will overflow at
    2,147,483,647, and the later the migration, the bigger the rewrite. Fix:
    move the key (and the columns referencing it) to bigint. Severity warning
    (``sequence-overflow`` turns it into an error near the limit).
    """
    table, col = row["table_name"], quote_ident(row["column_name"])
    reasons = []
    if row["estimated_rows"] >= ctx.params.get("int4_pk_min_rows", 0):
        reasons.append(f"~{row['estimated_rows']:,} rows, {pretty_size(row['table_size'])}")
    if row["used_percent"] is not None and row["used_percent"] >= ctx.params.get("int4_pk_percent", 100):
        reasons.append(f"its sequence used {row['used_percent']}% of the {row['column_type']} range")
    return _c("int4-primary-keys").finding(
        f"primary key {col} is {row['column_type']} and will overflow: {'; '.join(reasons)}",
        object=f"{table}.{col}",
        fix=f"-- rewrites the table under ACCESS EXCLUSIVE; on a big table add a bigint column, backfill, swap;\n"
        f"-- widen the referencing foreign key columns too\n"
        f"ALTER TABLE {table} ALTER COLUMN {col} TYPE bigint;",
        table=table,
        estimated_rows=row["estimated_rows"],
        table_size=row["table_size"],
        used_percent=row["used_percent"],
    )


# --------------------------------------------------------------------------- runtime checks


@check("unused-indexes", Severity.WARNING, runtime=True, per_server=True, sum_columns=("index_size", "scans"))
def unused_indexes(row: Row, ctx: Context) -> Finding | None:
    """A non-unique index, not backing a constraint nor supporting a foreign key,
    scanned at most ``unused_index_max_scans`` times since the statistics
    cover it: since their reset, or since the index was made when that is later.
    dbops knows when an index was made from its commit timestamp
    (``track_commit_timestamp = on``), or at the latest from the revision dbops
    applied in or after its transaction; an index younger than
    ``unused_index_min_age_days`` (7) is not reported (it had no time to be
    used). With several ``--database-url`` (primary + replicas) an index is
    reported only when it is unused on every server. Every write maintains it
    and it takes cache. Fix: drop it concurrently (a partitioned index: plain
    ``DROP INDEX`` on the parent). Severity warning.
    """
    idx, table = row["index_name"], row["table_name"]
    made, exact = _made(row)
    min_age = timedelta(days=float(ctx.params.get("unused_min_age_days", 7.0)))
    if made is not None and datetime.now(UTC) - made < min_age:
        return None  # too young to judge
    where = "on every server " if ctx.servers > 1 else ""
    if row.get("partitions"):
        fix = f"DROP INDEX {idx};  -- partitioned: CONCURRENTLY is not supported, each partition is locked briefly"
    else:
        fix = f"DROP INDEX CONCURRENTLY {idx};"
    if made is not None and (ctx.stats_reset is None or made > ctx.stats_reset):
        window = f"since it was made ({'' if exact else 'at the latest '}{made:%Y-%m-%d %H:%M %Z})"
    elif made is not None:
        window = ctx.stats_since()
    else:
        window = f"{ctx.stats_since()} (when the index was made is unknown: younger, it had less time to be used)"
    return _c("unused-indexes").finding(
        f"{row['scans']} scans {where}{window} on {table}{_partitioned_note(row)}, "
        f"{pretty_size(row['index_size'])}",
        object=idx,
        fix=fix,
        table=table,
        scans=row["scans"],
        index_size=row["index_size"],
        stats_reset=ctx.stats_reset,
        made=made.isoformat() if made is not None else None,
        partitions=row.get("partitions"),
        scans_per_server=row.get("scans_per_server"),
    )


def _made(row: Row) -> tuple[datetime | None, bool]:
    """When the index was made (exact with commit timestamps, else an upper bound), and whether it is exact."""
    if row.get("created_at") is not None:
        return row["created_at"], True
    return row.get("created_by"), False


declare(
    "seq-scan-tables", Severity.INFO, runtime=True,
    sum_columns=("seq_scan", "seq_tup_read", "idx_scan", "estimated_rows", "table_size"),
    doc="""A table of at least ``seq_scan_min_rows`` rows read by at least
    ``seq_scan_min_count`` sequential scans since the statistics reset: some
    query filters on columns no index serves. Find it (``pg_stat_statements``,
    ``dbops check budgets``) and index its filter. Severity info: a report, a
    batch job or a small-table scan can be legitimate.
    """,
    message="{seq_scan:,} sequential scans read {seq_tup_read:,} rows {stats_since} (index scans: {idx_scan:,}; "
    "~{estimated_rows:,} rows, {table_size:size}){partitioned}",
    object="{table_name}",
    fix="-- find the queries scanning {table_name} (pg_stat_statements, EXPLAIN) and index the columns they filter "
    "on:\n-- CREATE INDEX CONCURRENTLY … ON {table_name} (…);",
    details={"seq_scan": "seq_scan", "seq_tup_read": "seq_tup_read", "idx_scan": "idx_scan",
             "estimated_rows": "estimated_rows", "table_size": "table_size"},
)


declare(
    "index-bloat", Severity.WARNING, runtime=True, sum_columns=("index_size", "bloat_bytes"),
    doc="""A btree index larger than its live entries need, by at least
    ``bloat_min_bytes`` and ``bloat_min_percent`` — estimated from ``pg_class``
    and ``pg_stats`` (no page is read; indexes with deduplicated entries look
    smaller than the estimate, so bloat is underestimated there, never
    invented). Fix: ``REINDEX INDEX CONCURRENTLY``. Severity warning.
    """,
    message="~{bloat_bytes:size} of {index_size:size} is bloat ({bloat_percent}%) on {table_name}{partitioned}",
    object="{index_name}",
    fix="REINDEX INDEX CONCURRENTLY {index_name};",
    details={"table": "table_name", "index_size": "index_size", "bloat_bytes": "bloat_bytes",
             "bloat_percent": "bloat_percent"},
)


declare(
    "table-bloat", Severity.WARNING, runtime=True, sum_columns=("table_size", "bloat_bytes"),
    doc="""A table whose heap is larger than its live rows need, by at least
    ``bloat_min_bytes`` and ``bloat_min_percent`` — estimated from ``pg_class``
    and ``pg_stats`` after mass deletes or updates. VACUUM makes the space
    reusable but does not give it back; ``VACUUM FULL`` does, under ACCESS
    EXCLUSIVE for the whole rewrite. Fix: rewrite online with pg_repack (or
    ``VACUUM FULL`` in a maintenance window). Severity warning.
    """,
    message="~{bloat_bytes:size} of {table_size:size} is bloat ({bloat_percent}%){partitioned}",
    object="{table_name}",
    fix="-- online rewrite: pg_repack --table={table_name} --dbname={database}\n"
    "-- or, in a maintenance window (ACCESS EXCLUSIVE for the rewrite): VACUUM (FULL, ANALYZE) {table_name};",
    details={"table_size": "table_size", "bloat_bytes": "bloat_bytes", "bloat_percent": "bloat_percent"},
)


declare(
    "cache-hit-rate", Severity.INFO, runtime=True,
    doc="""The share of table (or index) blocks found in shared buffers, over the
    database's user relations, below ``cache_hit_min_percent`` once at least
    ``cache_hit_min_blocks`` blocks were needed: the working set does not fit
    in memory. Fix: more ``shared_buffers``/RAM, or less to read (indexes for
    scanning queries, dropping unused indexes, removing bloat). Severity info.
    """,
    message="{kind} cache hit rate {hit_percent}% ({hits:,} hits, {reads:,} reads {stats_since}), below "
    "{params[cache_hit_min_percent]}%",
    object="{database_name} ({kind}s)",
    fix="-- SHOW shared_buffers;  raise it (and RAM) or reduce what is read: seq-scan-tables, unused-indexes, bloat",
    details={"kind": "kind", "hits": "hits", "reads": "reads", "hit_percent": "hit_percent"},
)


declare(
    "xid-wraparound", Severity.ERROR, runtime=True,
    doc="""A table (system catalogs included, TOAST counted with its table) whose
    oldest unfrozen transaction ID or multixact is older than
    ``wraparound_max_age``: autovacuum is not keeping up (long transactions,
    abandoned replication slots or prepared transactions hold it back). At
    2^31 PostgreSQL stops accepting writes. Fix: remove what holds the
    horizon back, then ``VACUUM (FREEZE)`` the table. Severity error.
    """,
    message="oldest unfrozen XID is {xid_age:,} transactions old ({percent_to_wraparound}% of the way to "
    "wraparound; database age {database_age:,}){partitioned}",
    object="{table_name}",
    fix="VACUUM (FREEZE, VERBOSE) {table_name};",
    details={"xid_age": "xid_age", "database_age": "database_age"},
)


declare(
    "never-vacuumed", Severity.INFO, runtime=True, sum_columns=("live_rows", "dead_rows", "table_size"),
    doc="""A table with at least ``stale_min_rows`` rows that no VACUUM (manual or
    autovacuum) has processed since the statistics reset: dead rows are not
    reclaimed and its visibility map is empty, so index-only scans read the
    heap. Check that autovacuum is on for it. Fix: ``VACUUM (ANALYZE)``.
    Severity info.
    """,
    message="never vacuumed {stats_since} ({live_rows:,} live, {dead_rows:,} dead rows, {table_size:size})"
    "{partitioned}",
    object="{table_name}",
    fix="VACUUM (ANALYZE, VERBOSE) {table_name};",
    details={"live_rows": "live_rows", "dead_rows": "dead_rows"},
)


declare(
    "never-analyzed", Severity.INFO, runtime=True, sum_columns=("live_rows", "modified_rows", "table_size"),
    doc="""A table with at least ``stale_min_rows`` rows never analyzed since the
    statistics reset: the planner works from default guesses of its size and
    value distributions. Fix: ``ANALYZE``. Severity info.
    """,
    message="never analyzed {stats_since} ({live_rows:,} live rows, {modified_rows:,} modified){partitioned}",
    object="{table_name}",
    fix="ANALYZE {table_name};",
    details={"live_rows": "live_rows", "modified_rows": "modified_rows"},
)
