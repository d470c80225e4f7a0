"""Synthetic healthcare data: N users across clinics of very different sizes.

Shape (for N users; ratios measured on the generated data by the tests):

- clinics: ~N/400, sizes Zipf-distributed (the biggest clinic holds a large
  share, a long tail of small ones), each with at least one CLINIC_ADMIN and
  one DOCTOR; 1-3 SUPER_ADMIN users without a clinic;
- users: ~89 % PATIENT, 3.5 % DOCTOR, 3.5 % NURSE, 2 % RECEPTIONIST, 1 %
  CLINIC_ADMIN; sign-ups grow linearly over three years (more recent users);
  2 % soft-deleted, a few % inactive or unverified;
- patients / doctors: one profile per PATIENT / DOCTOR user, same clinic;
- appointments: ~2.6 per patient over the last two years plus the next two
  months, the daily volume following the patient base (skewed to recent
  months); a patient mostly sees one "primary" doctor of their clinic; past:
  80 % COMPLETED, 15 % CANCELLED; future: SCHEDULED/CONFIRMED; a rating on
  ~35 % of COMPLETED ones (mostly 4-5), NULL otherwise;
- appointment_audit_logs: CREATED for each, COMPLETED/CANCELLED matching the
  status, some RESCHEDULED and TRANSFERRED (previous → new doctor);
- doctor_availability: BOOKED slots for upcoming appointments, plus free
  AVAILABLE slots over the next two weeks.

Ids are given explicitly (``offsets`` continue after existing rows for
``append``), so foreign keys are consistent by construction and every row of
a tenant-owned table carries its clinic's id.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator
from datetime import date

from dbops.scale.common import (
    BATCH,
    SECOND,
    Spill,
    CITIES,
    DAY,
    HOUR,
    MINUTE,
    STREETS,
    Clock,
    NamePool,
    cum,
    fake_hashes,
    month_start_micros,
    phones,
    rng,
    zipf_cum_weights,
)

ROLES = ("SUPER_ADMIN", "CLINIC_ADMIN", "DOCTOR", "NURSE", "RECEPTIONIST", "PATIENT")
SUPER_ADMIN, CLINIC_ADMIN, DOCTOR, NURSE, RECEPTIONIST, PATIENT = range(6)
ROLE_CUM = cum([0, 1.0, 3.5, 3.5, 2.0, 89.0])
SPECIALTIES = ("General Practice", "Pediatrics", "Cardiology", "Dermatology", "Orthopedics", "Gynecology",
               "Psychiatry", "Neurology", "Ophthalmology", "ENT", "Endocrinology", "Oncology")
SPECIALTY_CUM = cum([40, 12, 7, 7, 6, 6, 5, 4, 4, 3, 3, 3])
PAST_STATUS = ("COMPLETED", "CANCELLED", "SCHEDULED", "CONFIRMED")
PAST_STATUS_CUM = cum([80, 15, 3, 2])
FUTURE_STATUS = ("SCHEDULED", "CONFIRMED", "CANCELLED")
FUTURE_STATUS_CUM = cum([55, 38, 7])
DURATIONS = (15, 30, 45, 60)
DURATION_CUM = cum([10, 60, 15, 15])
RATINGS = (5, 4, 3, 2, 1)
RATING_CUM = cum([45, 30, 13, 6, 6])
REASONS = ("patient request", "doctor unavailable", "clinic schedule change", "follow-up needed",
           "emergency", "duplicate booking", "insurance issue", "feeling better")
APPOINTMENTS_PER_PATIENT = 2.6
HISTORY_DAYS = 730  # appointments in the last two years …
FUTURE_DAYS = 60  # … and the next two months
USER_DAYS = 3 * 365  # users signed up over three years
CLINIC_DAYS = 5 * 365  # clinics opened in the two years before that
SLOTS_PER_DAY = 40  # quarter hours from 08:00 to 18:00
QUARTER = 15 * MINUTE
FREE_SLOT_DAYS = 14


class HealthcareData:
    """The generator; ``stages()`` yields the tables in foreign-key order."""

    tables = ("clinics", "users", "patients", "doctors", "appointments", "appointment_audit_logs",
              "doctor_availability")
    spilled = ("appointment_audit_logs",)  # generated with the appointments, COPY-ed right after them

    def __init__(self, scale: int, seed: int, today: date, offsets: dict[str, int], spill: Spill) -> None:
        self.n = scale
        self.spill = spill
        self.seed = seed
        self.clock = Clock(today)
        self.off = {t: offsets.get(t, 0) for t in self.tables}
        self.n_super = 1 if scale < 1000 else 3
        self.n_clinics = max(1, min(round(scale / 400), (scale - self.n_super) // 3))
        self.names = NamePool()
        pools = rng(seed, "pools")
        self.hashes = fake_hashes(pools)
        self.phones = phones(pools)
        self.expected = self._expected()

    def _expected(self) -> dict[str, int]:
        patients = int(self.n * 0.89)
        appointments = int(patients * APPOINTMENTS_PER_PATIENT)
        doctors = int(self.n * 0.035) + self.n_clinics
        return {
            "clinics": self.n_clinics, "users": self.n, "patients": patients, "doctors": doctors,
            "appointments": appointments, "appointment_audit_logs": int(appointments * 2.0),
            "doctor_availability": doctors * 24,
        }

    def stages(self) -> list[tuple[str, Iterator[dict[str, list]] | None]]:
        """(table, batches) in load order; ``None``: the table's rows were spilled by an earlier stage."""
        return [(t, None if t in self.spilled else getattr(self, f"_{t}")()) for t in self.tables]

    # -- clinics and users ------------------------------------------------------

    def _clinics(self) -> Iterator[dict[str, list]]:
        r = rng(self.seed, "clinics")
        c = self.n_clinics
        ranks = list(range(c))
        r.shuffle(ranks)  # clinic sizes: Zipf by a random rank, not by id
        weights = zipf_cum_weights(c)
        sizes = [weights[0]] + [weights[i] - weights[i - 1] for i in range(1, c)]
        self.clinic_cum = cum([sizes[rank] for rank in ranks])
        ids = [self.off["clinics"] + i + 1 for i in range(c)]
        self.clinic_ids = ids
        created = [self.clock.days_ago(USER_DAYS + r.random() * (CLINIC_DAYS - USER_DAYS)) for _ in ids]
        cities = [CITIES[int(r.random() * len(CITIES))] for _ in ids]
        yield {
            "id": ids,
            "name": [f"{city} {('Family', 'Health', 'Care', 'Medical')[i % 4]} Clinic {cid}" for i, (cid, city) in
                     enumerate(zip(ids, cities))],
            "address": [f"{r.randrange(1, 400)} {STREETS[int(r.random() * len(STREETS))]} Street, {city}" for city in cities],
            "phone": [self.phones[int(r.random() * len(self.phones))] for _ in ids],
            "email": [f"contact@clinic{cid}.example.com" for cid in ids],
            "created_at": created,
            "updated_at": [t + int(r.random() * 300 * DAY) for t in created],
        }

    def user_created(self, index: int) -> int:
        """Sign-up time of the ``index``-th user (linear growth over USER_DAYS; deterministic, no storage)."""
        jitter = (index * 2654435761) % 3600 * 1_000_000
        return self.clock.growth(index / self.n, USER_DAYS) - jitter

    def _users(self) -> Iterator[dict[str, list]]:
        n, c = self.n, self.n_clinics
        self.user_role = array("b")
        self.user_clinic = array("i")  # index into clinic_ids; -1 for SUPER_ADMIN
        names, hashes, now = self.names, self.hashes, self.clock.now
        clinic_idx = range(c)
        for start in range(0, n, BATCH):
            r = rng(self.seed, "users", start)
            stop = min(n, start + BATCH)
            size = stop - start
            roles = r.choices(range(6), cum_weights=ROLE_CUM, k=size)
            clinics = r.choices(clinic_idx, cum_weights=self.clinic_cum, k=size)
            for k in range(size):  # fixed head: super admins, then one admin and one doctor per clinic
                i = start + k
                if i < self.n_super:
                    roles[k], clinics[k] = SUPER_ADMIN, -1
                elif i < self.n_super + c:
                    roles[k], clinics[k] = CLINIC_ADMIN, i - self.n_super
                elif i < self.n_super + 2 * c:
                    roles[k], clinics[k] = DOCTOR, i - self.n_super - c
                else:
                    break
            self.user_role.extend(roles)
            self.user_clinic.extend(clinics)
            ids = range(self.off["users"] + start + 1, self.off["users"] + stop + 1)
            who = [int(r.random() * names.size) for _ in range(size)]
            created = [self.user_created(i) for i in range(start, stop)]
            deleted = [t + int(r.random() * (now - t)) if r.random() < 0.02 else None for t in created]
            yield {
                "id": ids,
                "clinic_id": [self.clinic_ids[x] if x >= 0 else None for x in clinics],
                "name": [names.names[w] for w in who],
                "email": [f"{names.locals[w]}.{uid}@example.com" for w, uid in zip(who, ids)],
                "role_type": [ROLES[x] for x in roles],
                "is_active": [d is None and r.random() < 0.96 for d in deleted],
                "is_verified": [r.random() < 0.85 for _ in ids],
                "password_hash": [hashes[int(r.random() * 256)] if r.random() < 0.96 else None for _ in ids],
                "created_at": created,
                "updated_at": [t + int(r.random() * (now - t) * 0.5) for t in created],
                "deleted_at": deleted,
            }

    # -- profiles -----------------------------------------------------------------

    def _patients(self) -> Iterator[dict[str, list]]:
        c = self.n_clinics
        self.pat_ids = [array("q") for _ in range(c)]
        self.pat_users = [array("q") for _ in range(c)]
        self.pat_created = [array("q") for _ in range(c)]
        next_id = self.off["patients"] + 1
        role, clinic, uoff = self.user_role, self.user_clinic, self.off["users"]
        today_days = self.clock.now // DAY
        for start in range(0, self.n, BATCH):
            r = rng(self.seed, "patients", start)
            batch = {k: [] for k in ("id", "clinic_id", "user_id", "date_of_birth", "phone", "created_at")}
            for i in range(start, min(self.n, start + BATCH)):
                if role[i] != PATIENT:
                    continue
                x = clinic[i]
                created = self.user_created(i) + 1_000_000
                self.pat_ids[x].append(next_id)
                self.pat_users[x].append(uoff + i + 1)
                self.pat_created[x].append(created)
                age_days = int((r.random() ** 1.3) * 90 * 365.25)
                batch["id"].append(next_id)
                batch["clinic_id"].append(self.clinic_ids[x])
                batch["user_id"].append(uoff + i + 1)
                batch["date_of_birth"].append(today_days - age_days - 1)
                batch["phone"].append(self.phones[int(r.random() * 4096)] if r.random() < 0.85 else None)
                batch["created_at"].append(created)
                next_id += 1
            if batch["id"]:
                yield batch
        self.n_patients = next_id - 1 - self.off["patients"]
        self.patient_cum = cum([len(p) for p in self.pat_ids])

    def _doctors(self) -> Iterator[dict[str, list]]:
        c = self.n_clinics
        self.doc_ids: list[list[int]] = [[] for _ in range(c)]
        self.doc_users: list[list[int]] = [[] for _ in range(c)]
        self.staff: list[list[int]] = [[] for _ in range(c)]
        r = rng(self.seed, "doctors")
        batch: dict[str, list] = {k: [] for k in ("id", "clinic_id", "user_id", "specialty", "created_at")}
        next_id = self.off["doctors"] + 1
        uoff = self.off["users"]
        for i, role in enumerate(self.user_role):
            if role in (CLINIC_ADMIN, NURSE, RECEPTIONIST):
                self.staff[self.user_clinic[i]].append(uoff + i + 1)
            if role != DOCTOR:
                continue
            x = self.user_clinic[i]
            self.doc_ids[x].append(next_id)
            self.doc_users[x].append(uoff + i + 1)
            batch["id"].append(next_id)
            batch["clinic_id"].append(self.clinic_ids[x])
            batch["user_id"].append(uoff + i + 1)
            batch["specialty"].append(r.choices(SPECIALTIES, cum_weights=SPECIALTY_CUM)[0])
            batch["created_at"].append(self.user_created(i) + 1_000_000)
            next_id += 1
            if len(batch["id"]) >= BATCH:
                yield batch
                batch = {k: [] for k in batch}
        if batch["id"]:
            yield batch

    # -- appointments ---------------------------------------------------------------

    def _day_counts(self) -> list[int]:
        """Appointments per day, oldest first: past days follow the patient base, future ones taper off."""
        weights = []
        for d in range(-HISTORY_DAYS, FUTURE_DAYS):
            if d < 0:
                base = max(0.0, 1.0 - (-d) / USER_DAYS) ** 2  # share of today's patients who existed then
            else:
                base = 1.4 * 0.92 ** d  # booked in advance: fewer the further out
            weights.append(base)
        total = sum(weights)
        target = int(self.n_patients * APPOINTMENTS_PER_PATIENT)
        counts, carry = [], 0.0
        for w in weights:  # cumulative rounding: deterministic and sums to the target
            exact = target * w / total + carry
            counts.append(int(exact))
            carry = exact - int(exact)
        return counts

    def _appointments(self) -> Iterator[dict[str, list]]:
        """Day by day, oldest first (ids follow time, as in production); each appointment's audit
        trail is generated alongside and handed to ``spill`` (COPY-ed after the appointments)."""
        self.day_counts = self._day_counts()
        now = self.clock.now
        next_id = self.off["appointments"] + 1
        audit_id = self.off["appointment_audit_logs"] + 1
        self.booked: list[tuple[int, int, int, int]] = []  # (doctor, time, appointment id, clinic id) upcoming
        clinics = range(self.n_clinics)
        akeys = ("id", "clinic_id", "patient_id", "doctor_id", "appointment_date_time", "duration_minutes", "status",
                 "rating", "updated_by", "created_at", "updated_at")
        lkeys = ("id", "clinic_id", "appointment_id", "action", "previous_doctor_id", "new_doctor_id", "reason",
                 "performed_by", "performed_at")
        out = {k: [] for k in akeys}
        log = {k: [] for k in lkeys}
        for d_index, count in enumerate(self.day_counts):
            d = d_index - HISTORY_DAYS
            day_start = now + d * DAY + 8 * HOUR
            boundary = month_start_micros(day_start)
            r = rng(self.seed, "appointments", d)
            rand = r.random
            future = d >= 0
            picks = r.choices(clinics, cum_weights=self.patient_cum, k=count) if count and self.n_patients else []
            statuses = r.choices(*((FUTURE_STATUS, FUTURE_STATUS_CUM) if future else (PAST_STATUS, PAST_STATUS_CUM)),
                                 k=len(picks))
            durations = r.choices(DURATIONS, cum_weights=DURATION_CUM, k=len(picks))
            ratings = r.choices(RATINGS, cum_weights=RATING_CUM, k=len(picks))
            used: set[int] = set()
            prefix: dict[int, int] = {}
            a_id, a_clinic, a_patient, a_doctor, a_at, a_duration, a_status, a_rating, a_by, a_created, a_updated = (
                out[k].append for k in akeys)
            l_id, l_clinic, l_appt, l_action, l_prev, l_new, l_reason, l_by, l_at = (log[k].append for k in lkeys)
            for x, status, duration, stars in zip(picks, statuses, durations, ratings):
                existing = prefix.get(x)
                if existing is None:
                    existing = prefix[x] = bisect.bisect_left(self.pat_created[x], boundary)
                if not existing:
                    continue  # no patient of this clinic had signed up by then
                p = int(rand() * existing)
                docs = self.doc_ids[x]
                n_docs = len(docs)
                k = p % n_docs if rand() < 0.7 else int(rand() * n_docs)
                doctor = docs[k]
                slot = int(rand() * SLOTS_PER_DAY)
                key = doctor * 64 + slot
                if key in used:
                    slot = int(rand() * SLOTS_PER_DAY)
                    key = doctor * 64 + slot
                    if key in used:
                        continue  # that doctor's day is busy: one fewer appointment
                used.add(key)
                at = day_start + slot * QUARTER
                created = at - int((0.5 + 40 * rand() ** 2) * DAY)
                floor = self.pat_created[x][p] + MINUTE
                if created < floor:
                    created = floor
                if created > now - MINUTE:
                    created = now - MINUTE
                horizon = at if at < now else now - MINUTE
                rating = None
                if status == "COMPLETED":
                    updated = at + (duration + int(rand() * 120)) * MINUTE
                    if updated > now:
                        updated = now - 1
                    if rand() < 0.35:
                        rating = stars
                elif status == "CANCELLED":
                    updated = created + int((horizon - created) * rand())
                else:
                    updated = created + int(rand() * 3600) * SECOND
                staff = self.staff[x]
                by = staff[int(rand() * len(staff))] if rand() < 0.4 else None
                clinic_id = self.clinic_ids[x]
                aid = next_id
                next_id += 1
                a_id(aid)
                a_clinic(clinic_id)
                a_patient(self.pat_ids[x][p])
                a_doctor(doctor)
                a_at(at)
                a_duration(duration)
                a_status(status)
                a_rating(rating)
                a_by(by)
                a_created(created)
                a_updated(updated)
                if future and status != "CANCELLED":
                    self.booked.append((doctor, at, aid, clinic_id))
                # the audit trail of this appointment
                booker = self.pat_users[x][p] if rand() < 0.5 else staff[int(rand() * len(staff))]
                events = [("CREATED", None, doctor, None, booker, created)]
                if rand() < 0.12 and horizon > created:
                    events.append(("RESCHEDULED", None, None, REASONS[int(rand() * 8)], booker,
                                   created + int((horizon - created) * rand())))
                if n_docs > 1 and rand() < 0.04 and horizon > created:
                    events.append(("TRANSFERRED", docs[(k + 1) % n_docs], doctor, REASONS[int(rand() * 8)],
                                   by or booker, created + int((horizon - created) * rand())))
                if status == "CANCELLED":
                    events.append(("CANCELLED", None, None, REASONS[int(rand() * 8)], by or booker, updated))
                elif status == "COMPLETED":
                    events.append(("COMPLETED", None, None, None, self.doc_users[x][k], updated))
                for action, prev, new, reason, who, when in events:
                    l_id(audit_id)
                    l_clinic(clinic_id)
                    l_appt(aid)
                    l_action(action)
                    l_prev(prev)
                    l_new(new)
                    l_reason(reason)
                    l_by(who)
                    l_at(when)
                    audit_id += 1
            if len(log["id"]) >= BATCH:
                self.spill("appointment_audit_logs", log)
                log = {k: [] for k in lkeys}
            if len(out["id"]) >= BATCH:
                yield out
                out = {k: [] for k in akeys}
        if log["id"]:
            self.spill("appointment_audit_logs", log)
        if out["id"]:
            yield out

    def _doctor_availability(self) -> Iterator[dict[str, list]]:
        """BOOKED slots of upcoming appointments, plus free slots over the next two weeks."""
        r = rng(self.seed, "availability")
        rand = r.random
        now = self.clock.now
        taken = {(doctor, at) for doctor, at, _, _ in self.booked}
        keys = ("id", "clinic_id", "doctor_id", "slot_date_time", "status", "appointment_id")
        out: dict[str, list] = {k: [] for k in keys}
        next_id = self.off["doctor_availability"] + 1
        for doctor, at, aid, clinic_id in sorted(self.booked):
            for key, value in zip(keys, (next_id, clinic_id, doctor, at, "BOOKED", aid)):
                out[key].append(value)
            next_id += 1
            if len(out["id"]) >= BATCH:
                yield out
                out = {k: [] for k in keys}
        for x, docs in enumerate(self.doc_ids):
            clinic_id = self.clinic_ids[x]
            for doctor in docs:
                for day in range(1, FREE_SLOT_DAYS + 1):
                    for _ in range(2):
                        at = now + day * DAY + 8 * HOUR + int(rand() * SLOTS_PER_DAY) * 15 * MINUTE
                        if (doctor, at) in taken:
                            continue
                        taken.add((doctor, at))
                        for key, value in zip(keys, (next_id, clinic_id, doctor, at, "AVAILABLE", None)):
                            out[key].append(value)
                        next_id += 1
                if len(out["id"]) >= BATCH:
                    yield out
                    out = {k: [] for k in keys}
        if out["id"]:
            yield out

