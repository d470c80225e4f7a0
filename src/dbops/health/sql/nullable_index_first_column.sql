-- Non-unique, non-partial btree indexes whose first column is nullable: the NULL entries cost space and writes; a partial index WHERE col IS NOT NULL is smaller and serves the same lookups.
SELECT i.indexrelid::regclass::text AS index_name,
       i.indrelid::regclass::text AS table_name,
       a.attname::text AS column_name,
       CASE WHEN ic.reltuples >= 0 THEN ic.relpages::bigint * current_setting('block_size')::bigint END AS index_size,
       pg_get_indexdef(i.indexrelid) AS index_def
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE NOT i.indisunique
  AND i.indisvalid
  AND i.indpred IS NULL
  AND i.indkey[0] <> 0
  AND NOT a.attnotnull
  AND NOT ic.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1
