"""Runtime checks: statistics produced by real queries, deletes, VACUUM, XID consumption."""

from __future__ import annotations

import psycopg
import pytest

from dbops.findings import Severity


def test_unused_indexes_since_stats_reset(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE u (id int PRIMARY KEY, a int, b int, c int)",
        "INSERT INTO u SELECT g, g, g, g FROM generate_series(1, 2000) g",
        "CREATE INDEX u_a ON u (a)",
        "CREATE INDEX u_b ON u (b)",
        "CREATE UNIQUE INDEX u_c ON u (c)",
        "CREATE TABLE u_child (id int PRIMARY KEY, u_id int REFERENCES u)",
        "CREATE INDEX u_child_u_id ON u_child (u_id)",  # never scanned, but the FK needs it
        "ANALYZE",
        "SELECT pg_stat_reset()",
    )
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        for value in range(5):
            conn.execute("SELECT * FROM u WHERE b = %s", [value])
        h.flush_stats(conn)
    report = audit_db(empty_db)
    assert h.objects(report, "unused-indexes") == {"public.u_a"}
    f = h.finding(report, "unused-indexes", "public.u_a")
    assert f.fix == "DROP INDEX CONCURRENTLY public.u_a;"
    assert f.details["stats_reset"] and "since the statistics reset at" in f.message
    assert report.summary["stats_reset"] == f.details["stats_reset"]
    # a higher threshold counts u_b (5 scans) as unused too; --schema-only skips runtime checks
    assert h.objects(audit_db(empty_db, unused_index_max_scans=5), "unused-indexes") == {"public.u_a", "public.u_b"}
    assert h.objects(audit_db(empty_db, schema_only=True), "unused-indexes") == set()


def test_unused_across_primary_and_replicas(empty_db, pg_server, audit_db, h):
    """Two servers with the same schema (a replica stand-in): unused only when unused on both."""
    replica = pg_server.create_database()
    ddl = (
        "CREATE TABLE u (id int PRIMARY KEY, a int, b int, z int)",
        "INSERT INTO u SELECT g, g, g, g FROM generate_series(1, 2000) g",
        "CREATE INDEX u_a ON u (a)",
        "CREATE INDEX u_b ON u (b)",
        "CREATE INDEX u_z ON u (z)",
        "ANALYZE",
    )
    h.execute(empty_db, *ddl)
    h.execute(replica, *ddl)
    for url, column in ((empty_db, "a"), (replica, "b")):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")
            conn.execute(f"SELECT * FROM u WHERE {column} = 1")
            h.flush_stats(conn)
    assert h.objects(audit_db(empty_db), "unused-indexes") == {"public.u_b", "public.u_z"}
    both = audit_db([empty_db, replica])
    assert h.objects(both, "unused-indexes") == {"public.u_z"}
    z = h.finding(both, "unused-indexes", "public.u_z")
    assert z.details["scans_per_server"] == [0, 0] and "on every server" in z.message
    assert len(both.summary["servers"]) == 2
    assert both.summary["queries_per_server"][1] < both.summary["queries_per_server"][0]


def test_tables_with_many_sequential_scans(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE scanned (id int PRIMARY KEY, a int)",
        "INSERT INTO scanned SELECT g, g % 100 FROM generate_series(1, 20000) g",
        "CREATE TABLE indexed (id int PRIMARY KEY, a int)",
        "INSERT INTO indexed SELECT g, g % 100 FROM generate_series(1, 20000) g",
        "CREATE INDEX indexed_a ON indexed (a)",
        "CREATE TABLE tiny (id int PRIMARY KEY, a int)",
        "INSERT INTO tiny SELECT g, g FROM generate_series(1, 100) g",
        "ANALYZE",
    )
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for value in range(30):
            conn.execute("SELECT count(*) FROM scanned WHERE a = %s", [value])
            conn.execute("SELECT count(*) FROM indexed WHERE a = %s", [value])
            conn.execute("SELECT count(*) FROM tiny WHERE a = %s", [value])
        h.flush_stats(conn)
    report = audit_db(empty_db, seq_scan_min_count=20, seq_scan_min_rows=10_000)
    assert h.objects(report, "seq-scan-tables") == {"public.scanned"}
    f = h.finding(report, "seq-scan-tables", "public.scanned")
    assert f.severity is Severity.INFO and f.details["seq_scan"] >= 30


def test_index_and_table_bloat_after_mass_delete(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE bloated (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off)",
        "INSERT INTO bloated SELECT g, g FROM generate_series(1, 100000) g",
        "DELETE FROM bloated WHERE id % 5 <> 0",
        "VACUUM ANALYZE bloated",
        "CREATE TABLE compact (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off)",
        "INSERT INTO compact SELECT g, g FROM generate_series(1, 100000) g",
        "VACUUM ANALYZE compact",
    )
    report = audit_db(empty_db, bloat_min_bytes=200_000, bloat_min_percent=30.0)
    assert h.objects(report, "table-bloat") == {"public.bloated"}
    assert h.objects(report, "index-bloat") == {"public.bloated_pkey"}
    table = h.finding(report, "table-bloat", "public.bloated")
    assert 60 <= table.details["bloat_percent"] <= 90, table.details
    index = h.finding(report, "index-bloat", "public.bloated_pkey")
    assert index.fix == "REINDEX INDEX CONCURRENTLY public.bloated_pkey;"
    # the fix works: after REINDEX the index is no longer reported
    h.execute(empty_db, "REINDEX INDEX CONCURRENTLY bloated_pkey")
    after = audit_db(empty_db, bloat_min_bytes=200_000, bloat_min_percent=30.0)
    assert h.objects(after, "index-bloat") == set()
    # thresholds are configuration: in bytes and in percent
    assert h.objects(audit_db(empty_db, bloat_min_bytes=50_000_000), "table-bloat") == set()
    assert h.objects(audit_db(empty_db, bloat_min_bytes=200_000, bloat_min_percent=95.0), "table-bloat") == set()


def _cold_table(url: str, h) -> None:
    # CREATE TABLE AS writes through a bulk-insert ring and CREATE INDEX builds outside shared
    # buffers: their first reads are misses.
    h.execute(
        url,
        "CREATE TABLE cold AS SELECT g AS id, g AS v FROM generate_series(1, 50000) g",
        "CREATE INDEX cold_v ON cold (v)",
        "ANALYZE cold",
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT sum(v) FROM cold")
        conn.execute("SET enable_seqscan = off")
        conn.execute("SELECT count(*) FROM cold WHERE v > 0")
        h.flush_stats(conn)


@pytest.mark.slow
def test_cache_hit_rate_low_then_warm(empty_db, pg_server, audit_db, h):
    thresholds = {"cache_hit_min_blocks": 100, "cache_hit_min_percent": 90.0}
    _cold_table(empty_db, h)
    cold = audit_db(empty_db, **thresholds)
    assert h.objects(cold, "cache-hit-rate") >= {f"{cold.summary['database']} (tables)"}
    warm_db = pg_server.create_database()
    _cold_table(warm_db, h)
    with psycopg.connect(warm_db, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        for _ in range(30):  # the same blocks again: now found in shared buffers
            conn.execute("SELECT count(*) FROM cold WHERE v > 0")
        conn.execute("SET enable_seqscan = on")
        for _ in range(30):
            conn.execute("SELECT sum(v) FROM cold")
        h.flush_stats(conn)
    assert h.objects(audit_db(warm_db, **thresholds), "cache-hit-rate") == set()


def test_transaction_id_wraparound_age(empty_db, audit_db, h):
    h.execute(empty_db, "VACUUM (FREEZE)", "CREATE TABLE old_rows (id int)", "INSERT INTO old_rows VALUES (1)")
    # consume 3000 transaction IDs, then freeze everything but old_rows
    h.execute(empty_db, "DO $$ BEGIN FOR i IN 1..3000 LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$")
    h.execute(empty_db, "CREATE TABLE new_rows (id int)", "INSERT INTO new_rows VALUES (1)")
    with psycopg.connect(empty_db, autocommit=True) as conn:
        others = conn.execute(
            "SELECT string_agg(oid::regclass::text, ', ') FROM pg_class "
            "WHERE relkind IN ('r', 'm') AND oid <> 'old_rows'::regclass"
        ).fetchone()[0]
        conn.execute(f"VACUUM (FREEZE) {others}")
    report = audit_db(empty_db, wraparound_max_age=2500)
    assert h.objects(report, "xid-wraparound") == {"public.old_rows"}
    f = h.finding(report, "xid-wraparound", "public.old_rows")
    assert f.severity is Severity.ERROR and f.details["xid_age"] >= 3000
    assert f.fix == "VACUUM (FREEZE, VERBOSE) public.old_rows;"
    assert report.exit_code() == 1
    h.execute(empty_db, "VACUUM (FREEZE) old_rows")
    assert h.objects(audit_db(empty_db, wraparound_max_age=2500), "xid-wraparound") == set()


def test_never_vacuumed_and_never_analyzed(empty_db, audit_db, h):
    statements = []
    for name in ("raw", "analyzed", "vacuumed", "maintained"):
        statements += [
            f"CREATE TABLE {name} (id int PRIMARY KEY)",
            f"INSERT INTO {name} SELECT generate_series(1, 2000)",
        ]
    statements += [
        "CREATE TABLE few (id int PRIMARY KEY)",
        "INSERT INTO few SELECT generate_series(1, 10)",
        # partitioned: every partition never vacuumed -> once on the parent; one vacuumed -> the other
        "CREATE TABLE ev (id int, at date) PARTITION BY RANGE (at)",
        "CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "INSERT INTO ev SELECT g, date '2025-01-01' + (g % 700) FROM generate_series(1, 4000) g",
        "CREATE TABLE lg (id int, at date) PARTITION BY RANGE (at)",
        "CREATE TABLE lg_2025 PARTITION OF lg FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE lg_2026 PARTITION OF lg FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "INSERT INTO lg SELECT g, date '2025-01-01' + (g % 700) FROM generate_series(1, 4000) g",
        "flush",
        "ANALYZE analyzed, ev, lg",
        "VACUUM vacuumed",
        "VACUUM lg_2025",
        "VACUUM ANALYZE maintained",
    ]
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for statement in statements:
            if statement == "flush":  # the insert counts first, so ANALYZE's row counts are not added to them
                h.flush_stats(conn)
            else:
                conn.execute(statement)
        h.flush_stats(conn)
    report = audit_db(empty_db)
    assert h.objects(report, "never-vacuumed") == {"public.raw", "public.analyzed", "public.ev", "public.lg_2026"}
    assert h.objects(report, "never-analyzed") == {"public.raw", "public.vacuumed"}
    ev = h.finding(report, "never-vacuumed", "public.ev")
    assert "on all 2 partitions" in ev.message and ev.details["live_rows"] == 4000
    assert h.finding(report, "never-analyzed", "public.raw").fix == "ANALYZE public.raw;"


def test_an_index_made_minutes_ago_is_not_unused(empty_db, audit_db, h):
    """dbops bounds an index's age by the revisions it recorded after it (dbops_revision_checksums)."""
    from dbops.revisions import CHECKSUM_TABLE
    from dbops.revisions.checksums import CREATE_TABLE_SQL

    record = f"INSERT INTO {CHECKSUM_TABLE} (revision, file, sha256, applied_at) VALUES (%s, 'f', 'x', %s)"
    h.execute(empty_db, "CREATE TABLE u (id int PRIMARY KEY, a int, b int, c int)", "CREATE INDEX u_old ON u (a)",
              CREATE_TABLE_SQL)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(record, ("0001", "2026-01-01 00:00+00"))  # u_old was made by then at the latest
        conn.execute("CREATE INDEX u_new ON u (b)")
        conn.execute(record, ("0002", "now"))  # u_new: at the latest now, minutes old
        conn.execute("CREATE INDEX u_hand ON u (c)")  # after every recorded revision: its age is unknown
        conn.execute("ANALYZE u")

    report = audit_db(empty_db)

    assert h.objects(report, "unused-indexes") == {"public.u_old", "public.u_hand"}
    assert "when the index was made is unknown" in h.finding(report, "unused-indexes", "public.u_hand").message
    assert h.finding(report, "unused-indexes", "public.u_old").details["made"].startswith("2026-01-01")
    # a shorter minimum age lets u_new be judged too, its window starting when it was made
    young = h.finding(audit_db(empty_db, unused_index_min_age_days=0), "unused-indexes", "public.u_new")
    assert "since it was made (at the latest" in young.message
