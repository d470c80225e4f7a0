-- Non-unique indexes with a boolean key column: two values select half the table; a partial index WHERE col (or WHERE NOT col) is smaller and more selective.
SELECT i.indexrelid::regclass::text AS index_name,
       i.indrelid::regclass::text AS table_name,
       CASE WHEN ic.reltuples >= 0 THEN ic.relpages::bigint * current_setting('block_size')::bigint END AS index_size,
       pg_get_indexdef(i.indexrelid) AS index_def,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts::int) k) AS key_columns,
       ARRAY(SELECT k FROM generate_series(1, i.indnkeyatts::int) k
             JOIN pg_opclass o ON o.oid = (i.indclass::oid[])[k - 1]
             WHERE o.opcintype = 'pg_catalog.bool'::regtype) AS boolean_positions
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE NOT i.indisunique
  AND i.indisvalid
  AND NOT ic.relispartition
  AND i.indclass::oid[] && ARRAY(SELECT o.oid FROM pg_opclass o WHERE o.opcintype = 'pg_catalog.bool'::regtype)
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1
