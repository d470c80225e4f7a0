-- Tables (system catalogs included, TOAST counted with its table) whose oldest unfrozen transaction or multixact ID is older than a threshold: at 2^31 PostgreSQL stops accepting writes.
WITH rel AS (
    SELECT coalesce(owner.oid, c.oid) AS table_oid,
           greatest(age(c.relfrozenxid), mxid_age(c.relminmxid)) AS xid_age
    FROM pg_class c
    LEFT JOIN pg_class owner ON c.relkind = 't' AND owner.reltoastrelid = c.oid
    WHERE c.relkind IN ('r', 'm', 't')
      AND c.relfrozenxid <> '0'::xid
)
SELECT t.oid::regclass::text AS table_name,
       max(r.xid_age) AS xid_age,
       (SELECT age(d.datfrozenxid) FROM pg_database d WHERE d.datname = current_database()) AS database_age,
       round(100.0 * max(r.xid_age) / 2147483647, 1) AS percent_to_wraparound,
       CASE WHEN t.relispartition THEN pg_partition_root(t.oid)::text END AS partition_root,
       '' AS partition_key
FROM rel r
JOIN pg_class t ON t.oid = r.table_oid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE r.xid_age >= %(wraparound_max_age)s
  -- system catalogs always count: their age holds back datfrozenxid like any table's
  AND (n.nspname IN ('pg_catalog', 'information_schema')
       OR ((%(schemas)s::text[] IS NULL OR n.nspname = ANY (%(schemas)s::text[]))
           AND n.nspname !~ '^pg_temp_'))
  AND n.nspname <> ALL (%(exclude_schemas)s::text[])
GROUP BY t.oid, t.relispartition
ORDER BY 2 DESC, 1
