-- Identical duplicate indexes: same table, method, key and INCLUDE columns, expressions, operator classes, collations, sort order and predicate.
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, ic.relam, i.indisunique, i.indisprimary, i.indnullsnotdistinct,
           i.indkey::text AS keys, i.indnkeyatts, i.indclass::text AS classes,
           i.indcollation::text AS collations, i.indoption::text AS options,
           i.indexprs IS NOT NULL AS has_exprs, i.indpred IS NOT NULL AS has_pred,
           ic.relpages::bigint * current_setting('block_size')::bigint AS index_size
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE i.indisvalid
      AND NOT ic.relispartition  -- an attached partition of a partitioned index: judged on the parent
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
candidates AS (  -- same catalog columns; only these pay for deparsing expressions and predicates
    SELECT x.*, count(*) OVER (PARTITION BY x.indrelid, x.relam, x.keys, x.indnkeyatts, x.classes, x.collations,
                                            x.options, x.has_exprs, x.has_pred) AS same
    FROM idx x
),
d AS (
    SELECT c.*,
           CASE WHEN c.has_exprs THEN pg_get_expr(i.indexprs, i.indrelid) ELSE '' END AS exprs,
           CASE WHEN c.has_pred THEN pg_get_expr(i.indpred, i.indrelid) ELSE '' END AS pred
    FROM candidates c JOIN pg_index i ON i.indexrelid = c.indexrelid
    WHERE c.same > 1
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
