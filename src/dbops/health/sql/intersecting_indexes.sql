-- Intersecting (prefix-covered) btree indexes: an index whose key columns are the leading columns of another one with the same expressions, opclasses, collations, order and predicate (a unique index is never covered).
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, i.indisunique, i.indnkeyatts, i.indnatts, i.indkey[0] AS first_key,
           (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keys,
           (i.indkey::int2[])[i.indnkeyatts:i.indnatts - 1] AS included,
           (i.indkey::int2[])[0:i.indnatts - 1] AS all_columns,
           (i.indclass::oid[])[0:i.indnkeyatts - 1] AS classes,
           (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS collations,
           (i.indoption::int2[])[0:i.indnkeyatts - 1] AS options,
           i.indpred IS NOT NULL AS has_pred,
           i.indexprs IS NOT NULL AS has_exprs,
           ic.relpages::bigint * current_setting('block_size')::bigint AS index_size
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE i.indisvalid
      AND NOT ic.relispartition
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
pairs AS (
    SELECT a.indexrelid AS covered, b.indexrelid AS covering, a.indrelid, a.indnkeyatts AS n,
           a.index_size, a.has_exprs OR b.has_exprs AS exprs
    FROM idx a
    JOIN idx b ON b.indrelid = a.indrelid AND b.first_key = a.first_key AND b.indexrelid <> a.indexrelid
    WHERE NOT a.indisunique
      AND a.indnkeyatts < b.indnkeyatts
      AND b.keys[1:a.indnkeyatts] = a.keys
      AND b.classes[1:a.indnkeyatts] = a.classes
      AND b.collations[1:a.indnkeyatts] = a.collations
      AND b.options[1:a.indnkeyatts] = a.options
      AND a.has_pred = b.has_pred
      AND coalesce(a.included <@ b.all_columns, true)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = a.indexrelid)
)
SELECT DISTINCT ON (p.covered)
       p.indrelid::regclass::text AS table_name,
       p.covered::regclass::text AS index_name,
       p.covering::regclass::text AS covering_index,
       p.index_size,
       pg_get_indexdef(p.covered) AS index_def,
       pg_get_indexdef(p.covering) AS covering_def
FROM pairs p
JOIN pg_index ia ON ia.indexrelid = p.covered
JOIN pg_index ib ON ib.indexrelid = p.covering
-- same predicate, and the same expressions in the shared leading positions
WHERE coalesce(pg_get_expr(ia.indpred, ia.indrelid), '') = coalesce(pg_get_expr(ib.indpred, ib.indrelid), '')
  AND (NOT p.exprs OR ARRAY(SELECT pg_get_indexdef(p.covered, k, true) FROM generate_series(1, p.n) k)
                    = ARRAY(SELECT pg_get_indexdef(p.covering, k, true) FROM generate_series(1, p.n) k))
ORDER BY p.covered, p.covering
