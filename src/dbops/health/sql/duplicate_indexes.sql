-- Identical duplicate indexes: same table, method, key and INCLUDE columns, expressions, operator classes, collations, sort order and predicate.
-- pg_index alone first (same table, same columns); only those candidates meet pg_class and pay for
-- comparing the rest and deparsing expressions.
WITH candidates AS (
    SELECT i.indexrelid, count(*) OVER (PARTITION BY i.indrelid, i.indkey::int2[]) AS same
    FROM pg_index i
    WHERE i.indisvalid
),
idx AS MATERIALIZED (
    SELECT i.indexrelid, i.indrelid, ic.relam, i.indisunique, i.indisprimary, i.indnullsnotdistinct,
           i.indkey::int2[] AS keys, i.indnkeyatts,
           i.indexprs IS NOT NULL AS has_exprs, i.indpred IS NOT NULL AS has_pred,
           ic.relpages::bigint * current_setting('block_size')::bigint AS index_size
    FROM candidates c
    JOIN pg_index i ON i.indexrelid = c.indexrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE c.same > 1
      AND NOT ic.relispartition  -- an attached partition of a partitioned index: judged on the parent
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
d AS (
    SELECT c.*, i.indclass::oid[] AS classes, i.indcollation::oid[] AS collations, i.indoption::int2[] AS options,
           CASE WHEN c.has_exprs THEN pg_get_expr(i.indexprs, i.indrelid) ELSE '' END AS exprs,
           CASE WHEN c.has_pred THEN pg_get_expr(i.indpred, i.indrelid) ELSE '' END AS pred
    FROM idx c JOIN pg_index i ON i.indexrelid = c.indexrelid
)
SELECT d.indrelid::regclass::text AS table_name,
       json_agg(json_build_object(
           'index_name', d.indexrelid::regclass::text,
           'is_unique', d.indisunique,
           'is_primary', d.indisprimary,
           'nulls_not_distinct', d.indnullsnotdistinct,
           'constraint_name', con.conname,
           'index_size', d.index_size,
           'oid', d.indexrelid
       ) ORDER BY d.indexrelid) AS indexes
FROM d
LEFT JOIN pg_constraint con ON con.conindid = d.indexrelid AND con.conrelid = d.indrelid
GROUP BY d.indrelid, d.relam, d.keys, d.indnkeyatts, d.classes, d.collations, d.options, d.exprs, d.pred
HAVING count(*) > 1
ORDER BY 1
