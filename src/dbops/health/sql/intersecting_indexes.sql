-- Intersecting (prefix-covered) btree indexes: an index whose key columns are the leading columns of another one with the same expressions, opclasses, collations, order and predicate (a unique index is never covered).
-- pg_index alone first: same table, same first column, a shorter non-unique index; only those pairs
-- meet pg_class (btree, schema) and pay for comparing columns and deparsing expressions.
WITH base AS (
    SELECT i.indexrelid, i.indrelid, i.indisunique, i.indnkeyatts, i.indkey[0] AS first_key,
           i.indpred IS NOT NULL AS has_pred, i.indexprs IS NOT NULL AS has_exprs
    FROM pg_index i
    WHERE i.indisvalid
),
candidates AS MATERIALIZED (  -- computed first: the expensive comparisons below only see these
    SELECT a.indexrelid AS covered, b.indexrelid AS covering, a.indrelid, a.indnkeyatts AS n,
           ac.relpages::bigint * current_setting('block_size')::bigint AS index_size,
           a.has_exprs OR b.has_exprs AS exprs
    FROM base a
    JOIN base b ON b.indrelid = a.indrelid AND b.first_key = a.first_key AND b.indexrelid <> a.indexrelid
               AND b.indnkeyatts > a.indnkeyatts AND b.has_pred = a.has_pred
    JOIN pg_class ac ON ac.oid = a.indexrelid
    JOIN pg_class bc ON bc.oid = b.indexrelid AND bc.relam = ac.relam
    JOIN pg_am am ON am.oid = ac.relam AND am.amname = 'btree'
    JOIN pg_namespace n ON n.oid = ac.relnamespace
    WHERE NOT a.indisunique
      AND NOT ac.relispartition
      AND NOT bc.relispartition
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
pairs AS (
    SELECT c.*
    FROM candidates c
    JOIN pg_index ia ON ia.indexrelid = c.covered
    JOIN pg_index ib ON ib.indexrelid = c.covering
    WHERE (ib.indkey::int2[])[0:c.n - 1] = (ia.indkey::int2[])[0:c.n - 1]
      AND (ib.indclass::oid[])[0:c.n - 1] = (ia.indclass::oid[])[0:c.n - 1]
      AND (ib.indcollation::oid[])[0:c.n - 1] = (ia.indcollation::oid[])[0:c.n - 1]
      AND (ib.indoption::int2[])[0:c.n - 1] = (ia.indoption::int2[])[0:c.n - 1]
      -- the covered index's INCLUDE columns must be in the covering one
      AND coalesce((ia.indkey::int2[])[c.n:ia.indnatts - 1] <@ (ib.indkey::int2[])[0:ib.indnatts - 1], true)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = c.covered)
      -- same predicate, and the same expressions in the shared leading positions
      AND coalesce(pg_get_expr(ia.indpred, ia.indrelid), '') = coalesce(pg_get_expr(ib.indpred, ib.indrelid), '')
      AND (NOT c.exprs OR ARRAY(SELECT pg_get_indexdef(c.covered, k, true) FROM generate_series(1, c.n) k)
                        = ARRAY(SELECT pg_get_indexdef(c.covering, k, true) FROM generate_series(1, c.n) k))
)
SELECT DISTINCT ON (p.covered)
       p.indrelid::regclass::text AS table_name,
       p.covered::regclass::text AS index_name,
       p.covering::regclass::text AS covering_index,
       p.index_size,
       pg_get_indexdef(p.covered) AS index_def,
       pg_get_indexdef(p.covering) AS covering_def
FROM pairs p
ORDER BY p.covered, p.covering
