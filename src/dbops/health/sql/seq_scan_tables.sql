-- Tables read by many sequential scans while holding enough rows for an index to matter.
SELECT s.relid::regclass::text AS table_name,
       s.seq_scan,
       s.seq_tup_read,
       coalesce(s.idx_scan, 0) AS idx_scan,
       greatest(s.n_live_tup, t.reltuples::bigint) AS estimated_rows,
       CASE WHEN t.reltuples >= 0 THEN t.relpages::bigint * current_setting('block_size')::bigint END AS table_size,
       CASE WHEN t.relispartition THEN pg_partition_root(t.oid)::text END AS partition_root,
       '' AS partition_key
FROM pg_stat_user_tables s
JOIN pg_class t ON t.oid = s.relid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE t.relkind IN ('r', 'm')
  AND s.seq_scan >= %(seq_scan_min_count)s
  AND greatest(s.n_live_tup, t.reltuples::bigint) >= %(seq_scan_min_rows)s
  AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
ORDER BY s.seq_tup_read DESC, 1
