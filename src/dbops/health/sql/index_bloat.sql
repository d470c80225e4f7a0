-- Btree index bloat estimated from pg_class and pg_stats (no page reads): pages beyond what the live entries need at the index's fillfactor.
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, ic.relpages, ic.reltuples, ic.relispartition, i.indnatts,
           i.indkey::int2[] AS keys,
           coalesce(substring(array_to_string(ic.reloptions, ' ') FROM 'fillfactor=([0-9]+)')::int, 90) AS fillfactor
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE i.indisvalid
      AND ic.relkind = 'i'
      AND ic.reltuples >= 0
      AND ic.relpages::bigint * current_setting('block_size')::bigint >= %(bloat_min_bytes)s
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
cols AS (  -- one row per index column: a table column, or the index's own expression column
    SELECT x.indexrelid,
           CASE WHEN x.keys[k.pos - 1] <> 0 THEN x.indrelid ELSE x.indexrelid END AS attrelid,
           CASE WHEN x.keys[k.pos - 1] <> 0 THEN x.keys[k.pos - 1] ELSE k.pos END AS attnum
    FROM idx x CROSS JOIN LATERAL generate_series(1, x.indnatts::int) AS k(pos)
),
widths AS (
    SELECT c.indexrelid,
           max(coalesce(s.null_frac, 0)) AS max_null_frac,
           sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024))::numeric AS data_width,
           count(s.attname) = count(*) AND NOT bool_or(a.atttypid = 'pg_catalog.name'::regtype) AS has_stats
    FROM cols c
    JOIN pg_attribute a ON a.attrelid = c.attrelid AND a.attnum = c.attnum
    JOIN pg_class r ON r.oid = c.attrelid
    JOIN pg_namespace rn ON rn.oid = r.relnamespace
    LEFT JOIN pg_stats s ON s.schemaname = rn.nspname AND s.tablename = r.relname AND s.attname = a.attname
                        AND NOT s.inherited
    GROUP BY c.indexrelid
),
estimate AS (
    SELECT x.*, w.has_stats,
           current_setting('block_size')::numeric AS bs,
           -- IndexTupleData (8 bytes, + null bitmap) and data, each MAXALIGNed (8), + a 4-byte line pointer
           4 + ceil((CASE WHEN w.max_null_frac > 0 THEN 12 ELSE 8 END) / 8.0) * 8 + ceil(w.data_width / 8.0) * 8
               AS tuple_size
    FROM idx x JOIN widths w ON w.indexrelid = x.indexrelid
),
pages AS (
    SELECT e.*,
           -- page header 24 bytes, btree special space 16 bytes
           1 + ceil(e.reltuples::numeric / greatest(floor((e.bs - 24 - 16) * e.fillfactor / 100 / e.tuple_size), 1)) AS expected_pages
    FROM estimate e
    WHERE e.has_stats
)
SELECT p.indexrelid::regclass::text AS index_name,
       p.indrelid::regclass::text AS table_name,
       (p.relpages * p.bs)::bigint AS index_size,
       ((p.relpages - p.expected_pages) * p.bs)::bigint AS bloat_bytes,
       round(100 * (p.relpages - p.expected_pages) / p.relpages, 1) AS bloat_percent,
       CASE WHEN p.relispartition THEN pg_partition_root(p.indexrelid)::text END AS partition_root,
       CASE WHEN p.relispartition THEN pg_partition_root(p.indrelid)::text END AS partition_root_table,
       '' AS partition_key
FROM pages p
WHERE p.relpages > p.expected_pages
  AND (p.relpages - p.expected_pages) * p.bs >= %(bloat_min_bytes)s
  AND 100 * (p.relpages - p.expected_pages) / p.relpages >= %(bloat_min_percent)s
ORDER BY bloat_bytes DESC, 1
