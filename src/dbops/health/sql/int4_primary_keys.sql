-- Primary keys on int2/int4 columns of big tables: they overflow at 2^31 rows; a table already that large, or whose key sequence has used enough of the range, should move to bigint before it has to.
WITH RECURSIVE tree AS (  -- partitioned tables count their leaves (pg_inherits: pg_partition_tree() locks them)
    SELECT c.oid AS root, c.oid AS relid, c.relkind, c.reltuples, c.relpages
    FROM pg_class c WHERE c.relkind = 'p' AND NOT c.relispartition
    UNION ALL
    SELECT t.root, k.oid, k.relkind, k.reltuples, k.relpages
    FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid JOIN pg_class k ON k.oid = i.inhrelid
),
sizes AS (
    SELECT root, sum(greatest(reltuples, 0)) AS reltuples, sum(relpages) AS relpages
    FROM tree WHERE relkind <> 'p' GROUP BY root
),
pk AS (
    SELECT c.conrelid, t.relkind, a.attname, a.atttypid,
           coalesce(sz.reltuples, greatest(t.reltuples, 0))::bigint AS estimated_rows,
           coalesce(sz.relpages, t.relpages)::bigint * current_setting('block_size')::bigint AS table_size,
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
    LEFT JOIN sizes sz ON sz.root = t.oid
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
