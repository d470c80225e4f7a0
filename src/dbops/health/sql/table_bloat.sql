-- Table bloat estimated from pg_class and pg_stats (no page reads): heap pages beyond what the live rows need at the table's fillfactor.
WITH tbl AS (
    SELECT t.oid, t.relpages, t.reltuples, t.relispartition,
           coalesce(substring(array_to_string(t.reloptions, ' ') FROM 'fillfactor=([0-9]+)')::int, 100) AS fillfactor
    FROM pg_class t
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE t.relkind IN ('r', 'm')
      AND t.reltuples >= 0
      AND t.relpages::bigint * current_setting('block_size')::bigint >= %(bloat_min_bytes)s
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
widths AS (
    SELECT t.oid,
           count(*) AS columns,
           max(coalesce(s.null_frac, 0)) AS max_null_frac,
           sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0))::numeric AS data_width,
           count(s.attname) = count(*) AND NOT bool_or(a.atttypid = 'pg_catalog.name'::regtype) AS has_stats
    FROM tbl t
    JOIN pg_class r ON r.oid = t.oid
    JOIN pg_namespace rn ON rn.oid = r.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_stats s ON s.schemaname = rn.nspname AND s.tablename = r.relname AND s.attname = a.attname
                        AND NOT s.inherited
    GROUP BY t.oid
),
estimate AS (
    SELECT t.*, w.has_stats,
           current_setting('block_size')::numeric AS bs,
           -- HeapTupleHeader 23 bytes (+ null bitmap) and data, each MAXALIGNed (8), + a 4-byte line pointer
           4 + ceil((23 + CASE WHEN w.max_null_frac > 0 THEN ceil(w.columns / 8.0) ELSE 0 END) / 8.0) * 8
             + ceil(w.data_width / 8.0) * 8 AS tuple_size
    FROM tbl t JOIN widths w ON w.oid = t.oid
),
pages AS (
    SELECT e.*,
           ceil(e.reltuples::numeric / greatest(floor((e.bs - 24) * e.fillfactor / 100 / e.tuple_size), 1)) AS expected_pages
    FROM estimate e
    WHERE e.has_stats
)
SELECT p.oid::regclass::text AS table_name,
       (p.relpages * p.bs)::bigint AS table_size,
       ((p.relpages - p.expected_pages) * p.bs)::bigint AS bloat_bytes,
       round(100 * (p.relpages - p.expected_pages) / p.relpages, 1) AS bloat_percent,
       CASE WHEN p.relispartition THEN pg_partition_root(p.oid)::text END AS partition_root,
       '' AS partition_key
FROM pages p
WHERE p.relpages > p.expected_pages
  AND (p.relpages - p.expected_pages) * p.bs >= %(bloat_min_bytes)s
  AND 100 * (p.relpages - p.expected_pages) / p.relpages >= %(bloat_min_percent)s
ORDER BY bloat_bytes DESC, 1
