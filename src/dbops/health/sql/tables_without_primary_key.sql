-- Tables without a primary key (a partitioned table counts once; its partitions are not listed).
SELECT t.oid::regclass::text AS table_name,
       t.relkind = 'p' AS partitioned,
       CASE WHEN t.reltuples >= 0 THEN t.relpages::bigint * current_setting('block_size')::bigint END AS table_size,
       t.reltuples::bigint AS estimated_rows,
       -- a unique index on NOT NULL columns can become the primary key without a table scan
       (SELECT i.indexrelid::regclass::text
        FROM pg_index i
        WHERE i.indrelid = t.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = t.oid AND a.attnum = ANY (i.indkey::int2[]) AND NOT a.attnotnull)
        ORDER BY i.indnatts, i.indexrelid LIMIT 1) AS candidate_index
FROM pg_class t
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE t.relkind IN ('r', 'p')
  AND NOT t.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'p')
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1
