-- Constraints added NOT VALID and never validated: existing rows are not checked and the planner cannot rely on them.
SELECT c.conrelid::regclass::text AS table_name,
       c.conname AS constraint_name,
       CASE c.contype WHEN 'f' THEN 'foreign key' ELSE 'check' END AS constraint_type,
       pg_get_constraintdef(c.oid) AS constraint_def
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT c.convalidated
  AND c.contype IN ('c', 'f')
  AND c.conparentid = 0
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1, 2
