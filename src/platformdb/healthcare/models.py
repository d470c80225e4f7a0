"""Healthcare models: the source of truth of the healthcare database.

Tenant key ``clinic_id`` (tenant table ``clinics``): every table that belongs
to a clinic carries it, and indexes serving per-clinic queries lead with it.
Every foreign key has a supporting index whose leading column(s) are the FK
column(s) (a unique constraint counts). Hot queries and the index serving each:

- active users of a clinic, newest first (offset and keyset pagination on
  ``(created_at, id)``): ``ix_users_clinic_active_created`` (partial, WHERE is_active);
- active staff of a clinic by role: ``ix_users_clinic_staff`` (partial, WHERE is_active AND not a patient);
- patient-name search: ``ix_users_name_trgm`` (trigram GIN, pg_trgm);
- upcoming appointments of a patient: ``ix_appointments_patient_date``;
- appointments of a clinic in a date range (+ status): ``ix_appointments_clinic_date``;
- appointment counts by status per clinic: ``ix_appointments_clinic_status`` (index-only);
- doctor performance (count, avg rating, distinct patients by doctor):
  ``appointments_doctor_id_appointment_date_time_key``;
- availability slots of a doctor in a range: ``doctor_availability_doctor_id_slot_date_time_key``.

``appointment_audit_logs`` is partitioned by month on ``performed_at``
(partitions ``appointment_audit_logs_pYYYYMM`` + ``_default``, created by the
migrations and by partition maintenance, not by the models).
"""

from __future__ import annotations

import datetime
import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from platformdb._conventions import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, identity_key, now, pg_enum

# The business enums are defined once, in the domain; the native PostgreSQL enum types below are built
# from them (the dependency points from the database layer to the domain, never back).
from platformdb.healthcare.domain import AppointmentStatus, RoleType, SlotStatus


class AuditAction(enum.StrEnum):
    CREATED = "CREATED"
    TRANSFERRED = "TRANSFERRED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


ROLE_TYPE = pg_enum(RoleType, "role_type")
APPOINTMENT_STATUS = pg_enum(AppointmentStatus, "appointment_status")
AUDIT_ACTION = pg_enum(AuditAction, "audit_action")
SLOT_STATUS = pg_enum(SlotStatus, "slot_status")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class Clinic(Base):
    """The tenant."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    address: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())
    updated_at: Mapped[datetime.datetime] = mapped_column(server_default=now(), onupdate=sa.func.now())


class User(Base):
    """A person who can sign in; ``clinic_id`` is NULL only for SUPER_ADMIN. Soft-deleted via ``deleted_at``."""

    __tablename__ = "users"
    __table_args__ = (
        # One account per e-mail per clinic; NULLS NOT DISTINCT makes super admins' e-mails unique too.
        sa.UniqueConstraint("clinic_id", "email", postgresql_nulls_not_distinct=True),
        sa.CheckConstraint("clinic_id IS NOT NULL OR role_type = 'SUPER_ADMIN'", name="clinic_required"),
        # Hot query: active users of a clinic newest first (offset and keyset (created_at, id) pagination).
        sa.Index(
            "ix_users_clinic_active_created",
            "clinic_id",
            sa.text("created_at DESC"),
            sa.text("id DESC"),
            postgresql_where=sa.text("is_active"),
        ),
        # Hot query: active staff of a clinic by role (a few % of the users), newest first.
        sa.Index(
            "ix_users_clinic_staff",
            "clinic_id",
            sa.text("created_at DESC"),
            sa.text("id DESC"),
            postgresql_where=sa.text("is_active AND role_type <> 'PATIENT'"),
        ),
        # Patient-name search (ILIKE '%term%'), used by clinic_patient_ids_by_name (revision 0002).
        sa.Index("ix_users_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.BigInteger, sa.ForeignKey("clinics.id"))
    name: Mapped[str]
    email: Mapped[str]
    role_type: Mapped[RoleType] = mapped_column(ROLE_TYPE)
    is_active: Mapped[bool] = mapped_column(server_default=sa.text("true"))
    is_verified: Mapped[bool] = mapped_column(server_default=sa.text("false"))
    password_hash: Mapped[str | None]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())
    updated_at: Mapped[datetime.datetime] = mapped_column(server_default=now(), onupdate=sa.func.now())
    deleted_at: Mapped[datetime.datetime | None]


class Patient(Base):
    """The patient profile of a user."""

    __tablename__ = "patients"
    __table_args__ = (sa.Index("ix_patients_clinic_id", "clinic_id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clinics.id"))
    user_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("users.id"), unique=True)
    date_of_birth: Mapped[datetime.date | None]
    phone: Mapped[str | None]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())

    user: Mapped[User] = relationship(lazy="raise")


class Doctor(Base):
    """The doctor profile of a user."""

    __tablename__ = "doctors"
    __table_args__ = (sa.Index("ix_doctors_clinic_specialty", "clinic_id", "specialty"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clinics.id"))
    user_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("users.id"), unique=True)
    specialty: Mapped[str]
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())

    user: Mapped[User] = relationship(lazy="raise")


class Appointment(Base):
    """A patient's appointment with a doctor."""

    __tablename__ = "appointments"
    __table_args__ = (
        # A doctor has at most one appointment starting at a given instant (rescheduling updates the row).
        # Also serves the doctor_id FK, a doctor's agenda and doctor performance (by doctor_id).
        sa.UniqueConstraint("doctor_id", "appointment_date_time"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration_range"),
        # Upcoming appointments of a patient (status filtered in the index scan); serves the patient_id FK.
        sa.Index("ix_appointments_patient_date", "patient_id", "appointment_date_time"),
        # Appointments of a clinic in a date range with a status filter; serves the clinic_id FK.
        sa.Index("ix_appointments_clinic_date", "clinic_id", "appointment_date_time", "status"),
        # Counts by status per clinic (index-only scan).
        sa.Index("ix_appointments_clinic_status", "clinic_id", "status"),
        # Supports the updated_by FK (deleting a user) without indexing the NULLs.
        sa.Index("ix_appointments_updated_by", "updated_by", postgresql_where=sa.text("updated_by IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("patients.id"))
    doctor_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("doctors.id"))
    appointment_date_time: Mapped[datetime.datetime]
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, server_default=sa.text("30"))
    status: Mapped[AppointmentStatus] = mapped_column(APPOINTMENT_STATUS, server_default=AppointmentStatus.SCHEDULED.value)
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    updated_by: Mapped[int | None] = mapped_column(sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime.datetime] = mapped_column(server_default=now())
    updated_at: Mapped[datetime.datetime] = mapped_column(server_default=now(), onupdate=sa.func.now())

    patient: Mapped[Patient] = relationship(lazy="raise")
    doctor: Mapped[Doctor] = relationship(lazy="raise")


class AppointmentAuditLog(Base):
    """What happened to an appointment, when, by whom. Partitioned by month on ``performed_at``.

    The primary key includes the partition key (a PostgreSQL requirement).
    Doctor and user ids are kept as plain values (no FK): the log must outlive
    the rows it mentions, and FK checks on every audit insert cost writes.
    """

    __tablename__ = "appointment_audit_logs"
    __table_args__ = (
        sa.Index("ix_appointment_audit_logs_appointment", "appointment_id", "performed_at"),
        sa.Index("ix_appointment_audit_logs_clinic_performed", "clinic_id", sa.text("performed_at DESC")),
        {"postgresql_partition_by": "RANGE (performed_at)"},
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clinics.id"))
    appointment_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("appointments.id"))
    action: Mapped[AuditAction] = mapped_column(AUDIT_ACTION)
    previous_doctor_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    new_doctor_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    reason: Mapped[str | None]
    performed_by: Mapped[int | None] = mapped_column(sa.BigInteger)
    performed_at: Mapped[datetime.datetime] = mapped_column(primary_key=True, server_default=now())


class DoctorAvailability(Base):
    """A bookable slot of a doctor; BOOKED slots point at their appointment."""

    __tablename__ = "doctor_availability"
    __table_args__ = (
        # Serves the doctor_id FK and "slots of a doctor in a time range (by status)".
        sa.UniqueConstraint("doctor_id", "slot_date_time"),
        sa.CheckConstraint("appointment_id IS NULL OR status = 'BOOKED'", name="booked_has_appointment"),
        sa.Index("ix_doctor_availability_clinic_slot", "clinic_id", "slot_date_time"),
        sa.Index(
            "ix_doctor_availability_appointment",
            "appointment_id",
            postgresql_where=sa.text("appointment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, identity_key(), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("clinics.id"))
    doctor_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("doctors.id"))
    slot_date_time: Mapped[datetime.datetime]
    status: Mapped[SlotStatus] = mapped_column(SLOT_STATUS, server_default=SlotStatus.AVAILABLE.value)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("appointments.id", ondelete="SET NULL")
    )
