-- Primary keys on int2/int4 columns of big tables: they overflow at 2^31 rows; a table already that large, or whose key sequence has used enough of the range, should move to bigint before it has to.
WITH pk AS (
    SELECT c.conrelid, t.relkind, a.attname, a.atttypid,
           CASE WHEN t.relkind = 'p'
                THEN (SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0) FROM pg_partition_tree(t.oid) pt
                      JOIN pg_class pc ON pc.oid = pt.relid WHERE pt.isleaf)
                ELSE greatest(t.reltuples, 0) END::bigint AS estimated_rows,
           CASE WHEN t.relkind = 'p'
                THEN (SELECT coalesce(sum(pc.relpages), 0) FROM pg_partition_tree(t.oid) pt
                      JOIN pg_class pc ON pc.oid = pt.relid WHERE pt.isleaf)
                ELSE t.relpages END::bigint * current_setting('block_size')::bigint AS table_size,
           (SELECT d.objid FROM pg_depend d
            JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
            WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
              AND d.refobjid = c.conrelid AND d.refobjsubid = a.attnum AND d.deptype IN ('a', 'i')
              AND CASE WHEN sc.relkind = 'S' THEN has_sequence_privilege(d.objid, 'SELECT') END
            LIMIT 1) AS seq_oid
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'p'
      AND NOT t.relispartition
      AND a.atttypid IN ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
-- the key sequences' values, read with plain SELECTs (AccessShareLock) inside this one statement
vals AS (
    SELECT pk.seq_oid AS seq,
           split_part(split_part(query_to_xml(format('SELECT last_value AS v FROM %%s', pk.seq_oid::regclass),
                                              false, true, '')::text, '<v>', 2), '</v>', 1)::numeric AS last_value
    FROM pk WHERE pk.seq_oid IS NOT NULL
)
SELECT pk.conrelid::regclass::text AS table_name,
       pk.attname::text AS column_name,
       format_type(pk.atttypid, NULL) AS column_type,
       pk.relkind = 'p' AS partitioned,
       pk.estimated_rows,
       pk.table_size,
       pk.seq_oid::regclass::text AS sequence_name,
       v.last_value,
       round(100 * v.last_value / CASE pk.atttypid WHEN 'pg_catalog.int2'::regtype THEN 32767 ELSE 2147483647 END, 2)
           AS used_percent
FROM pk
LEFT JOIN vals v ON v.seq = pk.seq_oid
WHERE pk.estimated_rows >= %(int4_pk_min_rows)s
   OR 100 * v.last_value / CASE pk.atttypid WHEN 'pg_catalog.int2'::regtype THEN 32767 ELSE 2147483647 END
      >= %(int4_pk_percent)s
ORDER BY 1, 2
