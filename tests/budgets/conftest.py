"""Fixtures of the budget tests: migrated databases planted with data (generate_series, ≤ ~100k rows).

Planting happens once per session into a template database (FK triggers off
while planting, the data being consistent by construction); each test gets a
fresh copy. Clinic 1 / studio 1 hold half of the rows, so "the largest
tenant" is a real worst case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HEALTHCARE = """
INSERT INTO clinics (id, name) SELECT c, 'Clinic ' || c FROM generate_series(1, 5) AS c;
-- clinic 1 holds half of the users; clinics 2-5 share the rest; 2 % of the users are doctors
INSERT INTO users (id, clinic_id, name, email, role_type, is_active, created_at)
SELECT i, CASE WHEN i % 2 = 0 THEN 1 ELSE 2 + (i / 2) % 4 END, 'User ' || i, 'u' || i || '@example.test',
       (CASE WHEN i % 50 < 2 THEN 'DOCTOR' ELSE 'PATIENT' END)::role_type,
       i % 10 <> 3, now() - i * interval '7 minutes'
FROM generate_series(1, {users}) AS i;
INSERT INTO doctors (id, clinic_id, user_id, specialty)
SELECT id, clinic_id, id, 'general' FROM users WHERE role_type = 'DOCTOR';
INSERT INTO patients (id, clinic_id, user_id)
SELECT id, clinic_id, id FROM users WHERE role_type = 'PATIENT';
-- appointments from 180 days ago to 30 days ahead, each with a doctor of the patient's clinic
INSERT INTO appointments (id, clinic_id, patient_id, doctor_id, appointment_date_time, duration_minutes, status, rating)
WITH p AS (SELECT id, clinic_id, row_number() OVER (ORDER BY id) - 1 AS rn FROM patients),
     d AS (SELECT id, clinic_id, row_number() OVER (PARTITION BY clinic_id ORDER BY id) - 1 AS rn FROM doctors),
     dn AS (SELECT clinic_id, count(*) AS n FROM doctors GROUP BY clinic_id),
     a AS (SELECT i, now() - interval '180 days' + i * (interval '210 days' / {appointments}) AS at,
                  (i * 7919) % (SELECT count(*) FROM patients) AS prn
           FROM generate_series(1, {appointments}) AS i),
     ap AS (SELECT a.*, p.id AS patient_id, p.clinic_id, a.i % dn.n AS drn
            FROM a JOIN p ON p.rn = a.prn JOIN dn ON dn.clinic_id = p.clinic_id)
SELECT ap.i, ap.clinic_id, ap.patient_id, d.id, ap.at, 30,
       (CASE WHEN ap.at > now() THEN (CASE WHEN ap.i % 2 = 0 THEN 'SCHEDULED' ELSE 'CONFIRMED' END)
             WHEN ap.i % 10 = 0 THEN 'CANCELLED' ELSE 'COMPLETED' END)::appointment_status,
       CASE WHEN ap.i % 3 = 0 THEN 1 + ap.i % 5 END
FROM ap JOIN d ON d.clinic_id = ap.clinic_id AND d.rn = ap.drn;
-- two-hour slots from two days ago to two weeks ahead
INSERT INTO doctor_availability (clinic_id, doctor_id, slot_date_time, status)
SELECT d.clinic_id, d.id, date_trunc('hour', now()) + h * interval '2 hours',
       (CASE WHEN h % 3 = 0 THEN 'BOOKED' ELSE 'AVAILABLE' END)::slot_status
FROM doctors d CROSS JOIN generate_series(-24, 12 * 14) AS h;
INSERT INTO appointment_audit_logs (clinic_id, appointment_id, action, performed_at)
SELECT clinic_id, id, 'CREATED', now() - (id % 60) * interval '1 day' FROM appointments WHERE id % 4 = 0;
"""

FASHION = """
INSERT INTO studios (id, name) SELECT s, 'Studio ' || s FROM generate_series(1, 4) AS s;
INSERT INTO designers (id, studio_id, name, email, is_active)
SELECT i, 1 + i % 4, 'Designer ' || i, 'd' || i || '@example.test', true FROM generate_series(1, 40) AS i;
-- studio 1 holds half of the clients
INSERT INTO clients (id, studio_id, name, email, is_active, created_at)
SELECT i, CASE WHEN i % 2 = 0 THEN 1 ELSE 2 + i % 3 END, 'Client ' || i, 'c' || i || '@example.test', i % 10 <> 3,
       now() - i * interval '11 minutes'
FROM generate_series(1, {clients}) AS i;
INSERT INTO collections (id, studio_id, designer_id, name, season, year, status)
SELECT i, 1 + i % 4, 4 * (1 + i % 9) + (i % 4), 'Collection ' || i, 'SS', 2026, 'PUBLISHED'
FROM generate_series(1, 80) AS i;
INSERT INTO products (id, studio_id, collection_id, sku, name, price_cents, currency, stock, is_active)
SELECT i, 1 + (1 + i % 80) % 4, 1 + i % 80, 'SKU-' || i, 'Product ' || i, 1000 + i, 'EUR', i % 50, i % 8 <> 3
FROM generate_series(1, {products}) AS i;
INSERT INTO fittings (studio_id, client_id, designer_id, scheduled_at, duration_minutes, status)
SELECT c.studio_id, c.id, 4 * (1 + g.i % 9) + (c.studio_id - 1),
       now() - interval '200 days' + g.i * interval '13 minutes', 45, 'SCHEDULED'
FROM generate_series(1, {fittings}) AS g(i) JOIN clients c ON c.id = 1 + (g.i * 31) % {clients};
INSERT INTO orders (id, studio_id, client_id, status, total_cents, currency, ordered_at)
SELECT g.i, c.studio_id, c.id, 'PAID', 5000, 'EUR', now() - g.i * interval '17 minutes'
FROM generate_series(1, {orders}) AS g(i) JOIN clients c ON c.id = 1 + (g.i * 17) % {clients};
-- three lines per order, products of the order's studio
INSERT INTO order_lines (studio_id, order_id, product_id, quantity, unit_price_cents)
SELECT o.studio_id, o.id,
       80 * (1 + (o.id + k) % ({products} / 80 - 1)) + (o.studio_id + 2) % 4 + 4 * ((o.id * 3 + k) % 20), 1, 1000
FROM orders o CROSS JOIN generate_series(0, 2) AS k;
"""

SIZES = {
    "healthcare": {"users": 6000, "appointments": 30000},
    "fashion": {"clients": 6000, "products": 4000, "fittings": 15000, "orders": 15000},
}


def _plant(pg_server, template: str, schema: str) -> str:
    import psycopg

    name = f"planted_{schema}_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name, template=template)
    script = (HEALTHCARE if schema == "healthcare" else FASHION).format(**SIZES[schema])
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(script)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return name


@pytest.fixture(scope="session")
def planted_healthcare_template(pg_server, healthcare_template) -> str:
    return _plant(pg_server, healthcare_template, "healthcare")


@pytest.fixture(scope="session")
def planted_fashion_template(pg_server, fashion_template) -> str:
    return _plant(pg_server, fashion_template, "fashion")


@pytest.fixture
def planted_healthcare(pg_server, planted_healthcare_template) -> Iterator[str]:
    """URL of a fresh copy of the migrated healthcare database with ~70k planted rows."""
    yield from pg_server.fresh(planted_healthcare_template)


@pytest.fixture
def planted_fashion(pg_server, planted_fashion_template) -> Iterator[str]:
    """URL of a fresh copy of the migrated fashion database with ~70k planted rows."""
    yield from pg_server.fresh(planted_fashion_template)


@pytest.fixture
def write_budgets(tmp_path: Path):
    """``write_budgets(schema, {name: spec_yaml})`` → path of a budgets file holding those queries."""

    def write(schema: str, queries: dict[str, str]) -> Path:
        lines = ["version: 1", "schemas:", f"  {schema}:", "    queries:"]
        for name, spec in queries.items():
            lines.append(f"      {name}:")
            lines.extend("        " + line for line in spec.strip("\n").splitlines())
        path = tmp_path / f"budgets_{uuid.uuid4().hex[:6]}.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    return write
