-- Foreign keys without a supporting index: no valid btree/hash index on the referencing table whose leading key columns are exactly the FK columns (in any order among them).
SELECT c.conname AS constraint_name,
       c.conrelid::regclass::text AS table_name,
       c.confrelid::regclass::text AS referenced_table,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
       CASE WHEN t.reltuples >= 0 THEN t.relpages::bigint * current_setting('block_size')::bigint END AS table_size,
       CASE WHEN t.relispartition THEN pg_partition_root(t.oid)::text END AS partition_root,
       c.confrelid::regclass::text || ':' || array_to_string(ARRAY(
           SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS partition_key
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f'
  AND t.relkind = 'r'  -- leaf tables; a partitioned table's FK is checked on its partitions, then collapsed
  -- skip the per-partition clones PostgreSQL adds when the referenced table is partitioned
  AND NOT EXISTS (SELECT 1 FROM pg_constraint pc WHERE pc.oid = c.conparentid AND pc.conrelid = c.conrelid)
  AND NOT EXISTS (
      SELECT 1
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = c.conrelid
        AND i.indisvalid
        AND am.amname IN ('btree', 'hash')
        AND i.indnkeyatts >= cardinality(c.conkey)
        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
        -- a partial index still serves the FK lookups when it only drops NULLs
        AND (i.indpred IS NULL
             OR pg_get_expr(i.indpred, i.indrelid) ~ '^\(*[^()]+ IS NOT NULL\)*( AND \(*[^()]+ IS NOT NULL\)*)*$'))
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 2, 1
