"""Healthcare repositories: one clinic's users, patients, doctors, appointments, slots, audit log, analytics.

Each repository is built for a session and a clinic (``UserRepository(session,
clinic_id)``); every statement carries ``clinic_id``. Lists are always
bounded (``limit``) and every hot query is a ``HotStatement`` budgeted in
budgets.yaml under its name. Row-level security repeats the clinic filter in
the database (revision 0002), with one consequence shaping the queries here:
under RLS PostgreSQL uses a condition as an index condition only when its
operator is leakproof — integer and timestamp comparisons are, enum equality
and ``ILIKE`` are not — so enum filters are written as residual filters or
partial-index predicates, and the patient-name search goes through
``clinic_patient_ids_by_name`` (a trigram search that runs as the owner,
pinned to the transaction's clinic).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from platformdb import errors
from platformdb.healthcare import domain, mappers, models
from platformdb.repository import HotStatement, KeysetPage, Page, TenantRepository, issues, literal, table_of

users = table_of(models.User)
patients = table_of(models.Patient)
doctors = table_of(models.Doctor)
appointments = table_of(models.Appointment)
availability = table_of(models.DoctorAvailability)
audit_logs = table_of(models.AppointmentAuditLog)

MIN_SEARCH = 3  # trigram search needs 3 characters to narrow anything down
UPCOMING = (domain.AppointmentStatus.SCHEDULED, domain.AppointmentStatus.CONFIRMED)

u, a, s, log = users.alias("u"), appointments.alias("a"), availability.alias("s"), audit_logs.alias("l")
p, pu, d, du = patients.alias("p"), users.alias("pu"), doctors.alias("d"), users.alias("du")
_clinic: sa.BindParameter[Any] = sa.bindparam("clinic_id")
_user_columns = (
    u.c.id,
    u.c.name,
    u.c.email,
    u.c.clinic_id,
    u.c.role_type,
    u.c.is_active,
    u.c.is_verified,
    u.c.created_at,
)
_newest_first = (u.c.created_at.desc(), u.c.id.desc())


# -- hot statements (budgets.yaml: schemas.healthcare.queries.<name>) ---------------------------------------------

CLINIC_ACTIVE_USERS_PAGE = HotStatement(
    "clinic_active_users_page",
    sa.select(*_user_columns)
    .where(u.c.clinic_id == _clinic, u.c.is_active)
    .order_by(*_newest_first)
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset")),
)
CLINIC_ACTIVE_USERS_COUNT = HotStatement(
    "clinic_active_users_count",
    sa.select(sa.func.count().label("total")).select_from(u).where(u.c.clinic_id == _clinic, u.c.is_active),
)
CLINIC_ACTIVE_USERS_KEYSET = HotStatement(
    "clinic_active_users_keyset",
    sa.select(*_user_columns)
    .where(
        u.c.clinic_id == _clinic,
        u.c.is_active,
        sa.tuple_(u.c.created_at, u.c.id) < sa.tuple_(sa.bindparam("after_created_at"), sa.bindparam("after_id")),
    )
    .order_by(*_newest_first)
    .limit(sa.bindparam("limit")),
)
USER_BY_EMAIL = HotStatement(
    "user_by_email",
    sa.select(*_user_columns).where(
        u.c.clinic_id == _clinic, u.c.email == sa.bindparam("email"), u.c.deleted_at.is_(None)
    ),
)
CLINIC_STAFF_BY_ROLE = HotStatement(
    "clinic_staff_by_role",
    # `<> 'PATIENT'` selects the partial index of active staff (a few % of the users).
    sa.select(*_user_columns)
    .where(
        u.c.clinic_id == _clinic,
        u.c.is_active,
        u.c.role_type != literal(domain.RoleType.PATIENT),
        u.c.role_type == sa.bindparam("role_type"),
    )
    .order_by(*_newest_first)
    .limit(sa.bindparam("limit")),
)
CLINIC_ACTIVE_PATIENT_USERS = HotStatement(
    "clinic_active_patient_users",
    sa.select(*_user_columns)
    .where(u.c.clinic_id == _clinic, u.c.is_active, u.c.role_type == literal(domain.RoleType.PATIENT))
    .order_by(*_newest_first)
    .limit(sa.bindparam("limit")),
)
PATIENT_UPCOMING_APPOINTMENTS = HotStatement(
    "patient_upcoming_appointments",
    sa.select(
        a.c.id,
        a.c.appointment_date_time,
        a.c.duration_minutes,
        a.c.status,
        a.c.doctor_id,
        du.c.name.label("doctor_name"),
        d.c.specialty,
    )
    .select_from(a.join(d, d.c.id == a.c.doctor_id).join(du, du.c.id == d.c.user_id))
    .where(
        a.c.clinic_id == _clinic,
        a.c.patient_id == sa.bindparam("patient_id"),
        a.c.appointment_date_time >= sa.func.now(),
        a.c.status.in_([literal(x) for x in UPCOMING]),
    )
    .order_by(a.c.appointment_date_time)
    .limit(sa.bindparam("limit")),
)


@cache
def appointments_statement(
    *,
    start: bool = False,
    end: bool = False,
    statuses: bool = False,
    doctor: bool = False,
    patient: bool = False,
    patient_name: bool = False,
    after: bool = False,
) -> sa.Select[Any]:
    """The appointments list for one combination of filters (one cached statement per combination).

    Patient and doctor names come in the same statement, ordered by start time
    then id, keyset-paged with ``after`` = (start time, id). The page is
    chosen first (a subquery with the filters, the order and the limit), and
    only its rows are joined to the names: the joins cost a few primary-key
    lookups per row whatever the number of matching appointments.
    """
    conditions: list[sa.ColumnElement[bool]] = [a.c.clinic_id == _clinic]
    if start:
        conditions.append(a.c.appointment_date_time >= sa.bindparam("from_time"))
    if end:
        conditions.append(a.c.appointment_date_time < sa.bindparam("to_time"))
    if statuses:
        conditions.append(a.c.status == sa.any_(sa.cast(sa.bindparam("statuses"), ARRAY(models.APPOINTMENT_STATUS))))
    if doctor:
        conditions.append(a.c.doctor_id == sa.bindparam("doctor_id"))
    if patient:
        conditions.append(a.c.patient_id == sa.bindparam("patient_id"))
    if patient_name:
        # The ids come from an index-backed search run as the owner (see the module docstring).
        conditions.append(a.c.patient_id == sa.any_(sa.func.clinic_patient_ids_by_name(sa.bindparam("patient_name"))))
    if after:
        conditions.append(
            sa.tuple_(a.c.appointment_date_time, a.c.id)
            > sa.tuple_(sa.bindparam("after_time"), sa.bindparam("after_id"))
        )
    page = (
        sa.select(a.c.id, a.c.appointment_date_time, a.c.duration_minutes, a.c.status, a.c.patient_id, a.c.doctor_id)
        .where(*conditions)
        .order_by(a.c.appointment_date_time, a.c.id)
        .limit(sa.bindparam("limit"))
        .subquery("page")
    )
    return (
        sa.select(
            page.c.id,
            page.c.appointment_date_time,
            page.c.duration_minutes,
            page.c.status,
            page.c.patient_id,
            pu.c.name.label("patient_name"),
            pu.c.email.label("patient_email"),
            page.c.doctor_id,
            du.c.name.label("doctor_name"),
            du.c.email.label("doctor_email"),
        )
        .select_from(
            page.join(p, sa.and_(p.c.id == page.c.patient_id, p.c.clinic_id == _clinic))
            .join(pu, sa.and_(pu.c.id == p.c.user_id, pu.c.clinic_id == _clinic))
            .join(d, sa.and_(d.c.id == page.c.doctor_id, d.c.clinic_id == _clinic))
            .join(du, sa.and_(du.c.id == d.c.user_id, du.c.clinic_id == _clinic))
        )
        .order_by(page.c.appointment_date_time, page.c.id)
    )


@cache
def _appointments_page(**shape: bool) -> HotStatement:
    return HotStatement("appointments", appointments_statement(**shape))


CLINIC_APPOINTMENTS_IN_RANGE = HotStatement(
    "clinic_appointments_in_range", appointments_statement(start=True, end=True, statuses=True)
)
CLINIC_APPOINTMENTS_BY_PATIENT_NAME = HotStatement(
    "clinic_appointments_by_patient_name", appointments_statement(patient_name=True)
)
DOCTOR_AGENDA = HotStatement("doctor_agenda", appointments_statement(start=True, end=True, doctor=True))

CLINIC_APPOINTMENT_STATS = HotStatement(
    "clinic_appointment_stats",
    sa.select(a.c.status, sa.func.count().label("appointments"), sa.func.sum(a.c.duration_minutes).label("minutes"))
    .where(a.c.clinic_id == _clinic, a.c.appointment_date_time >= sa.bindparam("since"))
    .group_by(a.c.status),
)
DOCTOR_PERFORMANCE = HotStatement(
    "doctor_performance",
    sa.select(
        sa.func.count().label("total_appointments"),
        sa.func.avg(a.c.rating).label("average_rating"),
        sa.func.count(a.c.patient_id.distinct()).label("unique_patients"),
    ).where(a.c.clinic_id == _clinic, a.c.doctor_id == sa.bindparam("doctor_id")),
)
DOCTOR_AVAILABLE_SLOTS = HotStatement(
    "doctor_available_slots",
    sa.select(s.c.id, s.c.doctor_id, s.c.slot_date_time, s.c.status, s.c.appointment_id)
    .where(
        s.c.clinic_id == _clinic,
        s.c.doctor_id == sa.bindparam("doctor_id"),
        s.c.slot_date_time >= sa.bindparam("from_time"),
        s.c.slot_date_time < sa.bindparam("to_time"),
        s.c.status == literal(domain.SlotStatus.AVAILABLE),
    )
    .order_by(s.c.slot_date_time)
    .limit(sa.bindparam("limit")),
)
CLINIC_AUDIT_TRAIL = HotStatement(
    "clinic_audit_trail",
    sa.select(
        log.c.id,
        log.c.appointment_id,
        log.c.action,
        log.c.previous_doctor_id,
        log.c.new_doctor_id,
        log.c.reason,
        log.c.performed_by,
        log.c.performed_at,
    )
    .where(log.c.clinic_id == _clinic, log.c.performed_at >= sa.bindparam("since"))
    .order_by(log.c.performed_at.desc())
    .limit(sa.bindparam("limit")),
)


# -- repositories ----------------------------------------------------------------------------------------------------


class UserRepository(TenantRepository[domain.User]):
    """A clinic's users (the password hash is never selected)."""

    table = users
    tenant_key = "clinic_id"
    entity = "user"
    columns = ("id", "name", "email", "clinic_id", "role_type", "is_active", "is_verified", "created_at")
    to_domain = staticmethod(mappers.user_to_domain)
    default_order = ("-created_at", "-id")

    @issues(USER_BY_EMAIL)
    def find_by_email(self, email: str) -> domain.User | None:
        rows = self._rows(USER_BY_EMAIL, {"email": email})
        return mappers.user_to_domain(rows[0]) if rows else None

    @issues(CLINIC_STAFF_BY_ROLE, CLINIC_ACTIVE_PATIENT_USERS)
    def find_by_role(self, role: domain.RoleType, *, limit: int = 100) -> list[domain.User]:
        """Active users with this role, newest first."""
        if role is domain.RoleType.PATIENT:
            rows = self._rows(CLINIC_ACTIVE_PATIENT_USERS, {"limit": self._limit(limit)})
        else:
            rows = self._rows(CLINIC_STAFF_BY_ROLE, {"role_type": role, "limit": self._limit(limit)})
        return [mappers.user_to_domain(r) for r in rows]

    @issues(CLINIC_ACTIVE_USERS_PAGE, CLINIC_ACTIVE_USERS_COUNT)
    def active_page(self, *, page: int = 1, per_page: int = 20) -> Page[domain.User]:
        """Active users newest first, offset pagination with the total (two statements)."""
        if page < 1:
            raise errors.InvalidInput(f"page must be 1 or more, not {page}")
        rows = self._rows(CLINIC_ACTIVE_USERS_PAGE, {"limit": self._limit(per_page), "offset": (page - 1) * per_page})
        items = tuple(mappers.user_to_domain(r) for r in rows)
        total = self._rows(CLINIC_ACTIVE_USERS_COUNT)[0][0]
        return Page(items, total, page, per_page)

    @issues(CLINIC_ACTIVE_USERS_PAGE, CLINIC_ACTIVE_USERS_KEYSET)
    def active_after(
        self, after: tuple[datetime.datetime, int] | None = None, *, limit: int = 20
    ) -> KeysetPage[domain.User]:
        """Active users newest first, keyset pagination on (created_at, id): one statement at any depth."""
        if after is None:
            rows = self._rows(CLINIC_ACTIVE_USERS_PAGE, {"limit": self._limit(limit) + 1, "offset": 0})
        else:
            rows = self._rows(
                CLINIC_ACTIVE_USERS_KEYSET,
                {"after_created_at": after[0], "after_id": after[1], "limit": self._limit(limit) + 1},
            )
        more = len(rows) > limit
        rows = rows[:limit]
        next_after = (rows[-1].created_at, rows[-1].id) if more else None
        return KeysetPage(tuple(mappers.user_to_domain(r) for r in rows), next_after)


class PatientRepository(TenantRepository[domain.Patient]):
    table = patients
    tenant_key = "clinic_id"
    entity = "patient"
    columns = ("id", "clinic_id", "user_id", "date_of_birth", "phone")
    to_domain = staticmethod(mappers.patient_to_domain)


class DoctorRepository(TenantRepository[domain.Doctor]):
    table = doctors
    tenant_key = "clinic_id"
    entity = "doctor"
    columns = ("id", "clinic_id", "user_id", "specialty")
    to_domain = staticmethod(mappers.doctor_to_domain)


class AppointmentRepository(TenantRepository[domain.Appointment]):
    """A clinic's appointments: the filtered list with names, a patient's upcoming ones, row locks for services."""

    table = appointments
    tenant_key = "clinic_id"
    entity = "appointment"
    columns = (
        "id",
        "clinic_id",
        "patient_id",
        "doctor_id",
        "appointment_date_time",
        "duration_minutes",
        "status",
        "rating",
    )
    to_domain = staticmethod(mappers.appointment_to_domain)
    default_order = ("appointment_date_time", "id")

    @issues(CLINIC_APPOINTMENTS_IN_RANGE, CLINIC_APPOINTMENTS_BY_PATIENT_NAME, DOCTOR_AGENDA)
    def find_appointments(
        self,
        filters: domain.AppointmentFilters = domain.AppointmentFilters(),
        *,
        after: tuple[datetime.datetime, int] | None = None,
        limit: int = 50,
    ) -> KeysetPage[domain.AppointmentListing]:
        """The guideline's ``findAppointments``: filtered, with patient and doctor names, in one statement.

        Ordered by start time; ``after`` is the previous page's ``next_after``.
        """
        params: dict[str, Any] = {"limit": self._limit(limit) + 1}
        if filters.patient_name is not None:
            term = filters.patient_name.strip()
            if len(term) < MIN_SEARCH:
                raise errors.InvalidInput(f"a patient-name search needs at least {MIN_SEARCH} characters")
            params["patient_name"] = term
        if filters.start is not None:
            params["from_time"] = filters.start
        if filters.end is not None:
            params["to_time"] = filters.end
        if filters.statuses:
            params["statuses"] = [domain.AppointmentStatus(x).value for x in filters.statuses]
        if filters.doctor_id is not None:
            params["doctor_id"] = filters.doctor_id
        if filters.patient_id is not None:
            params["patient_id"] = filters.patient_id
        if after is not None:
            params["after_time"], params["after_id"] = after
        statement = _appointments_page(
            start=filters.start is not None,
            end=filters.end is not None,
            statuses=bool(filters.statuses),
            doctor=filters.doctor_id is not None,
            patient=filters.patient_id is not None,
            patient_name=filters.patient_name is not None,
            after=after is not None,
        )
        rows = self._rows(statement, params)
        more = len(rows) > limit
        rows = rows[:limit]
        next_after = (rows[-1].appointment_date_time, rows[-1].id) if more else None
        return KeysetPage(tuple(mappers.appointment_listing_to_domain(r) for r in rows), next_after)

    @issues(PATIENT_UPCOMING_APPOINTMENTS)
    def upcoming_for_patient(self, patient_id: int, *, limit: int = 10) -> list[domain.UpcomingAppointment]:
        """A patient's next scheduled or confirmed appointments with the doctor's name and specialty."""
        rows = self._rows(PATIENT_UPCOMING_APPOINTMENTS, {"patient_id": patient_id, "limit": self._limit(limit)})
        return [mappers.upcoming_row_to_domain(r) for r in rows]


class AvailabilityRepository(TenantRepository[domain.AvailabilitySlot]):
    """Doctors' bookable slots. Booking is a conditional update: of two concurrent bookings one finds it taken."""

    table = availability
    tenant_key = "clinic_id"
    entity = "availability slot"
    columns = ("id", "doctor_id", "slot_date_time", "status", "appointment_id")
    to_domain = staticmethod(mappers.slot_to_domain)
    default_order = ("slot_date_time", "id")

    @issues(DOCTOR_AVAILABLE_SLOTS)
    def available_slots(
        self, doctor_id: int, start: datetime.datetime, end: datetime.datetime, *, limit: int = 200
    ) -> list[domain.AvailabilitySlot]:
        rows = self._rows(
            DOCTOR_AVAILABLE_SLOTS,
            {"doctor_id": doctor_id, "from_time": start, "to_time": end, "limit": self._limit(limit)},
        )
        return [mappers.slot_to_domain(r) for r in rows]

    def book(self, *, doctor_id: int, at: datetime.datetime, appointment_id: int) -> domain.AvailabilitySlot | None:
        """Book the doctor's AVAILABLE slot starting ``at`` for the appointment; None when there is none free.

        ``UPDATE … WHERE status = 'AVAILABLE'``: a concurrent booking of the
        same slot waits for this row lock, then re-checks the condition and
        finds the slot BOOKED.
        """
        t = self.table
        statement = (
            sa.update(t)
            .where(
                t.c.clinic_id == self.tenant_id,
                t.c.doctor_id == doctor_id,
                t.c.slot_date_time == at,
                t.c.status == domain.SlotStatus.AVAILABLE,
            )
            .values(status=domain.SlotStatus.BOOKED, appointment_id=appointment_id)
            .returning(*self._selected())
        )
        row = self._row(statement)
        return None if row is None else mappers.slot_to_domain(row)

    def release(self, *, doctor_id: int, appointment_id: int) -> int:
        """Free the doctor's slots booked for the appointment; returns how many."""
        t = self.table
        statement = (
            sa.update(t)
            .where(
                t.c.clinic_id == self.tenant_id,
                t.c.doctor_id == doctor_id,
                t.c.appointment_id == appointment_id,
                t.c.status == domain.SlotStatus.BOOKED,
            )
            .values(status=domain.SlotStatus.AVAILABLE, appointment_id=None)
        )
        return cast(sa.CursorResult[Any], self.session.execute(statement)).rowcount


class AuditLogRepository(TenantRepository[domain.AuditEntry]):
    """The clinic's append-only audit log (partitioned by month): append and read back, never change."""

    table = audit_logs
    tenant_key = "clinic_id"
    entity = "audit entry"
    columns = (
        "id",
        "appointment_id",
        "action",
        "previous_doctor_id",
        "new_doctor_id",
        "reason",
        "performed_by",
        "performed_at",
    )
    to_domain = staticmethod(mappers.audit_entry_to_domain)
    default_order = ("-performed_at",)

    def append(
        self,
        *,
        appointment_id: int,
        action: models.AuditAction,
        previous_doctor_id: int | None = None,
        new_doctor_id: int | None = None,
        reason: str | None = None,
        performed_by: int | None = None,
    ) -> domain.AuditEntry:
        return self.create(
            appointment_id=appointment_id,
            action=action,
            previous_doctor_id=previous_doctor_id,
            new_doctor_id=new_doctor_id,
            reason=reason,
            performed_by=performed_by,
        )

    @issues(CLINIC_AUDIT_TRAIL)
    def recent(self, *, since: datetime.datetime, limit: int = 50) -> list[domain.AuditEntry]:
        rows = self._rows(CLINIC_AUDIT_TRAIL, {"since": since, "limit": self._limit(limit)})
        return [mappers.audit_entry_to_domain(r) for r in rows]

    def for_appointment(self, appointment_id: int, *, limit: int = 100) -> list[domain.AuditEntry]:
        return self.find_many(self.c.appointment_id == appointment_id, order_by=("performed_at", "id"), limit=limit)

    def update(self, id: int, **values: Any) -> domain.AuditEntry:
        raise errors.InvalidInput("the audit log is append-only")

    def delete(self, id: int) -> None:
        raise errors.InvalidInput("the audit log is append-only")


class AnalyticsRepository:
    """A clinic's aggregates (the guideline's AnalyticsRepository): one statement each."""

    def __init__(self, session: Session, clinic_id: int) -> None:
        if clinic_id is None:
            raise errors.TenantRequired("AnalyticsRepository needs a clinic_id")
        self.session = session
        self.clinic_id = int(clinic_id)

    @issues(CLINIC_APPOINTMENT_STATS)
    def appointment_stats(self, *, since: datetime.datetime) -> domain.AppointmentStats:
        """Appointments since ``since``: total, average duration, count per status."""
        rows = CLINIC_APPOINTMENT_STATS.fetch(self.session, {"clinic_id": self.clinic_id, "since": since})
        total = sum(r.appointments for r in rows)
        minutes = sum(r.minutes for r in rows)
        by_status = tuple(
            sorted(
                (domain.StatusCount(domain.AppointmentStatus(r.status), r.appointments) for r in rows),
                key=lambda c: list(domain.AppointmentStatus).index(c.status),
            )
        )
        average = datetime.timedelta(minutes=minutes / total) if total else None
        return domain.AppointmentStats(total=total, average_duration=average, by_status=by_status)

    @issues(DOCTOR_PERFORMANCE)
    def doctor_performance(self, doctor_id: int) -> domain.DoctorPerformance:
        (row,) = DOCTOR_PERFORMANCE.fetch(self.session, {"clinic_id": self.clinic_id, "doctor_id": doctor_id})
        return domain.DoctorPerformance(
            doctor_id=doctor_id,
            appointments=row.total_appointments,
            average_rating=row.average_rating,
            distinct_patients=row.unique_patients,
        )


HOT_STATEMENTS: Sequence[HotStatement] = (
    CLINIC_ACTIVE_USERS_PAGE,
    CLINIC_ACTIVE_USERS_COUNT,
    CLINIC_ACTIVE_USERS_KEYSET,
    USER_BY_EMAIL,
    CLINIC_STAFF_BY_ROLE,
    CLINIC_ACTIVE_PATIENT_USERS,
    PATIENT_UPCOMING_APPOINTMENTS,
    CLINIC_APPOINTMENTS_IN_RANGE,
    CLINIC_APPOINTMENTS_BY_PATIENT_NAME,
    DOCTOR_AGENDA,
    CLINIC_APPOINTMENT_STATS,
    DOCTOR_PERFORMANCE,
    DOCTOR_AVAILABLE_SLOTS,
    CLINIC_AUDIT_TRAIL,
)
