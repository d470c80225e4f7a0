-- Unused indexes: non-unique, valid, not backing a constraint nor supporting a foreign key, scanned at most N times since the statistics were reset.
-- (pg_stat_get_numscans() straight on pg_index: what pg_stat_user_indexes reads, without the view's joins)
SELECT i.indexrelid::regclass::text AS index_name,
       i.indrelid::regclass::text AS table_name,
       pg_stat_get_numscans(i.indexrelid) AS scans,
       CASE WHEN ic.reltuples >= 0 THEN ic.relpages::bigint * current_setting('block_size')::bigint END AS index_size,
       CASE WHEN ic.relispartition THEN pg_partition_root(ic.oid)::text END AS partition_root,
       CASE WHEN ic.relispartition THEN pg_partition_root(i.indrelid)::text END AS partition_root_table,
       '' AS partition_key,
       -- when the index was made: exactly with track_commit_timestamp (the commit of its pg_class row) …
       CASE WHEN current_setting('track_commit_timestamp')::bool THEN pg_xact_commit_timestamp(ic.xmin) END
           AS created_at,
       -- … else at the latest: the first revision dbops recorded in or after its transaction (xids compared
       -- through age(); the table is read only where it exists, hence the dynamic query)
       CASE WHEN to_regclass('public.dbops_revision_checksums') IS NOT NULL THEN
           (xpath('/row/t/text()', query_to_xml(format(
               'SELECT min(applied_at) AS t FROM public.dbops_revision_checksums WHERE age(xmin) <= %%s',
               age(ic.xmin)), false, true, '')))[1]::text::timestamptz
       END AS created_by
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE ic.relkind = 'i'
  AND pg_stat_get_numscans(i.indexrelid) <= %(unused_max_scans)s
  AND NOT i.indisunique
  AND NOT i.indisprimary
  AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  -- dropping an index a foreign key needs would make every delete/update of the referenced rows scan the table
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint c
      WHERE c.contype = 'f' AND c.conrelid = i.indrelid
        AND i.indnkeyatts >= cardinality(c.conkey)
        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
        AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY 4 DESC, 1
