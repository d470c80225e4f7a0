-- Foreign key columns whose type differs from the referenced column's type (int4 -> int8, varchar -> text, ...).
SELECT c.conrelid::regclass::text AS table_name,
       c.conname AS constraint_name,
       c.confrelid::regclass::text AS referenced_table,
       a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       fa.attname::text AS referenced_column,
       format_type(fa.atttypid, fa.atttypmod) AS referenced_type
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f'
  AND c.conparentid = 0
  AND a.atttypid <> fa.atttypid
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1, 2, 4
