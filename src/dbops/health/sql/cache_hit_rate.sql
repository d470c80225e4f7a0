-- Table and index cache hit rates of the database's user relations below a threshold (blocks found in shared buffers / blocks needed), once enough blocks were read.
WITH t AS (
    SELECT 'table' AS kind, coalesce(sum(s.heap_blks_hit), 0) AS hits, coalesce(sum(s.heap_blks_read), 0) AS reads
    FROM pg_statio_user_tables s
    WHERE (%(schemas)s::text[] IS NULL OR s.schemaname = ANY (%(schemas)s::text[]))
      AND s.schemaname <> ALL (%(exclude_schemas)s::text[])
    UNION ALL
    SELECT 'index', coalesce(sum(s.idx_blks_hit), 0), coalesce(sum(s.idx_blks_read), 0)
    FROM pg_statio_user_indexes s
    WHERE (%(schemas)s::text[] IS NULL OR s.schemaname = ANY (%(schemas)s::text[]))
      AND s.schemaname <> ALL (%(exclude_schemas)s::text[])
)
SELECT t.kind, current_database() AS database_name, t.hits, t.reads,
       round(100.0 * t.hits / (t.hits + t.reads), 2) AS hit_percent
FROM t
WHERE t.hits + t.reads >= %(cache_hit_min_blocks)s
  AND 100.0 * t.hits / (t.hits + t.reads) < %(cache_hit_min_percent)s
ORDER BY 1
