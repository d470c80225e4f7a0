"""`seed_at_scale`: deterministic, consistent (FKs and tenant keys), realistic, and safe to run."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from dbops.errors import RefusedError, UsageError
from dbops.scale import seed_at_scale

TODAY = date(2026, 11, 29)

CHECKSUMS = {
    "healthcare": {
        "users": "id, clinic_id, email, role_type, is_active, created_at, deleted_at",
        "appointments": "id, clinic_id, patient_id, doctor_id, appointment_date_time, status, rating, updated_by",
        "appointment_audit_logs": "id, appointment_id, action, previous_doctor_id, performed_by, performed_at",
        "doctor_availability": "id, doctor_id, slot_date_time, status, appointment_id",
    },
    "fashion": {
        "clients": "id, studio_id, email, created_at, deleted_at",
        "products": "id, studio_id, sku, price_cents, currency, stock",
        "orders": "id, client_id, status, total_cents, ordered_at",
        "order_lines": "id, order_id, product_id, quantity, unit_price_cents",
    },
}


def _rows(url: str, sql: str, *args) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, args).fetchall()


def _one(url: str, sql: str, *args):
    return _rows(url, sql, *args)[0][0]


def _fingerprint(url: str, schema: str) -> dict[str, tuple[int, str]]:
    out = {}
    for table, columns in CHECKSUMS[schema].items():
        out[table] = _rows(url, f"SELECT count(*), md5(string_agg(row({columns})::text, '|' ORDER BY id)) FROM {table}")[0]
    return out


def _schema_objects(url: str) -> set[tuple]:
    """Constraints and indexes of the public schema, dbops' bookkeeping tables (``dbops_*``) left out."""
    return {o for o in _rows(url, """
        SELECT 'c', conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'i', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
    """) if not o[1].startswith("dbops_")}


@pytest.mark.slow
def test_healthcare_is_deterministic_and_restores_the_schema(pg_server, healthcare_template, healthcare_db, settings):
    schema = settings.schema("healthcare")
    before = _schema_objects(healthcare_db)
    counts = seed_at_scale(settings, schema, healthcare_db, scale=3000, seed=7, today=TODAY)
    twin = pg_server.create_database(template=healthcare_template)
    other = pg_server.create_database(template=healthcare_template)
    try:
        assert seed_at_scale(settings, schema, twin, scale=3000, seed=7, today=TODAY) == counts
        seed_at_scale(settings, schema, other, scale=3000, seed=8, today=TODAY)
        assert _fingerprint(twin, "healthcare") == _fingerprint(healthcare_db, "healthcare")
        assert _fingerprint(other, "healthcare") != _fingerprint(healthcare_db, "healthcare")
    finally:
        pg_server.drop_database(twin.rsplit("/", 1)[1].split("?")[0])
        pg_server.drop_database(other.rsplit("/", 1)[1].split("?")[0])
    assert counts["users"] == 3000
    assert {t: _one(healthcare_db, f"SELECT count(*) FROM {t}") for t in counts} == counts
    # keys, unique constraints, foreign keys and indexes are all back, identical (partition children included)
    assert _schema_objects(healthcare_db) - before == {o for o in _schema_objects(healthcare_db) - before
                                                       if "appointment_audit_logs_p" in o[1]}
    assert before - _schema_objects(healthcare_db) == set()
    assert _one(healthcare_db, "SELECT count(*) FROM pg_constraint WHERE NOT convalidated") == 0


def test_healthcare_consistency_and_shape(healthcare_db, settings):
    counts = seed_at_scale(settings, settings.schema("healthcare"), healthcare_db, scale=4000, seed=1, today=TODAY)
    url = healthcare_db
    orphans = {
        "users→clinics": "SELECT count(*) FROM users u WHERE clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics c WHERE c.id = u.clinic_id)",
        "patients→users": "SELECT count(*) FROM patients p LEFT JOIN users u ON u.id = p.user_id WHERE u.id IS NULL OR u.role_type <> 'PATIENT'",
        "doctors→users": "SELECT count(*) FROM doctors d LEFT JOIN users u ON u.id = d.user_id WHERE u.id IS NULL OR u.role_type <> 'DOCTOR'",
        "appointments→patients": "SELECT count(*) FROM appointments a LEFT JOIN patients p ON p.id = a.patient_id WHERE p.id IS NULL",
        "appointments→doctors": "SELECT count(*) FROM appointments a LEFT JOIN doctors d ON d.id = a.doctor_id WHERE d.id IS NULL",
        "audit→appointments": "SELECT count(*) FROM appointment_audit_logs l LEFT JOIN appointments a ON a.id = l.appointment_id WHERE a.id IS NULL",
        "availability→appointments": "SELECT count(*) FROM doctor_availability v LEFT JOIN appointments a ON a.id = v.appointment_id WHERE v.appointment_id IS NOT NULL AND a.id IS NULL",
    }
    cross_tenant = {
        "patient/user": "SELECT count(*) FROM patients p JOIN users u ON u.id = p.user_id WHERE u.clinic_id <> p.clinic_id",
        "doctor/user": "SELECT count(*) FROM doctors d JOIN users u ON u.id = d.user_id WHERE u.clinic_id <> d.clinic_id",
        "appointment/patient": "SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE p.clinic_id <> a.clinic_id",
        "appointment/doctor": "SELECT count(*) FROM appointments a JOIN doctors d ON d.id = a.doctor_id WHERE d.clinic_id <> a.clinic_id",
        "appointment/editor": "SELECT count(*) FROM appointments a JOIN users u ON u.id = a.updated_by WHERE u.clinic_id <> a.clinic_id",
        "audit/appointment": "SELECT count(*) FROM appointment_audit_logs l JOIN appointments a ON a.id = l.appointment_id WHERE a.clinic_id <> l.clinic_id",
        "audit/actor": "SELECT count(*) FROM appointment_audit_logs l JOIN users u ON u.id = l.performed_by WHERE u.clinic_id <> l.clinic_id",
        "audit/transfer": "SELECT count(*) FROM appointment_audit_logs l JOIN doctors d ON d.id = l.previous_doctor_id WHERE d.clinic_id <> l.clinic_id",
        "availability/doctor": "SELECT count(*) FROM doctor_availability v JOIN doctors d ON d.id = v.doctor_id WHERE d.clinic_id <> v.clinic_id",
        "availability/appointment": "SELECT count(*) FROM doctor_availability v JOIN appointments a ON a.id = v.appointment_id WHERE a.doctor_id <> v.doctor_id OR a.appointment_date_time <> v.slot_date_time",
    }
    for name, sql in {**orphans, **cross_tenant}.items():
        assert _one(url, sql) == 0, name
    # time makes sense: appointments after the patient signed up, audit never in the future
    assert _one(url, "SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id "
                     "WHERE a.created_at < p.created_at OR a.updated_at < a.created_at") == 0
    assert _one(url, "SELECT count(*) FROM appointment_audit_logs WHERE performed_at > %s::date", TODAY) == 0
    # shape: ratings only on completed, statuses in realistic proportions, recent months busier
    assert _one(url, "SELECT count(*) FROM appointments WHERE rating IS NOT NULL AND status <> 'COMPLETED'") == 0
    rated = _one(url, "SELECT avg((rating IS NOT NULL)::int) FROM appointments WHERE status = 'COMPLETED'")
    assert 0.25 < rated < 0.45
    completed = _one(url, "SELECT avg((status = 'COMPLETED')::int) FROM appointments WHERE appointment_date_time < %s::date", TODAY)
    assert 0.7 < completed < 0.9
    assert _one(url, "SELECT count(*) FROM appointments WHERE appointment_date_time >= %s::date AND status = 'COMPLETED'", TODAY) == 0
    recent, year_before = _rows(url, "SELECT count(*) FILTER (WHERE appointment_date_time >= %s::date - 180), "
                                     "count(*) FILTER (WHERE appointment_date_time < %s::date - 365 "
                                     "AND appointment_date_time >= %s::date - 545) FROM appointments", TODAY, TODAY, TODAY)[0]
    assert recent > 1.5 * year_before
    sizes = [r[0] for r in _rows(url, "SELECT count(*) FROM users WHERE clinic_id IS NOT NULL GROUP BY clinic_id ORDER BY 1")]
    assert len(sizes) == counts["clinics"] == 10 and sizes[-1] > 5 * sizes[len(sizes) // 2]
    roles = dict(_rows(url, "SELECT role_type::text, count(*) FROM users GROUP BY 1"))
    assert roles["SUPER_ADMIN"] == 3 and 0.85 < roles["PATIENT"] / 4000 < 0.93
    assert _one(url, "SELECT count(*) FROM users WHERE (clinic_id IS NULL) <> (role_type = 'SUPER_ADMIN')") == 0
    # the history's months got their partitions: nothing piled up in the default one
    assert _one(url, "SELECT count(*) FROM appointment_audit_logs_default") == 0
    assert _one(url, "SELECT count(*) FROM appointment_audit_logs WHERE tableoid::regclass::text <> "
                     "'appointment_audit_logs_p' || to_char(performed_at AT TIME ZONE 'UTC', 'YYYYMM')") == 0
    assert _one(url, "SELECT count(DISTINCT tableoid) FROM appointment_audit_logs") >= 24
    # sequences continue after the generated ids; statistics exist
    with psycopg.connect(url, autocommit=True) as conn:
        new_id = conn.execute("INSERT INTO clinics (name) VALUES ('fresh') RETURNING id").fetchone()[0]
    assert new_id == counts["clinics"] + 1
    assert _one(url, "SELECT count(*) FROM pg_stats WHERE tablename = 'appointments'") > 5


def test_fashion_consistency(fashion_db, settings):
    counts = seed_at_scale(settings, settings.schema("fashion"), fashion_db, scale=3000, seed=3, today=TODAY)
    url = fashion_db
    assert counts["clients"] == 3000 and all(counts[t] > 0 for t in counts)
    checks = {
        "designer/studio": "SELECT count(*) FROM designers d LEFT JOIN studios s ON s.id = d.studio_id WHERE s.id IS NULL",
        "collection/designer": "SELECT count(*) FROM collections c JOIN designers d ON d.id = c.designer_id WHERE d.studio_id <> c.studio_id",
        "product/collection": "SELECT count(*) FROM products p JOIN collections c ON c.id = p.collection_id WHERE c.studio_id <> p.studio_id",
        "fitting/client": "SELECT count(*) FROM fittings f JOIN clients c ON c.id = f.client_id WHERE c.studio_id <> f.studio_id",
        "fitting/designer": "SELECT count(*) FROM fittings f JOIN designers d ON d.id = f.designer_id WHERE d.studio_id <> f.studio_id",
        "order/client": "SELECT count(*) FROM orders o JOIN clients c ON c.id = o.client_id WHERE c.studio_id <> o.studio_id",
        "line/order": "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.studio_id <> l.studio_id",
        "line/product": "SELECT count(*) FROM order_lines l JOIN products p ON p.id = l.product_id WHERE p.studio_id <> l.studio_id OR p.price_cents <> l.unit_price_cents",
        "line orphans": "SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL",
        "order totals": "SELECT count(*) FROM orders o WHERE total_cents <> (SELECT coalesce(sum(quantity * unit_price_cents), 0) FROM order_lines l WHERE l.order_id = o.id)",
        "order currency": "SELECT count(*) FROM orders o JOIN products p ON p.studio_id = o.studio_id WHERE p.currency <> o.currency",
        "orders in the future": f"SELECT count(*) FROM orders WHERE ordered_at > '{TODAY}'::date",
        "orders before sign-up": "SELECT count(*) FROM orders o JOIN clients c ON c.id = o.client_id WHERE o.ordered_at < c.created_at",
    }
    for name, sql in checks.items():
        assert _one(url, sql) == 0, name
    sizes = [r[0] for r in _rows(url, "SELECT count(*) FROM clients GROUP BY studio_id ORDER BY 1")]
    assert sizes[-1] > 4 * sizes[len(sizes) // 2]
    assert _one(url, "SELECT count(*) FROM pg_constraint WHERE NOT convalidated") == 0


def test_refuses_non_empty_without_append_and_appends_after_the_max(healthcare_db, settings):
    schema = settings.schema("healthcare")
    first = seed_at_scale(settings, schema, healthcare_db, scale=500, seed=1, today=TODAY)
    before = _one(healthcare_db, "SELECT max(id) FROM users")
    with pytest.raises(RefusedError, match="already hold rows") as refused:
        seed_at_scale(settings, schema, healthcare_db, scale=500, seed=2, today=TODAY)
    assert refused.value.exit_code == 2 and "--append" in refused.value.hint
    assert "dbops reset healthcare --no-seed" in refused.value.hint  # a plain reset would seed it again
    assert _one(healthcare_db, "SELECT count(*) FROM users") == 500

    more = seed_at_scale(settings, schema, healthcare_db, scale=500, seed=1, append=True, today=TODAY)
    assert _one(healthcare_db, "SELECT count(*) FROM users") == 1000
    assert _one(healthcare_db, "SELECT min(id) FROM users WHERE id > %s", before) == before + 1
    for table in first:
        assert _one(healthcare_db, f"SELECT count(*) FROM {table}") == first[table] + more[table]
    assert _one(healthcare_db, "SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id "
                               "WHERE p.clinic_id <> a.clinic_id") == 0


def test_refuses_non_local_without_force_and_bad_scale(settings):
    remote = "postgresql://app:s3cret@db.example.com:5432/healthcare"
    with pytest.raises(RefusedError) as refused:
        seed_at_scale(settings, settings.schema("healthcare"), remote, scale=100)
    assert "s3cret" not in refused.value.one_line() and "db.example.com" in refused.value.one_line()
    assert "--force" in refused.value.hint
    with pytest.raises(UsageError):
        seed_at_scale(settings, settings.schema("healthcare"), remote, scale=1)


def test_without_superuser_rights_foreign_keys_are_revalidated(healthcare_db, settings):
    """The non-superuser path: FK triggers cannot be switched off, so the keys are re-added after the load."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    role = f"seeder_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(healthcare_db, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT CREATE, USAGE ON SCHEMA public TO {role}")
        for (name,) in conn.execute("SELECT oid::regclass::text FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                    "AND relkind IN ('r', 'p')").fetchall():
            conn.execute(f"ALTER TABLE {name} OWNER TO {role}")
    parts = urlsplit(healthcare_db)
    as_role = urlunsplit(parts._replace(netloc=parts.netloc.replace("postgres@", f"{role}@", 1)))
    try:
        assert _one(as_role, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
        counts = seed_at_scale(settings, settings.schema("healthcare"), as_role, scale=600, seed=2, today=TODAY)
        assert counts["appointments"] > 0
        fks = _rows(healthcare_db, "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' "
                                   "AND conrelid = 'appointments'::regclass ORDER BY 1")
        assert [name for name, _ in fks] == ["appointments_clinic_id_fkey", "appointments_doctor_id_fkey",
                                             "appointments_patient_id_fkey", "appointments_updated_by_fkey"]
        assert all(valid for _, valid in fks)
    finally:
        with psycopg.connect(healthcare_db, autocommit=True) as conn:
            conn.execute(f"REASSIGN OWNED BY {role} TO postgres")
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def _table_state(url: str) -> set[tuple]:
    """Constraints, indexes (with their validity and CLUSTER mark) of the public schema (not dbops' bookkeeping)."""
    indexes = {o for o in _rows(url, """
        SELECT 'x', x.relname, i.indisvalid, i.indisready, i.indisclustered FROM pg_index i
        JOIN pg_class x ON x.oid = i.indexrelid WHERE x.relnamespace = 'public'::regnamespace
    """) if not o[1].startswith("dbops_")}
    return _schema_objects(url) | indexes


def test_fresh_load_is_frozen_and_keeps_cluster_marks(fashion_db, settings):
    """On an empty schema every table is loaded with COPY FREEZE (all pages all-visible, as after
    ``pgbench -i``), also the tables other tables' foreign keys reference, and an index marked for
    CLUSTER stays marked (and only it)."""
    url = fashion_db
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE products CLUSTER ON ix_products_collection")
    before = _table_state(url)
    counts = seed_at_scale(settings, settings.schema("fashion"), url, scale=2000, seed=5, today=TODAY)
    assert counts["order_lines"] > 0
    pages = _rows(url, "SELECT relname, relpages, relallvisible FROM pg_class "
                       "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname = ANY(%s)",
                  list(counts))
    assert {name for name, _, _ in pages} == set(counts)
    assert [(name, p, v) for name, p, v in pages if p == 0 or v != p] == []
    assert _table_state(url) == before
    assert _rows(url, "SELECT x.relname FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
                      "WHERE i.indisclustered") == [("ix_products_collection",)]


def test_a_failed_parallel_load_leaves_the_schema_empty_and_intact(healthcare_db, settings):
    """The tables load in parallel, one transaction each: when the load fails after some tables were
    committed, they are emptied again and every constraint and index is back; a rerun then works."""
    url = healthcare_db
    before = _table_state(url)

    def progress(table: str, done: int, expected: int | None = None) -> None:
        if table == "doctor_availability" and done and done == expected:  # the last table, loaded
            raise RuntimeError("interrupted on purpose")

    timings: dict[str, float] = {}
    with pytest.raises(RuntimeError, match="interrupted on purpose"):
        seed_at_scale(settings, settings.schema("healthcare"), url, scale=1500, seed=4, today=TODAY,
                      progress=progress, timings=timings)
    assert "cleanup after failure" in timings  # some tables had been committed and were emptied again
    tables = ["clinics", "users", "patients", "doctors", "appointments", "appointment_audit_logs",
              "doctor_availability"]
    assert {t: _one(url, f"SELECT count(*) FROM {t}") for t in tables} == dict.fromkeys(tables, 0)
    assert _table_state(url) - before == {o for o in _table_state(url) - before if "appointment_audit_logs_p" in o[1]}
    assert before - _table_state(url) == set()
    counts = seed_at_scale(settings, settings.schema("healthcare"), url, scale=1500, seed=4, today=TODAY)
    assert {t: _one(url, f"SELECT count(*) FROM {t}") for t in tables} == counts
