-- Table and index cache hit rates of the database's user relations below a threshold (blocks found in shared buffers / blocks needed), once enough blocks were read.
-- (the pg_stat_get_blocks_* functions pg_statio_user_tables/indexes read, straight on pg_class)
WITH t AS (
    SELECT CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END AS kind,
           sum(pg_stat_get_blocks_hit(c.oid)) AS hits,
           sum(pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid)) AS reads
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm', 'i')
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
    GROUP BY 1
)
SELECT t.kind, current_database() AS database_name, t.hits, t.reads,
       round(100.0 * t.hits / (t.hits + t.reads), 2) AS hit_percent
FROM t
WHERE t.hits + t.reads >= %(cache_hit_min_blocks)s
  AND 100.0 * t.hits / (t.hits + t.reads) < %(cache_hit_min_percent)s
ORDER BY 1
