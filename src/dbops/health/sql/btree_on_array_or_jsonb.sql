-- Non-unique btree indexes on an array or jsonb key column: btree only serves whole-value equality; containment and key lookups (@>, ?, &&) need GIN.
SELECT i.indexrelid::regclass::text AS index_name,
       i.indrelid::regclass::text AS table_name,
       CASE WHEN ic.reltuples >= 0 THEN ic.relpages::bigint * current_setting('block_size')::bigint END AS index_size,
       pg_get_indexdef(i.indexrelid) AS index_def,
       i.indnkeyatts AS key_count,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) || ' (' || format_type(o.opcintype, NULL) || ')'
             FROM generate_series(1, i.indnkeyatts::int) k
             JOIN pg_opclass o ON o.oid = (i.indclass::oid[])[k - 1]
             WHERE o.opcintype IN ('pg_catalog.anyarray'::regtype, 'pg_catalog.jsonb'::regtype)) AS columns,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts::int) k) AS key_columns
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE NOT i.indisunique
  AND i.indisvalid
  AND NOT ic.relispartition
  AND i.indclass::oid[] && ARRAY(SELECT o.oid FROM pg_opclass o
                                 WHERE o.opcintype IN ('pg_catalog.anyarray'::regtype, 'pg_catalog.jsonb'::regtype))
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1
