"""Seed data of the healthcare database: a super admin, three clinics, a few doctors,
patients, appointments and availability slots.

``run(conn, admin_password_hash=...)`` is called by ``dbops seed`` inside one
transaction. Every row is upserted on its natural key (a real unique
constraint) with ``ON CONFLICT … DO UPDATE … WHERE <the row differs>``: a
second run changes no row (same ``xmin`` everywhere). Dates are fixed (not
relative to "now") for the same reason. The admin's password hash is only set
when the admin has none: a rerun never resets a password.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from dbops.seed import upsert

if TYPE_CHECKING:
    import psycopg

ADMIN_EMAIL = "admin@healthcare.example"
UTC = datetime.UTC


def _at(day: str, time: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


CLINICS = [
    {"name": "Main Clinic", "address": "1 Harbour Street, Springfield", "phone": "+1-555-0100",
     "email": "contact@main-clinic.example"},
    {"name": "Riverside Clinic", "address": "48 River Road, Springfield", "phone": "+1-555-0140",
     "email": "hello@riverside-clinic.example"},
    {"name": "Hillcrest Clinic", "address": "7 Summit Avenue, Shelbyville", "phone": "+1-555-0190",
     "email": "desk@hillcrest-clinic.example"},
]

# (clinic, name, email, role, verified)
STAFF = [
    ("Main Clinic", "Clara Admin", "clara.admin@main-clinic.example", "CLINIC_ADMIN", True),
    ("Main Clinic", "Rita Reception", "rita.reception@main-clinic.example", "RECEPTIONIST", True),
    ("Main Clinic", "Nora Nurse", "nora.nurse@main-clinic.example", "NURSE", True),
    ("Riverside Clinic", "Rafael Admin", "rafael.admin@riverside-clinic.example", "CLINIC_ADMIN", True),
]

# (clinic, name, email, specialty)
DOCTORS = [
    ("Main Clinic", "Dr. Gregory House", "g.house@main-clinic.example", "Diagnostics"),
    ("Main Clinic", "Dr. Meredith Grey", "m.grey@main-clinic.example", "General Surgery"),
    ("Riverside Clinic", "Dr. John Dorian", "j.dorian@riverside-clinic.example", "Internal Medicine"),
    ("Hillcrest Clinic", "Dr. Miranda Bailey", "m.bailey@hillcrest-clinic.example", "Pediatrics"),
]

# (clinic, name, email, date of birth, phone)
PATIENTS = [
    ("Main Clinic", "Alice Martin", "alice.martin@mail.example", "1985-03-14", "+1-555-0201"),
    ("Main Clinic", "Bob Chen", "bob.chen@mail.example", "1972-11-02", "+1-555-0202"),
    ("Main Clinic", "Carmen Diaz", "carmen.diaz@mail.example", "1999-07-21", None),
    ("Riverside Clinic", "David Okafor", "david.okafor@mail.example", "1964-01-30", "+1-555-0204"),
    ("Hillcrest Clinic", "Emma Novak", "emma.novak@mail.example", "2015-09-09", "+1-555-0205"),
]

# (doctor email, patient email, start, minutes, status, rating)
APPOINTMENTS = [
    ("g.house@main-clinic.example", "alice.martin@mail.example", _at("2026-10-05", "09:00"), 30, "COMPLETED", 5),
    ("g.house@main-clinic.example", "bob.chen@mail.example", _at("2026-10-12", "10:30"), 45, "COMPLETED", 4),
    ("m.grey@main-clinic.example", "carmen.diaz@mail.example", _at("2026-11-03", "14:00"), 60, "CANCELLED", None),
    ("g.house@main-clinic.example", "alice.martin@mail.example", _at("2027-01-11", "09:00"), 30, "SCHEDULED", None),
    ("m.grey@main-clinic.example", "bob.chen@mail.example", _at("2027-01-12", "11:00"), 30, "CONFIRMED", None),
    ("j.dorian@riverside-clinic.example", "david.okafor@mail.example", _at("2027-01-13", "08:30"), 30, "SCHEDULED", None),
    ("m.bailey@hillcrest-clinic.example", "emma.novak@mail.example", _at("2026-11-16", "15:00"), 20, "COMPLETED", 5),
]

# Each doctor's slots on two mornings; slots matching an appointment are BOOKED.
SLOT_DAYS = ("2027-01-11", "2027-01-12", "2027-01-13")
SLOT_TIMES = ("08:30", "09:00", "09:30", "10:30", "11:00")


def run(conn: psycopg.Connection, *, admin_password_hash: str) -> dict[str, int]:
    """Upsert the seed rows; return the number of seed rows per table."""
    counts: dict[str, int] = {}
    clinic_ids = {c["name"]: upsert(conn, "clinics", ("name",), c) for c in CLINICS}
    counts["clinics"] = len(clinic_ids)

    user_ids: dict[str, int] = {}
    user_ids[ADMIN_EMAIL] = upsert(
        conn,
        "users",
        ("clinic_id", "email"),
        {"clinic_id": None, "name": "Platform Admin", "email": ADMIN_EMAIL, "role_type": "SUPER_ADMIN",
         "is_active": True, "is_verified": True, "password_hash": admin_password_hash},
        keep_existing=("password_hash",),
    )
    people = [(c, n, e, r, v) for c, n, e, r, v in STAFF]
    people += [(c, n, e, "DOCTOR", True) for c, n, e, _s in DOCTORS]
    people += [(c, n, e, "PATIENT", False) for c, n, e, _d, _p in PATIENTS]
    for clinic, name, email, role, verified in people:
        user_ids[email] = upsert(
            conn,
            "users",
            ("clinic_id", "email"),
            {"clinic_id": clinic_ids[clinic], "name": name, "email": email, "role_type": role,
             "is_active": True, "is_verified": verified},
        )
    counts["users"] = len(user_ids)

    doctor_ids = {
        email: upsert(conn, "doctors", ("user_id",),
                       {"clinic_id": clinic_ids[clinic], "user_id": user_ids[email], "specialty": specialty})
        for clinic, _name, email, specialty in DOCTORS
    }
    counts["doctors"] = len(doctor_ids)
    patient_ids = {
        email: upsert(conn, "patients", ("user_id",),
                       {"clinic_id": clinic_ids[clinic], "user_id": user_ids[email],
                        "date_of_birth": datetime.date.fromisoformat(dob), "phone": phone})
        for clinic, _name, email, dob, phone in PATIENTS
    }
    counts["patients"] = len(patient_ids)

    doctor_clinic = {email: clinic_ids[clinic] for clinic, _n, email, _s in DOCTORS}
    appointment_ids: dict[tuple[str, datetime.datetime], int] = {}
    for doctor, patient, start, minutes, status, rating in APPOINTMENTS:
        appointment_ids[(doctor, start)] = upsert(
            conn,
            "appointments",
            ("doctor_id", "appointment_date_time"),
            {"clinic_id": doctor_clinic[doctor], "patient_id": patient_ids[patient], "doctor_id": doctor_ids[doctor],
             "appointment_date_time": start, "duration_minutes": minutes, "status": status, "rating": rating},
        )
    counts["appointments"] = len(appointment_ids)

    slots = 0
    for doctor in doctor_ids:
        for day in SLOT_DAYS:
            for time in SLOT_TIMES:
                start = _at(day, time)
                booked = appointment_ids.get((doctor, start))
                upsert(
                    conn,
                    "doctor_availability",
                    ("doctor_id", "slot_date_time"),
                    {"clinic_id": doctor_clinic[doctor], "doctor_id": doctor_ids[doctor], "slot_date_time": start,
                     "status": "BOOKED" if booked else "AVAILABLE", "appointment_id": booked},
                )
                slots += 1
    counts["doctor_availability"] = slots
    return counts
