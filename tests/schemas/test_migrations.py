"""The schemas' Alembic histories: round trip, partitions, lock-safety basics, no drift."""

from __future__ import annotations

import datetime
import io

import psycopg
import pytest
from alembic import command

from dbops.drift import model_drift
from dbops.revisions import alembic_config, upgrade

TABLES = {
    "healthcare": {"clinics", "users", "patients", "doctors", "appointments", "appointment_audit_logs",
                   "doctor_availability"},
    "fashion": {"studios", "designers", "clients", "collections", "products", "fittings", "orders", "order_lines"},
}


def _objects(url: str) -> tuple[set[str], set[str]]:
    """(tables that are not partitions, enum types) in the public schema."""
    with psycopg.connect(url) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND NOT relispartition "
            "AND relnamespace = 'public'::regnamespace")}
        enums = {r[0] for r in conn.execute(
            "SELECT typname FROM pg_type WHERE typtype = 'e' AND typnamespace = 'public'::regnamespace")}
    return {t for t in tables if t != "alembic_version" and not t.startswith("dbops_")}, enums


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_upgrade_downgrade_upgrade_round_trip(schema, settings, empty_db):
    sch = settings.schema(schema)
    assert upgrade(settings, sch, empty_db) == ["0001", "0002"]
    tables, enums = _objects(empty_db)
    assert tables == TABLES[schema]
    assert enums, "native enum types are created"

    command.downgrade(alembic_config(settings, sch, empty_db), "base")
    assert _objects(empty_db) == (set(), set())
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'appointment_audit_logs%'").fetchone()[0] == 0

    assert upgrade(settings, sch, empty_db) == ["0001", "0002"]
    assert _objects(empty_db)[0] == TABLES[schema]
    assert model_drift(settings, sch, empty_db) == []


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_migrated_database_equals_models(schema, settings, request):
    url = request.getfixturevalue(f"{schema}_db")
    assert model_drift(settings, settings.schema(schema), url) == []


def test_drift_is_reported_in_words(settings, healthcare_db):
    with psycopg.connect(healthcare_db) as conn:
        conn.execute("DROP INDEX ix_users_clinic_active_created")
        conn.execute("ALTER TABLE users ALTER COLUMN name DROP NOT NULL")
        conn.execute("ALTER TYPE slot_status ADD VALUE 'HELD'")
        conn.execute("ALTER TABLE appointments DROP CONSTRAINT appointments_rating_range_check")
        conn.execute("CREATE TABLE scratch (id int)")
    drift = model_drift(settings, settings.schema("healthcare"), healthcare_db)
    text = "\n".join(drift)
    assert "index ix_users_clinic_active_created on users" in text
    assert "column users.name: nullable in the database, NOT NULL in the models" in text
    assert "enum type slot_status: labels AVAILABLE, BOOKED, HELD in the database" in text
    assert "check constraint appointments_rating_range_check on appointments: in the models" in text
    assert "table scratch: in the database, not in the models" in text
    assert len(drift) == 5, drift
    # Partitions of appointment_audit_logs are never reported as extra tables.
    assert "appointment_audit_logs_p" not in text


def _month(day: datetime.date, offset: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + offset
    return datetime.date(index // 12, index % 12 + 1, 1)


def test_audit_log_partitions_cover_a_window_around_today(healthcare_db):
    today = datetime.date.today()
    expected = {f"appointment_audit_logs_p{_month(today, k):%Y%m}" for k in range(-3, 4)}
    expected.add("appointment_audit_logs_default")
    with psycopg.connect(healthcare_db) as conn:
        partitions = {r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'appointment_audit_logs'::regclass")}
        assert partitions == expected
        clinic = conn.execute("INSERT INTO clinics (name) VALUES ('P') RETURNING id").fetchone()[0]
        user = conn.execute("INSERT INTO users (clinic_id, name, email, role_type) VALUES (%s, 'u', 'u@x', 'PATIENT') "
                            "RETURNING id", (clinic,)).fetchone()[0]
        patient = conn.execute("INSERT INTO patients (clinic_id, user_id) VALUES (%s, %s) RETURNING id",
                               (clinic, user)).fetchone()[0]
        doctor = conn.execute("INSERT INTO doctors (clinic_id, user_id, specialty) VALUES (%s, %s, 'x') RETURNING id",
                              (clinic, user)).fetchone()[0]
        appt = conn.execute("INSERT INTO appointments (clinic_id, patient_id, doctor_id, appointment_date_time) "
                            "VALUES (%s, %s, %s, now()) RETURNING id", (clinic, patient, doctor)).fetchone()[0]
        conn.execute("INSERT INTO appointment_audit_logs (clinic_id, appointment_id, action) VALUES (%s, %s, 'CREATED')",
                     (clinic, appt))
        conn.execute("INSERT INTO appointment_audit_logs (clinic_id, appointment_id, action, performed_at) "
                     "VALUES (%s, %s, 'CANCELLED', '2001-01-01')", (clinic, appt))
        where = dict(conn.execute(
            "SELECT action::text, tableoid::regclass::text FROM appointment_audit_logs").fetchall())
    assert where == {"CREATED": f"appointment_audit_logs_p{today:%Y%m}", "CANCELLED": "appointment_audit_logs_default"}


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_offline_sql_sets_lock_timeout_before_any_ddl(schema, settings):
    config = alembic_config(settings, settings.schema(schema), "postgresql://nobody@localhost/none")
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, "head", sql=True)
    sql = buffer.getvalue()
    revision_part = sql.split("-- Running upgrade  -> 0001", 1)[1]
    statements = [s.strip() for s in revision_part.split(";") if s.strip()]
    assert statements[0] == "SET lock_timeout = '2s'"
    assert "CREATE TYPE" in statements[1]
    # Initial revision: every index is on a table created in the same revision.
    created = {s.split()[2] for s in statements if s.startswith("CREATE TABLE")}
    for stmt in statements:
        if stmt.startswith("CREATE INDEX"):
            assert stmt.split(" ON ")[1].split()[0] in created, stmt
