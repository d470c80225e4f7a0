"""Healthcare domain types (the guideline's ``@types``): the contract services and DTOs use.

Hand-written, frozen, and independent of the database: this module never
imports ``models`` or ``db_types`` (an import-linter contract in
``.importlinter`` enforces it). ``mappers`` turns database rows into these.
"""

from __future__ import annotations

import datetime
import decimal
import enum
from dataclasses import dataclass


class RoleType(enum.StrEnum):
    SUPER_ADMIN = "SUPER_ADMIN"
    CLINIC_ADMIN = "CLINIC_ADMIN"
    DOCTOR = "DOCTOR"
    NURSE = "NURSE"
    RECEPTIONIST = "RECEPTIONIST"
    PATIENT = "PATIENT"


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"

    @property
    def is_upcoming(self) -> bool:
        """Still going to happen (SCHEDULED or CONFIRMED).

        >>> AppointmentStatus.CONFIRMED.is_upcoming, AppointmentStatus.CANCELLED.is_upcoming
        (True, False)
        """
        return self in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


class SlotStatus(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    BOOKED = "BOOKED"


@dataclass(frozen=True, slots=True)
class Clinic:
    id: int
    name: str
    address: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class User:
    """A user as the application sees it: no password hash, no soft-delete bookkeeping."""

    id: int
    name: str
    email: str
    clinic_id: int | None
    role_type: RoleType
    is_active: bool
    is_verified: bool
    created_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class Doctor:
    id: int
    clinic_id: int
    user_id: int
    specialty: str


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    clinic_id: int
    user_id: int
    date_of_birth: datetime.date | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Appointment:
    id: int
    clinic_id: int
    patient_id: int
    doctor_id: int
    starts_at: datetime.datetime
    duration: datetime.timedelta
    status: AppointmentStatus
    rating: int | None

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + self.duration


@dataclass(frozen=True, slots=True)
class UpcomingAppointment:
    """A patient's upcoming appointment with the doctor's name (a hot query's result)."""

    appointment_id: int
    starts_at: datetime.datetime
    status: AppointmentStatus
    doctor_id: int
    doctor_name: str
    specialty: str


@dataclass(frozen=True, slots=True)
class AvailabilitySlot:
    id: int
    doctor_id: int
    starts_at: datetime.datetime
    status: SlotStatus
    appointment_id: int | None


@dataclass(frozen=True, slots=True)
class DoctorPerformance:
    doctor_id: int
    appointments: int
    average_rating: decimal.Decimal | None
    distinct_patients: int


@dataclass(frozen=True, slots=True)
class AppointmentFilters:
    """The guideline's ``findAppointments`` filters; every one is optional, the list is always paged.

    ``patient_name`` matches anywhere in the name, case-insensitively (3
    characters at least: shorter terms cannot use the trigram index).
    """

    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    statuses: tuple[AppointmentStatus, ...] = ()
    doctor_id: int | None = None
    patient_id: int | None = None
    patient_name: str | None = None


@dataclass(frozen=True, slots=True)
class AppointmentListing:
    """An appointment with its patient's and doctor's names, as lists and agendas show it (one statement)."""

    id: int
    starts_at: datetime.datetime
    duration: datetime.timedelta
    status: AppointmentStatus
    patient_id: int
    patient_name: str
    patient_email: str
    doctor_id: int
    doctor_name: str
    doctor_email: str


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: AppointmentStatus
    count: int


@dataclass(frozen=True, slots=True)
class AppointmentStats:
    """A clinic's appointments since a date: total, average duration, breakdown by status."""

    total: int
    average_duration: datetime.timedelta | None
    by_status: tuple[StatusCount, ...]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    appointment_id: int
    action: str
    previous_doctor_id: int | None
    new_doctor_id: int | None
    reason: str | None
    performed_by: int | None
    performed_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class UserWithProfile:
    user: User
    patient: Patient
