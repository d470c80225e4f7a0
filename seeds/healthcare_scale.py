"""Synthetic healthcare data: N users across clinics of very different sizes.

Shape (for N users; the tests measure it on generated data):

- clinics: ~N/400, sizes Zipf-distributed (a few big clinics, a long tail of
  small ones), each with at least one CLINIC_ADMIN and one DOCTOR; 1-3
  SUPER_ADMIN users without a clinic;
- users: ~89 % PATIENT, 3.5 % DOCTOR, 3.5 % NURSE, 2 % RECEPTIONIST, 1 %
  CLINIC_ADMIN; sign-ups grow linearly over three years (ids follow time);
  2 % soft-deleted, a few % inactive, unverified or without a password yet;
- patients / doctors: one profile per PATIENT / DOCTOR user, same clinic;
- appointments: ~2.6 per patient over the last two years plus the next two
  months, the daily volume following the patient base (skewed to recent
  months), only with patients who had signed up by then; a patient mostly
  sees one "primary" doctor of their clinic; past: 80 % COMPLETED, 15 %
  CANCELLED; upcoming: SCHEDULED/CONFIRMED; a rating (mostly 4-5) on ~35 % of
  COMPLETED ones, NULL on every other;
- appointment_audit_logs: CREATED for each appointment, COMPLETED/CANCELLED
  matching its status, ~12 % RESCHEDULED and ~4 % TRANSFERRED (previous →
  new doctor), never in the future;
- doctor_availability: a BOOKED slot for each upcoming appointment, plus free
  AVAILABLE slots over the next two weeks.

Ids are given explicitly (``offsets`` continue after existing rows for
``append``), so foreign keys are consistent by construction and every row
of a tenant-owned table carries its clinic's id. All work is vectorised
(numpy) a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np

from dbops.scale.binary import Masked
from dbops.scale.common import (
    BATCH,
    CITIES,
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    STREETS,
    SchemaData,
    Spill,
    cum,
    draw,
    fake_hashes,
    month_start,
    phones,
    rng,
    zipf_cum,
)
from dbops.scale.text import Pool, Text

ROLES = Pool(["SUPER_ADMIN", "CLINIC_ADMIN", "DOCTOR", "NURSE", "RECEPTIONIST", "PATIENT"])
SUPER_ADMIN, CLINIC_ADMIN, DOCTOR, NURSE, RECEPTIONIST, PATIENT = range(6)
ROLE_CUM = cum([0, 1.0, 3.5, 3.5, 2.0, 89.0])
SPECIALTIES = Pool(["General Practice", "Pediatrics", "Cardiology", "Dermatology", "Orthopedics", "Gynecology",
                    "Psychiatry", "Neurology", "Ophthalmology", "ENT", "Endocrinology", "Oncology"])
SPECIALTY_CUM = cum([40, 12, 7, 7, 6, 6, 5, 4, 4, 3, 3, 3])
STATUS = Pool(["SCHEDULED", "CONFIRMED", "COMPLETED", "CANCELLED"])
SCHEDULED, CONFIRMED, COMPLETED, CANCELLED = range(4)
PAST_STATUS_CUM = cum([3, 2, 80, 15])
FUTURE_STATUS_CUM = cum([55, 38, 0, 7])
DURATIONS = np.array([15, 30, 45, 60])
DURATION_CUM = cum([10, 60, 15, 15])
RATING_CUM = cum([6, 6, 13, 30, 45])  # 1..5 stars
ACTIONS = Pool(["CREATED", "TRANSFERRED", "RESCHEDULED", "CANCELLED", "COMPLETED"])
CREATED, TRANSFERRED, RESCHEDULED, A_CANCELLED, A_COMPLETED = range(5)
REASONS = Pool(["patient request", "doctor unavailable", "clinic schedule change", "follow-up needed",
                "emergency", "duplicate booking", "insurance issue", "feeling better"])
SLOTS = Pool(["AVAILABLE", "BOOKED"])
APPOINTMENTS_PER_PATIENT = 2.6
HISTORY_DAYS = 730  # appointments in the last two years …
FUTURE_DAYS = 60  # … and the next two months
USER_DAYS = 3 * 365  # users signed up over three years
CLINIC_DAYS = 5 * 365  # clinics opened in the two years before that
SLOTS_PER_DAY = 40  # quarter hours from 08:00 to 18:00
BOOKED_AHEAD_DAYS = (0.5, 40.0)  # an appointment is booked 0.5 + 40 * u**2 days ahead (u uniform in [0, 1))
FREE_SLOT_DAYS = 14


class HealthcareData(SchemaData):
    """The generator; ``stages()`` yields the tables in foreign-key order."""

    tables = ("clinics", "users", "patients", "doctors", "appointments", "appointment_audit_logs",
              "doctor_availability")
    spilled = ("appointment_audit_logs",)  # generated with the appointments, COPY-ed right after them
    history_months = 25  # appointments and their audit trail go back two years

    def __init__(self, scale: int, seed: int, today: date, offsets: dict[str, int], spill: Spill) -> None:
        super().__init__(scale, seed, today, offsets, spill)
        self.n_super = 1 if scale < 1000 else 3
        self.n_clinics = max(1, min(round(scale / 400), (scale - self.n_super) // 3))
        pools = rng(seed, "pools")
        self.hashes = fake_hashes(pools)
        self.phones = phones(pools)
        patients = int(scale * 0.89)
        appointments = int(patients * APPOINTMENTS_PER_PATIENT)
        doctors = int(scale * 0.035) + self.n_clinics
        self.expected = {
            "clinics": self.n_clinics, "users": scale, "patients": patients, "doctors": doctors,
            "appointments": appointments, "appointment_audit_logs": int(appointments * 1.95),
            "doctor_availability": int(doctors * 26 + appointments * 0.05),
        }

    # -- clinics and users ------------------------------------------------------

    def _clinics(self) -> Iterator[dict]:
        r = rng(self.seed, "clinics")
        c = self.n_clinics
        zipf = np.diff(zipf_cum(c), prepend=0.0)
        self.clinic_cum = cum(zipf[r.permutation(c)])  # sizes: Zipf by a random rank, not by id
        self.clinic_ids = self.off["clinics"] + 1 + np.arange(c, dtype=np.int64)
        created = self.clock.days_ago(USER_DAYS + r.random(c) * (CLINIC_DAYS - USER_DAYS))
        cities = r.integers(0, len(CITIES), c).tolist()
        kinds = ("Family", "Health", "Care", "Medical")
        ids = self.clinic_ids.tolist()
        yield {
            "id": self.clinic_ids,
            "name": Text.from_list([f"{CITIES[x]} {kinds[i % 4]} Clinic {cid}" for i, (x, cid) in enumerate(zip(cities, ids, strict=True))]),
            "address": Text.from_list([f"{n} {STREETS[s]} Street, {CITIES[x]}" for n, s, x in
                                       zip(r.integers(1, 400, c).tolist(), r.integers(0, len(STREETS), c).tolist(), cities, strict=True)]),
            "phone": Text.pool(self.phones, r.integers(0, len(self.phones), c)),
            "email": Text.const("contact@clinic", c) + Text.digits(self.clinic_ids) + ".example.com",
            "created_at": created,
            "updated_at": created + (r.random(c) * 300 * DAY).astype(np.int64),
        }

    def user_created(self, index: np.ndarray) -> np.ndarray:
        """Sign-up time of users by index: linear growth over USER_DAYS, ids following time."""
        jitter = (index * 2654435761) % 3600 * SECOND
        return self.clock.growth(index / self.n, USER_DAYS) - jitter

    def _users(self) -> Iterator[dict]:
        n, c = self.n, self.n_clinics
        self.user_role = np.empty(n, dtype=np.int8)
        self.user_clinic = np.empty(n, dtype=np.int64)  # index into clinic_ids; -1 for SUPER_ADMIN
        now = self.clock.now
        for start in range(0, n, BATCH):
            r = rng(self.seed, "users", start)
            index = np.arange(start, min(n, start + BATCH), dtype=np.int64)
            size = len(index)
            roles = draw(r, ROLE_CUM, size).astype(np.int8)
            clinics = draw(r, self.clinic_cum, size)
            # fixed head: super admins, then one admin and one doctor per clinic
            roles[index < self.n_super] = SUPER_ADMIN
            clinics[index < self.n_super] = -1
            head = (index >= self.n_super) & (index < self.n_super + 2 * c)
            roles[head] = np.where(index[head] < self.n_super + c, CLINIC_ADMIN, DOCTOR)
            clinics[head] = (index[head] - self.n_super) % c
            self.user_role[index] = roles
            self.user_clinic[index] = clinics
            ids = self.off["users"] + 1 + index
            who = r.integers(0, self.names.size, size)
            created = self.user_created(index)
            deleted = r.random(size) < 0.02
            deleted_at = created + ((now - created) * r.random(size)).astype(np.int64)
            yield {
                "id": ids,
                "clinic_id": Masked(self.clinic_ids[np.maximum(clinics, 0)], clinics < 0),
                "name": Text.pool(self.names.names, who),
                "email": Text.pool(self.names.locals, who) + "." + Text.digits(ids) + "@example.com",
                "role_type": Text.pool(ROLES, roles),
                "is_active": ~deleted & (r.random(size) < 0.96),
                "is_verified": r.random(size) < 0.85,
                "password_hash": Masked(Text.pool(self.hashes, r.integers(0, len(self.hashes), size)),
                                        r.random(size) < 0.04),
                "created_at": created,
                "updated_at": created + ((now - created) * r.random(size) * 0.5).astype(np.int64),
                "deleted_at": Masked(deleted_at, ~deleted),
            }

    # -- profiles -----------------------------------------------------------------

    def _patients(self) -> Iterator[dict]:
        users = np.flatnonzero(self.user_role == PATIENT)
        self.n_patients = len(users)
        ids = self.off["patients"] + 1 + np.arange(len(users), dtype=np.int64)
        clinic = self.user_clinic[users]
        created = self.user_created(users) + SECOND
        # clinic-major order (stable: by id, hence by sign-up time, within a clinic) for the appointments
        order = np.argsort(clinic, kind="stable")
        self.pat_id, self.pat_user = ids[order], (self.off["users"] + 1 + users)[order]
        self.pat_created = created[order]
        counts = np.bincount(clinic, minlength=self.n_clinics)
        self.pat_start = np.cumsum(counts) - counts
        self.patient_cum = cum(counts) if counts.sum() else None
        today_days = self.clock.now // DAY
        for start in range(0, len(users), BATCH):
            r = rng(self.seed, "patients", start)
            part = slice(start, start + BATCH)
            size = len(ids[part])
            age_days = ((r.random(size) ** 1.3) * 90 * 365.25).astype(np.int64)
            yield {
                "id": ids[part],
                "clinic_id": self.clinic_ids[clinic[part]],
                "user_id": self.off["users"] + 1 + users[part],
                "date_of_birth": today_days - age_days - 1,
                "phone": Masked(Text.pool(self.phones, r.integers(0, len(self.phones), size)), r.random(size) >= 0.85),
                "created_at": created[part],
            }

    def _doctors(self) -> Iterator[dict]:
        users = np.flatnonzero(self.user_role == DOCTOR)
        ids = self.off["doctors"] + 1 + np.arange(len(users), dtype=np.int64)
        clinic = self.user_clinic[users]
        order = np.argsort(clinic, kind="stable")
        self.doc_id, self.doc_user = ids[order], (self.off["users"] + 1 + users)[order]
        counts = np.bincount(clinic, minlength=self.n_clinics)
        self.doc_count, self.doc_start = counts, np.cumsum(counts) - counts
        staff = np.flatnonzero(np.isin(self.user_role, (CLINIC_ADMIN, NURSE, RECEPTIONIST)))
        staff_clinic = self.user_clinic[staff]
        order = np.argsort(staff_clinic, kind="stable")
        self.staff_user = (self.off["users"] + 1 + staff)[order]
        counts = np.bincount(staff_clinic, minlength=self.n_clinics)
        self.staff_count, self.staff_start = counts, np.cumsum(counts) - counts
        r = rng(self.seed, "doctors")
        yield {
            "id": ids,
            "clinic_id": self.clinic_ids[clinic],
            "user_id": self.off["users"] + 1 + users,
            "specialty": Text.pool(SPECIALTIES, draw(r, SPECIALTY_CUM, len(ids))),
            "created_at": self.user_created(users) + SECOND,
        }

    # -- appointments and their audit trail -------------------------------------------

    def _day_counts(self) -> np.ndarray:
        """Appointments per day, oldest first: past days follow the patient base, future ones taper off."""
        d = np.arange(-HISTORY_DAYS, FUTURE_DAYS)
        past = np.maximum(0.0, 1.0 - (-d) / USER_DAYS) ** 2  # share of today's patients who existed then
        ahead = 1.4 * 0.92 ** np.maximum(d, 0)  # booked in advance: fewer the further out
        weights = np.where(d < 0, past, ahead)
        target = int(self.n_patients * APPOINTMENTS_PER_PATIENT)
        exact = np.cumsum(weights / weights.sum() * target)  # cumulative rounding: sums to the target
        return np.diff(np.floor(exact).astype(np.int64), prepend=0)

    def _existing_patients(self, months: np.ndarray) -> np.ndarray:
        """Patients per (clinic, month boundary) who had signed up before it: shape (clinics, months)."""
        pat_clinic = np.repeat(np.arange(self.n_clinics), np.diff(np.append(self.pat_start, len(self.pat_id))))
        table = np.zeros((self.n_clinics, len(months)), dtype=np.int64)
        for m, boundary in enumerate(months.tolist()):
            table[:, m] = np.bincount(pat_clinic[self.pat_created < boundary], minlength=self.n_clinics)
        return table

    def _appointments(self) -> Iterator[dict]:
        """By chunks of days, oldest first (ids follow time, as in production); each chunk's audit
        trail goes to ``spill`` and is COPY-ed right after the appointments."""
        now = self.clock.now
        counts = self._day_counts()
        days = np.arange(-HISTORY_DAYS, FUTURE_DAYS)
        day_start = now + days * DAY + 8 * HOUR
        boundaries = month_start(day_start)
        months, month_of_day = np.unique(boundaries, return_inverse=True)
        existing = self._existing_patients(months)
        next_id = self.off["appointments"] + 1
        self.audit_next = self.off["appointment_audit_logs"] + 1
        booked: list[tuple[np.ndarray, ...]] = []
        chunk_end = np.searchsorted(np.cumsum(counts), np.arange(BATCH, counts.sum() + BATCH, BATCH), side="right")
        first = 0
        for last in np.unique(np.minimum(chunk_end + 1, len(days))).tolist():
            if last <= first or self.patient_cum is None:
                continue
            r = rng(self.seed, "appointments", first)
            day = np.repeat(np.arange(first, last), counts[first:last])
            first = last
            n = len(day)
            clinic = draw(r, self.patient_cum, n)
            have = existing[clinic, month_of_day[day]]
            p = (r.random(n) * have).astype(np.int64)
            ndoc = self.doc_count[clinic]
            k = np.where(r.random(n) < 0.7, p % ndoc, (r.random(n) * ndoc).astype(np.int64))
            doctor = self.doc_id[self.doc_start[clinic] + k]
            slot = (r.random(n) * SLOTS_PER_DAY).astype(np.int64)
            # one appointment per (doctor, start time); none with a clinic that had no patient yet
            key = (doctor * (HISTORY_DAYS + FUTURE_DAYS) + day) * SLOTS_PER_DAY + slot
            _, unique = np.unique(key, return_index=True)
            keep = np.zeros(n, dtype=bool)
            keep[unique] = True
            keep &= have > 0
            day, clinic, p, k, doctor, slot = day[keep], clinic[keep], p[keep], k[keep], doctor[keep], slot[keep]
            n = len(day)
            patient = self.pat_start[clinic] + p
            at = day_start[day] + slot * 15 * MINUTE
            future = days[day] >= 0
            status = np.where(future, draw(r, FUTURE_STATUS_CUM, n), draw(r, PAST_STATUS_CUM, n))
            duration = DURATIONS[draw(r, DURATION_CUM, n)]
            created = at - ((BOOKED_AHEAD_DAYS[0] + BOOKED_AHEAD_DAYS[1] * r.random(n) ** 2) * DAY).astype(np.int64)
            created = np.minimum(np.maximum(created, self.pat_created[patient] + MINUTE), now - MINUTE)
            horizon = np.minimum(at, now - MINUTE)
            done = np.minimum(at + (duration + (r.random(n) * 120).astype(np.int64)) * MINUTE, now - SECOND)
            cancelled = created + ((horizon - created) * r.random(n)).astype(np.int64)
            touched = created + (r.random(n) * 3600).astype(np.int64) * SECOND
            updated = np.where(status == COMPLETED, done, np.where(status == CANCELLED, cancelled, touched))
            updated = np.maximum(updated, created)
            rated = (status == COMPLETED) & (r.random(n) < 0.35)
            staff = self.staff_user[self.staff_start[clinic] + (r.random(n) * self.staff_count[clinic]).astype(np.int64)]
            has_editor = r.random(n) < 0.4
            ids = next_id + np.arange(n, dtype=np.int64)
            next_id += n
            clinic_id = self.clinic_ids[clinic]
            upcoming = future & (status != CANCELLED)
            booked.append((doctor[upcoming], at[upcoming], ids[upcoming], clinic_id[upcoming]))
            yield {
                "id": ids,
                "clinic_id": clinic_id,
                "patient_id": self.pat_id[patient],
                "doctor_id": doctor,
                "appointment_date_time": at,
                "duration_minutes": duration,
                "status": Text.pool(STATUS, status),
                "rating": Masked(draw(r, RATING_CUM, n) + 1, ~rated),
                "updated_by": Masked(staff, ~has_editor),
                "created_at": created,
                "updated_at": updated,
            }
            # every event of a later chunk happens at or after its booking: at most BOOKED_AHEAD_DAYS
            # before its day (which is day_start[last] or later), or a minute before now
            later = now - MINUTE if last >= len(days) else min(
                int(day_start[last]) - int(sum(BOOKED_AHEAD_DAYS) * DAY) - 1, now - MINUTE)
            self._audit(r, ids, clinic, clinic_id, patient, k, doctor, status, created, updated, horizon,
                        np.where(has_editor, staff, 0), later)
        empty = np.zeros(0, dtype=np.int64)
        self.booked = tuple(np.concatenate([b[i] for b in booked] or [empty]) for i in range(4))

    def _audit(self, r, ids, clinic, clinic_id, patient, k, doctor, status, created, updated, horizon, editor,
               later: int) -> None:
        """The audit trail of a chunk of appointments, spilled in performed_at order; ``later``: no event
        of a later chunk happens before it (so the audit log's earlier partitions can load already)."""
        n = len(ids)
        staff = self.staff_user[self.staff_start[clinic] + (r.random(n) * self.staff_count[clinic]).astype(np.int64)]
        booker = np.where(r.random(n) < 0.5, self.pat_user[patient], staff)
        actor = np.where(editor > 0, editor, booker)
        span = horizon - created
        ndoc = self.doc_count[clinic]
        other = self.doc_id[self.doc_start[clinic] + (k + 1) % ndoc]
        none = np.zeros(n, dtype=np.int64)
        events = []  # (mask, action, previous, new, reason?, by, at)
        events.append((np.ones(n, dtype=bool), CREATED, None, doctor, False, booker, created))
        events.append(((r.random(n) < 0.12) & (span > 0), RESCHEDULED, None, None, True, booker,
                       created + (span * r.random(n)).astype(np.int64)))
        events.append(((ndoc > 1) & (r.random(n) < 0.04) & (span > 0), TRANSFERRED, other, doctor, True, actor,
                       created + (span * r.random(n)).astype(np.int64)))
        events.append((status == CANCELLED, A_CANCELLED, None, None, True, actor, updated))
        events.append((status == COMPLETED, A_COMPLETED, None, None, False,
                       self.doc_user[self.doc_start[clinic] + k], updated))
        cols: dict[str, list] = {k: [] for k in ("clinic_id", "appointment_id", "action", "previous_doctor_id",
                                                 "prev_null", "new_doctor_id", "new_null", "reason", "reason_null",
                                                 "performed_by", "performed_at")}
        for mask, action, previous, new, reason, by, at in events:
            m = int(mask.sum())
            cols["clinic_id"].append(clinic_id[mask])
            cols["appointment_id"].append(ids[mask])
            cols["action"].append(np.full(m, action))
            cols["previous_doctor_id"].append(previous[mask] if previous is not None else none[:m])
            cols["prev_null"].append(np.full(m, previous is None))
            cols["new_doctor_id"].append(new[mask] if new is not None else none[:m])
            cols["new_null"].append(np.full(m, new is None))
            cols["reason"].append(r.integers(0, len(REASONS), m))
            cols["reason_null"].append(np.full(m, not reason))
            cols["performed_by"].append(by[mask])
            cols["performed_at"].append(at[mask])
        c = {key: np.concatenate(parts) for key, parts in cols.items()}
        order = np.argsort(c["performed_at"], kind="stable")
        c = {key: values[order] for key, values in c.items()}
        total = len(order)
        audit_ids = self.audit_next + np.arange(total, dtype=np.int64)
        self.audit_next += total
        self.spill("appointment_audit_logs", {
            "id": audit_ids,
            "clinic_id": c["clinic_id"],
            "appointment_id": c["appointment_id"],
            "action": Text.pool(ACTIONS, c["action"]),
            "previous_doctor_id": Masked(c["previous_doctor_id"], c["prev_null"]),
            "new_doctor_id": Masked(c["new_doctor_id"], c["new_null"]),
            "reason": Masked(Text.pool(REASONS, c["reason"]), c["reason_null"]),
            "performed_by": c["performed_by"],
            "performed_at": c["performed_at"],
        }, complete_below=later)

    # -- availability -----------------------------------------------------------------

    def _doctor_availability(self) -> Iterator[dict]:
        """BOOKED slots of upcoming appointments, plus free slots over the next two weeks."""
        r = rng(self.seed, "availability")
        now = self.clock.now
        b_doctor, b_at, b_appt, b_clinic = self.booked
        per_doctor = FREE_SLOT_DAYS * 2
        doc_clinic = np.repeat(np.arange(self.n_clinics), self.doc_count)
        f_doctor = np.repeat(self.doc_id, per_doctor)
        f_clinic = np.repeat(self.clinic_ids[doc_clinic], per_doctor)
        f_day = np.tile(np.repeat(np.arange(1, FREE_SLOT_DAYS + 1), 2), len(self.doc_id))
        f_at = now + f_day * DAY + 8 * HOUR + (r.random(len(f_doctor)) * SLOTS_PER_DAY).astype(np.int64) * 15 * MINUTE
        doctor = np.concatenate([b_doctor, f_doctor])
        at = np.concatenate([b_at, f_at])
        # one slot per (doctor, time): booked ones win, then the first free one
        key = doctor * (1 << 24) + (at - now) // MINUTE
        _, first = np.unique(key, return_index=True)
        first.sort()
        order = first[np.lexsort((at[first], doctor[first]))]
        booked = order < len(b_doctor)
        clinic = np.concatenate([b_clinic, f_clinic])[order]
        appointment = np.concatenate([b_appt, np.zeros(len(f_doctor), dtype=np.int64)])[order]
        ids = self.off["doctor_availability"] + 1 + np.arange(len(order), dtype=np.int64)
        doctor, at = doctor[order], at[order]
        for start in range(0, len(order), BATCH):
            part = slice(start, start + BATCH)
            yield {
                "id": ids[part],
                "clinic_id": clinic[part],
                "doctor_id": doctor[part],
                "slot_date_time": at[part],
                "status": Text.pool(SLOTS, booked[part].astype(np.int64)),
                "appointment_id": Masked(appointment[part], ~booked[part]),
            }
