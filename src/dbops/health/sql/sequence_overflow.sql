-- Sequences close to overflow: last value above a percentage of the smaller of the sequence's own limit and the maximum of the column it feeds (serial, identity or OWNED BY).
-- A bigint sequence with default bounds feeding a bigint column (or none) is not read: 2^63 is out of reach,
-- and every sequence read holds an AccessShareLock until the audit ends.
WITH seqs AS (
    SELECT s.seqrelid, s.seqtypid, s.seqincrement, s.seqmax, s.seqmin,
           d.refobjid AS table_oid, a.attname, a.atttypid, d.deptype
    FROM pg_sequence s
    JOIN pg_class sc ON sc.oid = s.seqrelid
    JOIN pg_namespace n ON n.oid = sc.relnamespace
    LEFT JOIN pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.seqrelid
         AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE has_sequence_privilege(s.seqrelid, 'SELECT')
      AND (s.seqtypid <> 'pg_catalog.int8'::regtype
           OR a.atttypid IN ('pg_catalog.int2'::regtype, 'pg_catalog.int4'::regtype)
           OR (s.seqincrement > 0 AND s.seqmax < 9223372036854775807)
           OR (s.seqincrement < 0 AND s.seqmin > -9223372036854775808))
      AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema'])
      AND n.nspname !~ '^pg_(toast|temp_)'
      AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
      AND n.nspname <> ALL (%(exclude_schemas)s::text[])
),
-- Each sequence read with a plain SELECT (AccessShareLock) through query_to_xml, inside this one
-- statement: pg_sequences/pg_sequence_last_value() would take RowExclusiveLock on every sequence.
vals AS (
    SELECT s.seqrelid AS seq,
           split_part(split_part(query_to_xml(format('SELECT last_value AS v FROM %%s', s.seqrelid::regclass),
                                              false, true, '')::text, '<v>', 2), '</v>', 1)::numeric AS last_value
    FROM seqs s
),
limits AS (
    SELECT s.*, v.last_value,
           CASE WHEN s.seqincrement > 0
                THEN least(s.seqmax::numeric, CASE s.atttypid WHEN 'pg_catalog.int2'::regtype THEN 32767
                                                               WHEN 'pg_catalog.int4'::regtype THEN 2147483647
                                                               ELSE 9223372036854775807 END)
                ELSE greatest(s.seqmin::numeric, CASE s.atttypid WHEN 'pg_catalog.int2'::regtype THEN -32768
                                                                  WHEN 'pg_catalog.int4'::regtype THEN -2147483648
                                                                  ELSE -9223372036854775808 END)
           END AS value_limit
    FROM seqs s JOIN vals v ON v.seq = s.seqrelid
)
SELECT l.seqrelid::regclass::text AS sequence_name,
       format_type(l.seqtypid, NULL) AS sequence_type,
       l.table_oid::regclass::text AS table_name,
       l.attname::text AS column_name,
       format_type(l.atttypid, NULL) AS column_type,
       l.deptype = 'i' AS is_identity,
       l.last_value,
       l.value_limit,
       round(100 * l.last_value / l.value_limit, 2) AS used_percent
FROM limits l
WHERE l.value_limit <> 0
  AND 100 * l.last_value / l.value_limit >= %(sequence_percent)s
ORDER BY used_percent DESC, 1
