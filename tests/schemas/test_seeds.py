"""Seed scripts: idempotent upserts on natural keys (second run: same counts, same xmins)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


def _seed_module(schema: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"seed_{schema}", REPO / "seeds" / f"{schema}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snapshot(conn: psycopg.Connection, tables: list[str]) -> dict[str, list[tuple[int, str]]]:
    return {t: conn.execute(f"SELECT id, xmin::text FROM {t} ORDER BY id").fetchall() for t in tables}


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_second_run_changes_no_row(schema, request):
    url = request.getfixturevalue(f"{schema}_db")
    seed = _seed_module(schema)
    with psycopg.connect(url) as conn:
        first = seed.run(conn, admin_password_hash="$2b$12$first")
    with psycopg.connect(url) as conn:
        tables = sorted(first)
        before = _snapshot(conn, tables)
        assert {t: len(rows) for t, rows in before.items()} == first
        assert all(first.values())
        second = seed.run(conn, admin_password_hash="$2b$12$second")
        assert second == first
        assert _snapshot(conn, tables) == before


def test_healthcare_seed_content_and_admin_password_kept(healthcare_db):
    seed = _seed_module("healthcare")
    with psycopg.connect(healthcare_db) as conn:
        seed.run(conn, admin_password_hash="$2b$12$first")
    with psycopg.connect(healthcare_db) as conn:
        seed.run(conn, admin_password_hash="$2b$12$second")
        admin = conn.execute(
            "SELECT clinic_id, role_type::text, password_hash, is_active FROM users WHERE email = %s",
            ("admin@healthcare.example",),
        ).fetchone()
        assert admin == (None, "SUPER_ADMIN", "$2b$12$first", True)
        assert conn.execute("SELECT count(*) FROM clinics WHERE name = 'Main Clinic'").fetchone()[0] == 1
        # Tenant consistency: appointments belong to the clinic of their doctor and patient.
        assert conn.execute(
            "SELECT count(*) FROM appointments a JOIN doctors d ON d.id = a.doctor_id "
            "JOIN patients p ON p.id = a.patient_id WHERE a.clinic_id <> d.clinic_id OR a.clinic_id <> p.clinic_id"
        ).fetchone()[0] == 0
        booked = conn.execute(
            "SELECT count(*) FROM doctor_availability WHERE status = 'BOOKED' AND appointment_id IS NOT NULL"
        ).fetchone()[0]
        assert booked > 0


def test_a_changed_seed_value_updates_only_that_row(fashion_db):
    seed = _seed_module("fashion")
    with psycopg.connect(fashion_db) as conn:
        seed.run(conn, admin_password_hash="")
    with psycopg.connect(fashion_db) as conn:
        conn.execute("UPDATE products SET stock = 999 WHERE sku = 'AN-PL-001'")
        conn.commit()
        before = _snapshot(conn, ["products"])["products"]
        seed.run(conn, admin_password_hash="")
        after = _snapshot(conn, ["products"])["products"]
        changed = [a for a, b in zip(after, before, strict=True) if a != b]
        assert len(changed) == 1
        assert conn.execute("SELECT stock FROM products WHERE sku = 'AN-PL-001'").fetchone()[0] == 12
