"""Mappers turn real rows (read from a seeded database) into the domain types."""

from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

REPO = Path(__file__).resolve().parents[2]


def _seed(schema: str, url: str) -> None:
    spec = importlib.util.spec_from_file_location(f"seed_{schema}", REPO / "seeds" / f"{schema}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with psycopg.connect(url) as conn:
        module.run(conn, admin_password_hash="$2b$12$hash")


def test_healthcare_rows_map_to_domain(healthcare_db):
    from platformdb.healthcare import db_types, domain, mappers

    _seed("healthcare", healthcare_db)
    with psycopg.connect(healthcare_db, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM users WHERE email = 'g.house@main-clinic.example'").fetchone()
        user = mappers.user_to_domain(mappers.db_row(db_types.User, row))
        assert isinstance(user, domain.User)
        assert (user.id, user.name, user.clinic_id) == (row["id"], "Dr. Gregory House", row["clinic_id"])
        assert user.role_type is domain.RoleType.DOCTOR
        assert not hasattr(user, "password_hash")

        # The hot query: a patient's upcoming appointments with the doctor's name.
        rows = conn.execute(
            "SELECT a.id, u.name AS doctor_name FROM appointments a JOIN patients p ON p.id = a.patient_id "
            "JOIN users pu ON pu.id = p.user_id JOIN doctors d ON d.id = a.doctor_id JOIN users u ON u.id = d.user_id "
            "WHERE pu.email = 'alice.martin@mail.example' AND a.status IN ('SCHEDULED', 'CONFIRMED') "
            "AND a.appointment_date_time >= %s ORDER BY a.appointment_date_time",
            (datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC),),
        ).fetchall()
        assert [r["doctor_name"] for r in rows] == ["Dr. Gregory House"]
        appointment = conn.execute("SELECT * FROM appointments WHERE id = %s", (rows[0]["id"],)).fetchone()
        doctor = conn.execute("SELECT * FROM doctors WHERE id = %s", (appointment["doctor_id"],)).fetchone()
        doctor_user = conn.execute("SELECT * FROM users WHERE id = %s", (doctor["user_id"],)).fetchone()
        upcoming = mappers.upcoming_appointment_to_domain(
            mappers.db_row(db_types.Appointment, appointment),
            mappers.db_row(db_types.Doctor, doctor),
            mappers.db_row(db_types.User, doctor_user),
        )
        assert upcoming.doctor_name == "Dr. Gregory House" and upcoming.specialty == "Diagnostics"
        assert upcoming.status is domain.AppointmentStatus.SCHEDULED and upcoming.status.is_upcoming
        assert upcoming.starts_at == datetime.datetime(2027, 1, 11, 9, 0, tzinfo=datetime.UTC)

        mapped = mappers.appointment_to_domain(mappers.db_row(db_types.Appointment, appointment))
        assert mapped.ends_at - mapped.starts_at == datetime.timedelta(minutes=appointment["duration_minutes"])

        slot_row = conn.execute(
            "SELECT * FROM doctor_availability WHERE appointment_id = %s", (appointment["id"],)
        ).fetchone()
        slot = mappers.slot_to_domain(mappers.db_row(db_types.DoctorAvailability, slot_row))
        assert slot.status is domain.SlotStatus.BOOKED and slot.starts_at == upcoming.starts_at


def test_healthcare_mappers_accept_orm_models(healthcare_db):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from dbops.db import create_engine
    from platformdb.healthcare import domain, mappers, models

    _seed("healthcare", healthcare_db)
    engine = create_engine(healthcare_db)
    try:
        with Session(engine) as session:
            clinic = session.scalars(select(models.Clinic).where(models.Clinic.name == "Main Clinic")).one()
            mapped = mappers.clinic_to_domain(clinic)
    finally:
        engine.dispose()
    assert mapped == domain.Clinic(clinic.id, "Main Clinic", clinic.address, clinic.phone, clinic.email)


def test_fashion_order_with_lines_maps_to_domain(fashion_db):
    from platformdb.fashion import db_types, domain, mappers

    _seed("fashion", fashion_db)
    with psycopg.connect(fashion_db, row_factory=dict_row) as conn:
        order_row = conn.execute(
            "SELECT o.* FROM orders o JOIN clients c ON c.id = o.client_id WHERE c.email = 'sofie.hansen@mail.example'"
        ).fetchone()
        line_rows = conn.execute("SELECT * FROM order_lines WHERE order_id = %s", (order_row["id"],)).fetchall()
        product_row = conn.execute("SELECT * FROM products WHERE sku = 'AN-PL-001'").fetchone()
    order = mappers.order_to_domain(
        mappers.db_row(db_types.Order, order_row), [mappers.db_row(db_types.OrderLine, r) for r in line_rows]
    )
    assert order.status is domain.OrderStatus.PAID
    assert len(order.lines) == 2
    assert sum(line.subtotal.cents for line in order.lines) == order.total.cents == order_row["total_cents"]
    assert str(order.total) == f"{order_row['total_cents'] // 100}.{order_row['total_cents'] % 100:02d} EUR"
    product = mappers.product_to_domain(mappers.db_row(db_types.Product, product_row))
    assert product.price == domain.Money(89000, "EUR") and product.sku == "AN-PL-001"
