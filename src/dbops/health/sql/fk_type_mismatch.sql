-- Foreign key columns whose type differs from the referenced column's type (int4 -> int8, varchar -> text, ...).
-- Types are compared on pg_constraint + pg_attribute lookups first; names are built for mismatches only.
WITH pairs AS (
    SELECT c.oid, c.conrelid, c.confrelid, c.conname, k.attnum, k.fattnum,
           (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = k.attnum) AS type_oid,
           (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = c.confrelid AND a.attnum = k.fattnum) AS ref_type_oid
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum)
    WHERE c.contype = 'f'
      AND c.conparentid = 0
)
SELECT p.conrelid::regclass::text AS table_name,
       p.conname AS constraint_name,
       p.confrelid::regclass::text AS referenced_table,
       a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       fa.attname::text AS referenced_column,
       format_type(fa.atttypid, fa.atttypmod) AS referenced_type
FROM pairs p
JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = p.attnum
JOIN pg_attribute fa ON fa.attrelid = p.confrelid AND fa.attnum = p.fattnum
JOIN pg_class t ON t.oid = p.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE p.type_oid <> p.ref_type_oid
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1, 2, 4
