"""Healthcare use cases: each one transaction of one clinic (the guideline's UserService and AppointmentService).

Concurrency: every write use case takes its row locks in one fixed order —
the appointment, then the target slot, then the source slot — so two requests
on the same rows queue instead of deadlocking, and the one that waited
re-reads the row it locked (READ COMMITTED re-evaluates ``FOR UPDATE`` and
conditional updates against the committed version): of two transfers of one
appointment, or two bookings of one slot, exactly one wins and the other gets
a ``Conflict`` (``StaleState`` / ``SlotUnavailable``). The unique constraint
``(doctor_id, appointment_date_time)`` backs the same guarantee in the schema.
"""

from __future__ import annotations

import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from platformdb import errors
from platformdb.database import violated_constraint
from platformdb.events import DomainEvent, record_event
from platformdb.healthcare import domain, models
from platformdb.healthcare.repositories import (
    AppointmentRepository,
    AuditLogRepository,
    AvailabilityRepository,
    PatientRepository,
    UserRepository,
)
from platformdb.repository import KeysetPage
from platformdb.service import Service, unit_of_work

DOCTOR_TIME_TAKEN = "appointments_doctor_id_appointment_date_time_key"
EMAIL_TAKEN = "users_clinic_id_email_key"
FINISHED = (domain.AppointmentStatus.COMPLETED, domain.AppointmentStatus.CANCELLED)


class UserService(Service):
    """Users of one clinic."""

    @unit_of_work()
    def create_user_with_profile(
        self,
        session: Session,
        *,
        name: str,
        email: str,
        password_hash: str | None = None,
        date_of_birth: datetime.date | None = None,
        phone: str | None = None,
    ) -> domain.UserWithProfile:
        """A patient user and their patient profile, atomically; ``user.created`` is published after the commit."""
        try:
            user = UserRepository(session, self.tenant_id).create(
                name=name, email=email, role_type=domain.RoleType.PATIENT, password_hash=password_hash
            )
        except sa_exc.IntegrityError as exc:
            if violated_constraint(exc) == EMAIL_TAKEN:
                raise errors.Conflict(f"{email!r} is already registered in this clinic") from None
            raise
        patient = PatientRepository(session, self.tenant_id).create(
            user_id=user.id, date_of_birth=date_of_birth, phone=phone
        )
        record_event(
            session,
            DomainEvent(
                "user.created",
                {"user_id": user.id, "patient_id": patient.id, "email": user.email},
                tenant=self.tenant_id,
            ),
        )
        return domain.UserWithProfile(user, patient)


class AppointmentService(Service):
    """Appointments of one clinic."""

    @unit_of_work(read_only=True)
    def get_upcoming(self, session: Session, patient_id: int, *, limit: int = 10) -> list[domain.UpcomingAppointment]:
        """A patient's next appointments with their doctors' names (read-only: replica-routable)."""
        return AppointmentRepository(session, self.tenant_id).upcoming_for_patient(patient_id, limit=limit)

    @unit_of_work(read_only=True)
    def find_appointments(
        self,
        session: Session,
        filters: domain.AppointmentFilters,
        *,
        after: tuple[datetime.datetime, int] | None = None,
        limit: int = 50,
    ) -> KeysetPage[domain.AppointmentListing]:
        return AppointmentRepository(session, self.tenant_id).find_appointments(filters, after=after, limit=limit)

    @unit_of_work()
    def book_appointment(
        self,
        session: Session,
        *,
        patient_id: int,
        slot_id: int,
        duration_minutes: int = 30,
        booked_by: int | None = None,
    ) -> domain.Appointment:
        """Book a free slot for a patient: the appointment, the slot BOOKED, an audit entry — or ``SlotUnavailable``."""
        slots = AvailabilityRepository(session, self.tenant_id)
        slot = slots.lock(slot_id)
        if slot.status is not domain.SlotStatus.AVAILABLE:
            raise errors.SlotUnavailable(f"slot {slot_id} ({slot.starts_at:%Y-%m-%d %H:%M}) is already booked")
        PatientRepository(session, self.tenant_id).get(patient_id)
        appointments = AppointmentRepository(session, self.tenant_id)
        try:
            appointment = appointments.create(
                patient_id=patient_id,
                doctor_id=slot.doctor_id,
                appointment_date_time=slot.starts_at,
                duration_minutes=duration_minutes,
                status=domain.AppointmentStatus.SCHEDULED,
                updated_by=booked_by,
            )
        except sa_exc.IntegrityError as exc:
            if violated_constraint(exc) == DOCTOR_TIME_TAKEN:
                raise errors.SlotUnavailable(
                    f"doctor {slot.doctor_id} already has an appointment at {slot.starts_at:%Y-%m-%d %H:%M}"
                ) from None
            raise
        slots.update(slot.id, status=domain.SlotStatus.BOOKED, appointment_id=appointment.id)
        AuditLogRepository(session, self.tenant_id).append(
            appointment_id=appointment.id,
            action=models.AuditAction.CREATED,
            new_doctor_id=slot.doctor_id,
            performed_by=booked_by,
        )
        record_event(
            session,
            DomainEvent(
                "appointment.booked",
                {
                    "appointment_id": appointment.id,
                    "patient_id": patient_id,
                    "doctor_id": slot.doctor_id,
                    "starts_at": slot.starts_at.isoformat(),
                },
                tenant=self.tenant_id,
            ),
        )
        return appointment

    @unit_of_work(timeout=10.0)
    def transfer_appointment(
        self,
        session: Session,
        appointment_id: int,
        *,
        from_doctor_id: int,
        to_doctor_id: int,
        reason: str,
        requested_by: int,
    ) -> domain.Appointment:
        """Move an appointment to another doctor of the clinic (the guideline's ``transferAppointment``).

        In one transaction: the appointment is locked and checked (not found,
        completed, cancelled, no longer with ``from_doctor_id``), the target
        doctor's slot at that time is booked (``SlotUnavailable`` when none is
        free), the source slot released, the appointment updated, the transfer
        written to the audit log; ``appointment.transferred`` is published
        after the commit.
        """
        if to_doctor_id == from_doctor_id:
            raise errors.InvalidInput("the appointment is already with this doctor")
        appointments = AppointmentRepository(session, self.tenant_id)
        appointment = appointments.lock(appointment_id)
        if appointment.status in FINISHED:
            raise errors.InvalidState(f"cannot transfer a {appointment.status.value.lower()} appointment")
        if appointment.doctor_id != from_doctor_id:
            raise errors.StaleState(
                f"appointment {appointment_id} is with doctor {appointment.doctor_id} now, not {from_doctor_id}"
            )
        slots = AvailabilityRepository(session, self.tenant_id)
        if slots.book(doctor_id=to_doctor_id, at=appointment.starts_at, appointment_id=appointment.id) is None:
            raise errors.SlotUnavailable(
                f"doctor {to_doctor_id} has no free slot at {appointment.starts_at:%Y-%m-%d %H:%M}"
            )
        slots.release(doctor_id=from_doctor_id, appointment_id=appointment.id)
        try:
            updated = appointments.update(appointment.id, doctor_id=to_doctor_id, updated_by=requested_by)
        except sa_exc.IntegrityError as exc:
            if violated_constraint(exc) == DOCTOR_TIME_TAKEN:
                raise errors.SlotUnavailable(
                    f"doctor {to_doctor_id} already has an appointment at {appointment.starts_at:%Y-%m-%d %H:%M}"
                ) from None
            raise
        AuditLogRepository(session, self.tenant_id).append(
            appointment_id=appointment.id,
            action=models.AuditAction.TRANSFERRED,
            previous_doctor_id=from_doctor_id,
            new_doctor_id=to_doctor_id,
            reason=reason,
            performed_by=requested_by,
        )
        record_event(
            session,
            DomainEvent(
                "appointment.transferred",
                {
                    "appointment_id": appointment.id,
                    "from_doctor_id": from_doctor_id,
                    "to_doctor_id": to_doctor_id,
                    "requested_by": requested_by,
                },
                tenant=self.tenant_id,
            ),
        )
        return updated

    @unit_of_work()
    def cancel_appointment(
        self, session: Session, appointment_id: int, *, reason: str, requested_by: int
    ) -> domain.Appointment:
        """Cancel an upcoming appointment and free its slot."""
        appointments = AppointmentRepository(session, self.tenant_id)
        appointment = appointments.lock(appointment_id)
        if appointment.status in FINISHED:
            raise errors.InvalidState(f"the appointment is already {appointment.status.value.lower()}")
        AvailabilityRepository(session, self.tenant_id).release(
            doctor_id=appointment.doctor_id, appointment_id=appointment.id
        )
        updated = appointments.update(
            appointment.id, status=domain.AppointmentStatus.CANCELLED, updated_by=requested_by
        )
        AuditLogRepository(session, self.tenant_id).append(
            appointment_id=appointment.id, action=models.AuditAction.CANCELLED, reason=reason, performed_by=requested_by
        )
        record_event(
            session, DomainEvent("appointment.cancelled", {"appointment_id": appointment.id}, tenant=self.tenant_id)
        )
        return updated
