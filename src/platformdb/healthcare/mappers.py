"""Database → domain mappers for healthcare (the guideline's mapper layer).

Each mapper takes a database row — a generated ``db_types`` dataclass, an ORM
model instance, or anything with the same attributes — and returns the domain
type. ``db_row`` builds a ``db_types`` dataclass from a mapping (a psycopg
``dict_row`` or a SQLAlchemy ``Row._mapping``).
"""

from __future__ import annotations

import datetime
from typing import Protocol

from platformdb._mapping import db_row as db_row  # re-exported for callers
from platformdb.healthcare import db_types, domain


def clinic_to_domain(db: db_types.Clinic) -> domain.Clinic:
    return domain.Clinic(id=db.id, name=db.name, address=db.address, phone=db.phone, email=db.email)


_ROLES = {role.value: role for role in domain.RoleType}  # a dictionary lookup: users are mapped on every request


def user_to_domain(db: db_types.User) -> domain.User:
    return domain.User(
        id=db.id,
        name=db.name,
        email=db.email,
        clinic_id=db.clinic_id,
        role_type=_ROLES[db.role_type],
        is_active=db.is_active,
        is_verified=db.is_verified,
        created_at=db.created_at,
    )


def doctor_to_domain(db: db_types.Doctor) -> domain.Doctor:
    return domain.Doctor(id=db.id, clinic_id=db.clinic_id, user_id=db.user_id, specialty=db.specialty)


def patient_to_domain(db: db_types.Patient) -> domain.Patient:
    return domain.Patient(
        id=db.id, clinic_id=db.clinic_id, user_id=db.user_id, date_of_birth=db.date_of_birth, phone=db.phone
    )


def appointment_to_domain(db: db_types.Appointment) -> domain.Appointment:
    return domain.Appointment(
        id=db.id,
        clinic_id=db.clinic_id,
        patient_id=db.patient_id,
        doctor_id=db.doctor_id,
        starts_at=db.appointment_date_time,
        duration=datetime.timedelta(minutes=db.duration_minutes),
        status=domain.AppointmentStatus(db.status),
        rating=db.rating,
    )


def upcoming_appointment_to_domain(
    appointment: db_types.Appointment, doctor: db_types.Doctor, doctor_user: db_types.User
) -> domain.UpcomingAppointment:
    return domain.UpcomingAppointment(
        appointment_id=appointment.id,
        starts_at=appointment.appointment_date_time,
        status=domain.AppointmentStatus(appointment.status),
        doctor_id=doctor.id,
        doctor_name=doctor_user.name,
        specialty=doctor.specialty,
    )


def slot_to_domain(db: db_types.DoctorAvailability) -> domain.AvailabilitySlot:
    return domain.AvailabilitySlot(
        id=db.id,
        doctor_id=db.doctor_id,
        starts_at=db.slot_date_time,
        status=domain.SlotStatus(db.status),
        appointment_id=db.appointment_id,
    )


class AppointmentListingRow(Protocol):
    """The columns of an appointments list row (``repositories.AppointmentRepository.find_appointments``)."""

    id: int
    appointment_date_time: datetime.datetime
    duration_minutes: int
    status: str
    patient_id: int
    patient_name: str
    patient_email: str
    doctor_id: int
    doctor_name: str
    doctor_email: str


# Lists map many rows: enum members and durations by dictionary lookup (keys: labels; members hash alike).
_STATUSES = {status.value: status for status in domain.AppointmentStatus}
_MINUTES: dict[int, datetime.timedelta] = {}


def _duration(minutes: int) -> datetime.timedelta:
    found = _MINUTES.get(minutes)
    if found is None:
        found = _MINUTES.setdefault(minutes, datetime.timedelta(minutes=minutes))
    return found


def appointment_listing_to_domain(row: AppointmentListingRow) -> domain.AppointmentListing:
    return domain.AppointmentListing(
        id=row.id,
        starts_at=row.appointment_date_time,
        duration=_duration(row.duration_minutes),
        status=_STATUSES[row.status],
        patient_id=row.patient_id,
        patient_name=row.patient_name,
        patient_email=row.patient_email,
        doctor_id=row.doctor_id,
        doctor_name=row.doctor_name,
        doctor_email=row.doctor_email,
    )


class UpcomingRow(Protocol):
    id: int
    appointment_date_time: datetime.datetime
    status: str
    doctor_id: int
    doctor_name: str
    specialty: str


def upcoming_row_to_domain(row: UpcomingRow) -> domain.UpcomingAppointment:
    """A row of the patient's-upcoming-appointments query (appointment, doctor and doctor's name in one row)."""
    return domain.UpcomingAppointment(
        appointment_id=row.id,
        starts_at=row.appointment_date_time,
        status=domain.AppointmentStatus(row.status),
        doctor_id=row.doctor_id,
        doctor_name=row.doctor_name,
        specialty=row.specialty,
    )


def audit_entry_to_domain(db: db_types.AppointmentAuditLog) -> domain.AuditEntry:
    return domain.AuditEntry(
        id=db.id,
        appointment_id=db.appointment_id,
        action=str(db.action),
        previous_doctor_id=db.previous_doctor_id,
        new_doctor_id=db.new_doctor_id,
        reason=db.reason,
        performed_by=db.performed_by,
        performed_at=db.performed_at,
    )
