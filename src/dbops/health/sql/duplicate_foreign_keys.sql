-- Duplicate foreign keys: two constraints on the same columns referencing the same columns of the same table.
SELECT c1.conrelid::regclass::text AS table_name,
       c1.conname AS constraint_name,
       c2.conname AS duplicate_of,
       c1.confrelid::regclass::text AS referenced_table,
       pg_get_constraintdef(c1.oid) AS constraint_def
FROM pg_constraint c1
JOIN pg_constraint c2
  ON c2.conrelid = c1.conrelid AND c2.confrelid = c1.confrelid AND c2.contype = 'f'
 AND c2.conkey = c1.conkey AND c2.confkey = c1.confkey AND c2.oid < c1.oid AND c2.conparentid = 0
JOIN pg_class t ON t.oid = c1.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c1.contype = 'f'
  AND c1.conparentid = 0  -- clones on partitions follow their parent's constraint
  AND NOT EXISTS (  -- report each redundant constraint once, against the oldest one
      SELECT 1 FROM pg_constraint c3
      WHERE c3.conrelid = c1.conrelid AND c3.confrelid = c1.confrelid AND c3.contype = 'f'
        AND c3.conkey = c1.conkey AND c3.confkey = c1.confkey AND c3.oid < c2.oid AND c3.conparentid = 0)
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 1, 2
