-- Invalid indexes: left by a failed CREATE/REINDEX INDEX CONCURRENTLY (or a partitioned index missing a partition), skipping indexes being built right now.
SELECT i.indexrelid::regclass::text AS index_name,
       i.indrelid::regclass::text AS table_name,
       ic.relkind = 'I' AS partitioned,
       i.indisunique AS is_unique,
       i.indisready AS is_ready,
       CASE WHEN ic.reltuples >= 0 THEN ic.relpages::bigint * current_setting('block_size')::bigint END AS index_size,
       pg_get_indexdef(i.indexrelid) AS index_def
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE NOT i.indisvalid
  -- a concurrent build in progress on the table: its new index is invalid until it finishes
  AND NOT EXISTS (
      SELECT 1 FROM pg_stat_progress_create_index p
      WHERE p.index_relid = i.indexrelid OR p.relid = i.indrelid)
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1
