"""Schema checks: each plants the defect in a real database next to a healthy look-alike."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from dbops.findings import Severity


def test_invalid_index_from_failed_concurrent_unique_build(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE dup_emails (id int PRIMARY KEY, email text)",
        "INSERT INTO dup_emails SELECT g, 'same@example.com' FROM generate_series(1, 50) g",
        "CREATE TABLE uniq_emails (id int PRIMARY KEY, email text)",
        "INSERT INTO uniq_emails SELECT g, g || '@example.com' FROM generate_series(1, 50) g",
        "CREATE UNIQUE INDEX CONCURRENTLY uniq_emails_email_key ON uniq_emails (email)",
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        h.execute(empty_db, "CREATE UNIQUE INDEX CONCURRENTLY dup_emails_email_key ON dup_emails (email)")
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "invalid-indexes") == {"public.dup_emails_email_key"}
    f = h.finding(report, "invalid-indexes", "public.dup_emails_email_key")
    assert f.severity is Severity.ERROR
    assert "DROP INDEX CONCURRENTLY public.dup_emails_email_key;" in f.fix
    assert "CREATE UNIQUE INDEX CONCURRENTLY dup_emails_email_key ON public.dup_emails" in f.fix
    assert report.exit_code() == 1


def test_index_being_built_concurrently_is_not_reported(empty_db, audit_db, h):
    h.execute(empty_db, "CREATE TABLE busy (id int, v int)", "INSERT INTO busy SELECT g, g FROM generate_series(1, 100) g")
    blocker = psycopg.connect(empty_db)
    blocker.execute("INSERT INTO busy VALUES (0, 0)")  # open transaction: the concurrent build waits for it
    errors: list[BaseException] = []

    def build() -> None:
        try:
            h.execute(empty_db, "CREATE INDEX CONCURRENTLY busy_v_idx ON busy (v)")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    builder = threading.Thread(target=build)
    builder.start()
    try:
        with psycopg.connect(empty_db, autocommit=True) as watch:
            for _ in range(200):
                row = watch.execute(
                    "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('public.busy_v_idx')"
                ).fetchone()
                in_progress = watch.execute(
                    "SELECT count(*) FROM pg_stat_progress_create_index WHERE relid = 'public.busy'::regclass"
                ).fetchone()[0]
                if row is not None and in_progress:
                    break
                time.sleep(0.05)
            assert row is not None and row[0] is False, "the concurrent build should be waiting with an invalid index"
        report = audit_db(empty_db, schema_only=True)
        assert "public.busy_v_idx" not in h.objects(report, "invalid-indexes")
    finally:
        blocker.rollback()
        blocker.close()
        builder.join(timeout=30)
    assert not errors
    assert h.objects(audit_db(empty_db, schema_only=True), "invalid-indexes") == set()


def test_duplicate_indexes_keep_the_stronger_one(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE d (id int PRIMARY KEY, a int, b int)",
        "CREATE INDEX d_a_first ON d (a)",
        "CREATE INDEX d_a_second ON d (a)",
        "CREATE INDEX d_b ON d (b)",
        "CREATE UNIQUE INDEX d_b_unique ON d (b)",
        # look-alikes that are not duplicates: another order, a predicate, another method
        "CREATE INDEX d_a_desc ON d (a DESC)",
        "CREATE INDEX d_a_positive ON d (a) WHERE a > 0",
        "CREATE INDEX d_a_hash ON d USING hash (a)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "duplicate-indexes") == {"public.d_a_second", "public.d_b"}
    assert h.finding(report, "duplicate-indexes", "public.d_b").details["duplicate_of"] == "public.d_b_unique"
    assert h.finding(report, "duplicate-indexes", "public.d_a_second").fix == "DROP INDEX CONCURRENTLY public.d_a_second;"


def test_prefix_covered_indexes(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text)",
        "CREATE INDEX t_a ON t (a)",
        "CREATE INDEX t_a_b ON t (a, b)",
        "CREATE INDEX t_lower_c ON t (lower(c))",
        "CREATE INDEX t_lower_c_a ON t (lower(c), a)",
        # not covered: unique, partial vs plain, another expression, another order, a non-leading column
        "CREATE UNIQUE INDEX t_b_unique ON t (b)",
        "CREATE INDEX t_b_a ON t (b, a)",
        "CREATE INDEX t_c_partial ON t (c) WHERE c IS NOT NULL",
        "CREATE INDEX t_c_id ON t (c, id)",
        "CREATE INDEX t_upper_c ON t (upper(c))",
        "CREATE INDEX t_id_desc ON t (id DESC)",
        "CREATE INDEX t_id_desc_b ON t (id, b)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "intersecting-indexes") == {"public.t_a", "public.t_lower_c"}
    f = h.finding(report, "intersecting-indexes", "public.t_a")
    assert f.details["covering_index"] == "public.t_a_b"
    assert f.fix == "DROP INDEX CONCURRENTLY public.t_a;"


def test_foreign_keys_without_index(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE parent (id bigint PRIMARY KEY)",
        "CREATE TABLE child_bare (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent)",
        "CREATE TABLE child_wrong_order (id bigint PRIMARY KEY, created int, parent_id bigint REFERENCES parent)",
        "CREATE INDEX ON child_wrong_order (created, parent_id)",
        # healthy look-alikes
        "CREATE TABLE child_indexed (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent)",
        "CREATE INDEX ON child_indexed (parent_id)",
        "CREATE TABLE child_partial (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent)",
        "CREATE INDEX ON child_partial (parent_id) WHERE parent_id IS NOT NULL",
        "CREATE TABLE tenant_owned (parent_id bigint REFERENCES parent, id bigint, PRIMARY KEY (parent_id, id))",
        "CREATE TABLE pair (a bigint, b bigint, PRIMARY KEY (a, b))",
        "CREATE TABLE pair_ref (id bigint PRIMARY KEY, b bigint, a bigint, FOREIGN KEY (a, b) REFERENCES pair (a, b))",
        "CREATE INDEX ON pair_ref (b, a)",
        # partitioned: no partition has the index -> once, on the parent
        "CREATE TABLE events (id bigint, at date, parent_id bigint REFERENCES parent) PARTITION BY RANGE (at)",
        "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        # partitioned: one partition indexed -> the other partition only
        "CREATE TABLE logs (id bigint, at date, parent_id bigint REFERENCES parent) PARTITION BY RANGE (at)",
        "CREATE TABLE logs_2025 PARTITION OF logs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE logs_2026 PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "CREATE INDEX ON logs_2025 (parent_id)",
        # partitioned with a partitioned index: fine
        "CREATE TABLE audits (id bigint, at date, parent_id bigint REFERENCES parent) PARTITION BY RANGE (at)",
        "CREATE TABLE audits_2025 PARTITION OF audits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE INDEX ON audits (parent_id, at)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "fk-without-index") == {
        "public.child_bare",
        "public.child_wrong_order",
        "public.events",
        "public.logs_2026",
    }
    bare = h.finding(report, "fk-without-index", "public.child_bare")
    assert bare.fix == "CREATE INDEX CONCURRENTLY child_bare_parent_id_idx ON public.child_bare (parent_id);"
    events = h.finding(report, "fk-without-index", "public.events")
    assert events.details["partitions"] == 2
    assert "ON ONLY public.events" in events.fix and "ATTACH PARTITION" in events.fix


def test_duplicate_and_intersecting_foreign_keys(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE ref (id bigint PRIMARY KEY, code int, UNIQUE (id, code))",
        "CREATE TABLE twice (id bigint PRIMARY KEY, ref_id bigint,"
        " CONSTRAINT twice_first FOREIGN KEY (ref_id) REFERENCES ref (id),"
        " CONSTRAINT twice_second FOREIGN KEY (ref_id) REFERENCES ref (id))",
        "CREATE TABLE overlap (id bigint PRIMARY KEY, ref_id bigint, code int,"
        " CONSTRAINT overlap_id FOREIGN KEY (ref_id) REFERENCES ref (id),"
        " CONSTRAINT overlap_id_code FOREIGN KEY (ref_id, code) REFERENCES ref (id, code))",
        # healthy: one FK each, or FKs to different tables
        "CREATE TABLE other (id bigint PRIMARY KEY)",
        "CREATE TABLE single (id bigint PRIMARY KEY, ref_id bigint REFERENCES ref, other_id bigint REFERENCES other)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "duplicate-foreign-keys") == {"public.twice.twice_second"}
    assert h.finding(report, "duplicate-foreign-keys", "public.twice.twice_second").fix == (
        "ALTER TABLE public.twice DROP CONSTRAINT twice_second;"
    )
    assert h.objects(report, "intersecting-foreign-keys") == {"public.overlap.overlap_id_code"}


def test_foreign_key_type_mismatch(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE ref (id bigint PRIMARY KEY)",
        "CREATE TABLE narrow (id bigint PRIMARY KEY, ref_id integer REFERENCES ref)",
        "CREATE TABLE same (id bigint PRIMARY KEY, ref_id bigint REFERENCES ref)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "fk-type-mismatch") == {"public.narrow.ref_id"}
    f = h.finding(report, "fk-type-mismatch", "public.narrow.ref_id")
    assert f.severity is Severity.ERROR
    assert f.fix.endswith("ALTER TABLE public.narrow ALTER COLUMN ref_id TYPE bigint;")


def test_tables_without_primary_key(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE bare (a int)",
        "CREATE TABLE keyed_by_unique (code text NOT NULL UNIQUE)",
        "CREATE TABLE history (at date, v int) PARTITION BY RANGE (at)",
        "CREATE TABLE history_2025 PARTITION OF history FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE history_2026 PARTITION OF history FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        # healthy
        "CREATE TABLE keyed (id int PRIMARY KEY)",
        "CREATE TABLE keyed_history (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
        "CREATE TABLE keyed_history_2025 PARTITION OF keyed_history FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "tables-without-primary-key") == {"public.bare", "public.keyed_by_unique", "public.history"}
    promote = h.finding(report, "tables-without-primary-key", "public.keyed_by_unique")
    assert promote.fix == "ALTER TABLE public.keyed_by_unique ADD PRIMARY KEY USING INDEX public.keyed_by_unique_code_key;"


def test_not_valid_constraints(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE ref (id bigint PRIMARY KEY)",
        "CREATE TABLE t (id bigint PRIMARY KEY, qty int, ref_id bigint)",
        "CREATE INDEX ON t (ref_id)",
        "ALTER TABLE t ADD CONSTRAINT t_qty_positive CHECK (qty > 0) NOT VALID",
        "ALTER TABLE t ADD CONSTRAINT t_ref_fk FOREIGN KEY (ref_id) REFERENCES ref NOT VALID",
        "ALTER TABLE t ADD CONSTRAINT t_qty_small CHECK (qty < 1000) NOT VALID",
        "ALTER TABLE t VALIDATE CONSTRAINT t_qty_small",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "not-valid-constraints") == {"public.t.t_qty_positive", "public.t.t_ref_fk"}
    assert h.finding(report, "not-valid-constraints", "public.t.t_ref_fk").fix == (
        "ALTER TABLE public.t VALIDATE CONSTRAINT t_ref_fk;"
    )


def test_nullable_first_column_of_non_unique_index(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE n (id int PRIMARY KEY, maybe int, always int NOT NULL)",
        "CREATE INDEX n_maybe ON n (maybe)",
        "CREATE INDEX n_always_maybe ON n (always, maybe)",
        "CREATE INDEX n_maybe_partial ON n (maybe) WHERE maybe IS NOT NULL",
        "CREATE UNIQUE INDEX n_maybe_unique ON n (maybe)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "nullable-index-first-column") == {"public.n_maybe"}
    f = h.finding(report, "nullable-index-first-column", "public.n_maybe")
    assert f.severity is Severity.INFO
    assert "WHERE maybe IS NOT NULL;" in f.fix and "DROP INDEX CONCURRENTLY public.n_maybe;" in f.fix


def test_boolean_index_columns(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE b (id int PRIMARY KEY, studio_id int NOT NULL, is_active boolean NOT NULL)",
        "CREATE INDEX b_active ON b (is_active)",
        "CREATE INDEX b_studio_active ON b (studio_id, is_active)",
        "CREATE INDEX b_studio_where_active ON b (studio_id) WHERE is_active",
        "CREATE UNIQUE INDEX b_one_active ON b (id, is_active)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "boolean-index-columns") == {"public.b_active", "public.b_studio_active"}
    f = h.finding(report, "boolean-index-columns", "public.b_studio_active")
    assert "ON public.b (studio_id) WHERE is_active" in f.fix


def test_btree_on_array_or_jsonb(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE j (id int PRIMARY KEY, tags text[] NOT NULL, doc jsonb NOT NULL)",
        "CREATE INDEX j_tags ON j (tags)",
        "CREATE INDEX j_doc ON j (doc)",
        "CREATE INDEX j_tags_gin ON j USING gin (tags)",
        "CREATE INDEX j_doc_kind ON j ((doc ->> 'kind'))",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "btree-on-array-or-jsonb") == {"public.j_tags", "public.j_doc"}
    assert "USING gin (doc)" in h.finding(report, "btree-on-array-or-jsonb", "public.j_doc").fix


def test_sequence_close_to_overflow(empty_db, audit_db, h):
    h.execute(
        empty_db,
        # int4 identity at 90 %
        "CREATE TABLE ident4 (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
        "SELECT setval(pg_get_serial_sequence('ident4', 'id'), 1932735283)",
        # bigint sequence feeding an int4 column: the column's limit counts
        "CREATE TABLE narrow_col (id int PRIMARY KEY)",
        "CREATE SEQUENCE narrow_col_seq AS bigint OWNED BY narrow_col.id",
        "ALTER TABLE narrow_col ALTER COLUMN id SET DEFAULT nextval('narrow_col_seq')",
        "SELECT setval('narrow_col_seq', 2000000000)",
        # healthy look-alikes: same values on bigint columns, an unowned bigint sequence
        "CREATE TABLE ident8 (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
        "SELECT setval(pg_get_serial_sequence('ident8', 'id'), 1932735283)",
        "CREATE SEQUENCE free_seq AS bigint",
        "SELECT setval('free_seq', 2000000000)",
        "CREATE TABLE low4 (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
        "SELECT setval(pg_get_serial_sequence('low4', 'id'), 1000)",
    )
    report = audit_db(empty_db, schema_only=True)
    assert h.objects(report, "sequence-overflow") == {"public.ident4_id_seq", "public.narrow_col_seq"}
    narrow = h.finding(report, "sequence-overflow", "public.narrow_col_seq")
    assert narrow.severity is Severity.ERROR
    assert narrow.details["limit"] == 2147483647
    assert "ALTER TABLE public.narrow_col ALTER COLUMN id TYPE bigint;" in narrow.fix
    assert h.finding(report, "sequence-overflow", "public.ident4_id_seq").details["used_percent"] == 90.0
    # the threshold is configuration
    assert h.objects(audit_db(empty_db, schema_only=True, sequence_overflow_percent=95.0), "sequence-overflow") == set()


def test_int4_primary_keys_on_big_tables(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE TABLE big4 (id int PRIMARY KEY, v int)",
        "INSERT INTO big4 SELECT g, g FROM generate_series(1, 5000) g",
        "CREATE TABLE big8 (id bigint PRIMARY KEY, v int)",
        "INSERT INTO big8 SELECT g, g FROM generate_series(1, 5000) g",
        "CREATE TABLE small4 (id int PRIMARY KEY)",
        "INSERT INTO small4 SELECT generate_series(1, 10)",
        # small table whose key sequence already used 60 % of the int4 range
        "CREATE TABLE spent4 (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
        "SELECT setval(pg_get_serial_sequence('spent4', 'id'), 1288490188)",
        "ANALYZE",
    )
    report = audit_db(empty_db, schema_only=True, int4_pk_min_rows=1000, int4_pk_percent=50.0)
    assert h.objects(report, "int4-primary-keys") == {"public.big4.id", "public.spent4.id"}
    assert h.finding(report, "int4-primary-keys", "public.big4.id").details["estimated_rows"] == 5000
    # with the default threshold (10M rows) only the spent sequence remains
    assert h.objects(audit_db(empty_db, schema_only=True), "int4-primary-keys") == {"public.spent4.id"}


def test_exclusions_by_schema_size_and_name(empty_db, audit_db, h):
    h.execute(
        empty_db,
        "CREATE SCHEMA archive",
        "CREATE TABLE archive.old_orders (a int)",
        "CREATE TABLE public.big_nokey (a int)",
        "INSERT INTO public.big_nokey SELECT generate_series(1, 20000)",
        "CREATE TABLE public.small_nokey (a int)",
        "CREATE TABLE public.tmp_load (a int)",
        "INSERT INTO public.tmp_load SELECT generate_series(1, 20000)",
        "VACUUM ANALYZE",
    )
    everything = audit_db(empty_db, schema_only=True)
    assert h.objects(everything, "tables-without-primary-key") == {
        "archive.old_orders", "public.big_nokey", "public.small_nokey", "public.tmp_load",
    }
    report = audit_db(
        empty_db, schema_only=True, exclude=["tmp_*"],
        exclude_schemas=["archive"], min_table_size_bytes=100_000, exclude_objects=["nothing_matches"],
    )
    assert h.objects(report, "tables-without-primary-key") == {"public.big_nokey"}
    only_archive = audit_db(empty_db, schema_only=True, exclude_objects=["public.*"])
    assert h.objects(only_archive, "tables-without-primary-key") == {"archive.old_orders"}
