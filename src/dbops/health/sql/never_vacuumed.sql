-- Tables with rows that were never vacuumed (manually or by autovacuum) since the statistics were reset: dead rows pile up and the visibility map stays empty (no index-only scans).
SELECT s.relid::regclass::text AS table_name,
       s.n_live_tup AS live_rows,
       s.n_dead_tup AS dead_rows,
       CASE WHEN t.reltuples >= 0 THEN t.relpages::bigint * current_setting('block_size')::bigint END AS table_size,
       CASE WHEN t.relispartition THEN pg_partition_root(t.oid)::text END AS partition_root,
       '' AS partition_key
FROM pg_stat_user_tables s
JOIN pg_class t ON t.oid = s.relid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE t.relkind = 'r'
  AND s.last_vacuum IS NULL
  AND s.last_autovacuum IS NULL
  AND s.n_live_tup + s.n_dead_tup >= %(stale_min_rows)s
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY s.n_dead_tup DESC, 1
