"""The runtime data layer (platformdb) against bare psycopg, under concurrency, and in bulk.

    python benchmarks/data_access.py [--users N] [--calls C] [--rounds R] [--ops O] [--upsert-rows U]
    python benchmarks/data_access.py --admin-url URL     # an existing server (creates and drops a database)

A throwaway cluster (the code of `dbops db start`, via benchmarks/_shared.py)
holds a migrated healthcare database planted with N users in 20 clinics.
Everything runs as the application runs: tenant transactions under the
platform_app role, row-level security on.

1. Per-call overhead, R interleaved rounds of C calls, median ratio:
   - ``UserRepository.find_by_id`` and a 50-row appointments page with patient
     and doctor names (``AppointmentRepository.find_appointments``) against
     the same SQL text and parameters (captured from platformdb) through a bare
     psycopg cursor on the same connection, in the same transaction (goal ≤ 1.3×);
   - the whole unit of work (``Database.transaction`` with its setup
     statement and pool checkout) against psycopg doing BEGIN, the same setup
     statement, the query, COMMIT on one connection.
2. What RLS costs: the same calls in a tenant transaction (RLS applies) vs a
   privileged one (the owner, RLS does not), interleaved; and the budgets'
   dynamic check (rows examined, p50) with and without RLS on a second
   database seeded like ``dbops seed healthcare --scale N``.
3. ``AppointmentService.book_appointment`` and ``transfer_appointment`` under 1,
   2, 4 and 8 worker threads: attempts/s, p95 latency, conflicts, and the
   invariants (zero double bookings, one booked slot per appointment at its
   doctor, audit rows = transfers).
4. ``bulk_upsert`` rows/s against one-row-at-a-time upserts (batch_size=1),
   and an idempotent rerun (no row version written).

Nothing is asserted here except the invariants: it is a measurement.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _shared import server

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

CLINICS = 20
DOCTORS_PER_CLINIC = 10
NOW = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)

PLANT = """
INSERT INTO clinics (id, name) SELECT c, 'Clinic ' || c FROM generate_series(1, {clinics}) AS c;
INSERT INTO users (id, clinic_id, name, email, role_type, created_at)
SELECT i, 1 + i % {clinics}, (ARRAY['Ann','Bob','Cleo','Dan','Eve','Finn','Gus','Hana'])[1 + i % 8] || ' '
       || (ARRAY['Martin','Stone','Lee','Khan','Rossi','Novak','Silva'])[1 + (i / 8) % 7] || ' ' || i,
       'u' || i || '@example.test',
       (CASE WHEN i <= {clinics} * {doctors} THEN 'DOCTOR' ELSE 'PATIENT' END)::role_type,
       now() - i * interval '1 minute'
FROM generate_series(1, {users}) AS i;
INSERT INTO doctors (id, clinic_id, user_id, specialty)
SELECT id, clinic_id, id, 'general' FROM users WHERE role_type = 'DOCTOR';
INSERT INTO patients (id, clinic_id, user_id) SELECT id, clinic_id, id FROM users WHERE role_type = 'PATIENT';
-- five appointments per patient over the past 90 days, each with a doctor of the patient's clinic
INSERT INTO appointments (clinic_id, patient_id, doctor_id, appointment_date_time, status)
WITH d AS (SELECT id, clinic_id, row_number() OVER (PARTITION BY clinic_id ORDER BY id) - 1 AS rn FROM doctors)
SELECT p.clinic_id, p.id, d.id,
       now() - interval '90 days' + (((p.id / {clinics}) * 7 + k * 331) % 2100) * interval '1 hour'
       + (p.id % 60) * interval '1 minute',
       'COMPLETED'
FROM patients p CROSS JOIN generate_series(0, 4) AS k
JOIN d ON d.clinic_id = p.clinic_id AND d.rn = (p.id + k) % {doctors}
ON CONFLICT DO NOTHING;
SELECT setval(pg_get_serial_sequence('clinics', 'id'), (SELECT max(id) FROM clinics));
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
SELECT setval(pg_get_serial_sequence('doctors', 'id'), (SELECT max(id) FROM doctors));
SELECT setval(pg_get_serial_sequence('patients', 'id'), (SELECT max(id) FROM patients));
"""


def with_database(url: str, name: str) -> str:
    from dbops.config import url_with_database

    return url_with_database(url, name)


def make_database(admin_url: str, users: int) -> tuple[str, str]:
    import psycopg

    from dbops.config import load_settings
    from dbops.localdb import create_database
    from dbops.revisions import upgrade

    settings = load_settings(REPO, env={})
    name = f"bench_data_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = with_database(admin_url, name)
    upgrade(settings, settings.schema("healthcare"), url)
    with psycopg.connect(url) as conn:
        conn.execute(PLANT.format(clinics=CLINICS, doctors=DOCTORS_PER_CLINIC, users=users))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return name, url


def timed(call: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n


def median_ratio(
    a: Callable[[], object], b: Callable[[], object], calls: int, rounds: int
) -> tuple[float, float, float]:
    """Median over interleaved rounds of (time of a / time of b) per call; also a's and b's median µs/call."""
    for _ in range(max(20, calls // 10)):  # warm-up: caches, prepared statements
        a(), b()
    ratios, ta, tb = [], [], []
    for i in range(rounds):
        if i % 2:
            x, y = timed(a, calls), timed(b, calls)
        else:
            y, x = timed(b, calls), timed(a, calls)
        ratios.append(x / y)
        ta.append(x)
        tb.append(y)
    return statistics.median(ratios), statistics.median(ta) * 1e6, statistics.median(tb) * 1e6


# -- 1 + 2: overhead and RLS ----------------------------------------------------------------------------------------


@contextmanager
def _calls(db, clinic: int, privileged: bool, user_ids: list[int], window) -> Iterator[dict[str, Callable[[], object]]]:
    """In one open transaction: find_by_id and the 50-row page through platformdb and through a bare cursor
    running the same SQL text and parameters (captured from platformdb) on the same connection."""
    from platformdb.healthcare.repositories import AppointmentRepository, UserRepository
    from platformdb.testing import count_statements

    with db.begin(tenant=clinic, privileged=privileged, timeout=3600) as session:
        users = UserRepository(session, clinic)
        appointments = AppointmentRepository(session, clinic)
        with count_statements(db) as log:
            users.find_by_id(user_ids[0])
            page = appointments.find_appointments(window, limit=50)
        assert len(page.items) == 50, len(page.items)
        by_id_sql, by_id_params = log.statements[0].sql, dict(log.statements[0].parameters)
        page_sql, page_params = log.statements[1].sql, dict(log.statements[1].parameters)
        cursor = session.connection().connection.dbapi_connection.cursor()
        picks = iter(random.Random(1).choices(user_ids, k=10**7))

        def bare_by_id() -> object:
            cursor.execute(by_id_sql, {**by_id_params, "id": next(picks)})
            return cursor.fetchone()

        def bare_page() -> object:
            cursor.execute(page_sql, page_params)
            return cursor.fetchall()

        yield {
            "by_id": lambda: users.find_by_id(next(picks)),
            "bare_by_id": bare_by_id,
            "page": lambda: appointments.find_appointments(window, limit=50),
            "bare_page": bare_page,
            "captured": (by_id_sql, by_id_params),  # type: ignore[dict-item]
        }


def _unit_of_work(url: str, clinic: int, pre_ping: bool, user_ids: list[int], by_id, calls: int, rounds: int):
    """db.transaction(find_by_id) vs psycopg BEGIN / the same setup statement / the same SELECT / COMMIT."""
    import psycopg

    from platformdb.database import Database, TransactionOptions, _setup_statement
    from platformdb.healthcare.repositories import UserRepository

    by_id_sql, by_id_params = by_id
    setup_sql, setup_params = _setup_statement(TransactionOptions(tenant=clinic), "platform_app")
    with Database(url, pool_size=1, pool_pre_ping=pre_ping) as db, psycopg.connect(url) as raw:
        cursor = raw.cursor()
        picks = iter(random.Random(2).choices(user_ids, k=10**7))

        def platform_unit() -> object:
            return db.transaction(lambda s: UserRepository(s, clinic).find_by_id(next(picks)), tenant=clinic)

        def bare_unit() -> object:
            with raw.transaction():
                cursor.execute(setup_sql, setup_params)
                cursor.execute(by_id_sql, {**by_id_params, "id": next(picks)})
                return cursor.fetchone()

        return median_ratio(platform_unit, bare_unit, max(50, calls // 4), rounds)


def overhead(url: str, calls: int, rounds: int) -> None:
    import psycopg

    from platformdb.database import Database
    from platformdb.healthcare import domain

    clinic = 1
    with psycopg.connect(url) as conn:
        user_ids = [r[0] for r in conn.execute("SELECT id FROM users WHERE clinic_id = %s LIMIT 200", (clinic,))]
    window = domain.AppointmentFilters(start=NOW - datetime.timedelta(days=30), end=NOW)
    print(f"\n1. per-call overhead (median of {rounds} interleaved rounds of {calls} calls; clinic {clinic})")
    with (
        Database(url, pool_size=2) as db,
        _calls(db, clinic, False, user_ids, window) as rls,
        _calls(db, clinic, True, user_ids, window) as owner,
    ):
        by_id = median_ratio(rls["by_id"], rls["bare_by_id"], calls, rounds)
        page = median_ratio(rls["page"], rls["bare_page"], max(50, calls // 10), rounds)
        print("   in a tenant transaction (platform_app, RLS on), same connection, same SQL:")
        print(f"     find_by_id            {by_id[0]:.2f}x bare psycopg  ({by_id[1]:.0f} µs vs {by_id[2]:.0f} µs)")
        print(f"     50-row page w/ names  {page[0]:.2f}x bare psycopg  ({page[1]:.0f} µs vs {page[2]:.0f} µs)")
        rls_by_id = median_ratio(rls["by_id"], owner["by_id"], calls, rounds)
        rls_page = median_ratio(rls["page"], owner["page"], max(50, calls // 10), rounds)
        print(
            f"   RLS cost, the same calls in a tenant transaction vs a privileged one (owner, RLS off): "
            f"find_by_id {rls_by_id[0]:.2f}x, 50-row page {rls_page[0]:.2f}x"
        )
        captured = rls["captured"]
    for pre_ping in (True, False):
        ratio, mine, theirs = _unit_of_work(url, clinic, pre_ping, user_ids, captured, calls, rounds)
        print(
            f"   whole unit of work (transaction + setup + find_by_id), pool_pre_ping={pre_ping}: "
            f"{ratio:.2f}x psycopg BEGIN/setup/SELECT/COMMIT ({mine:.0f} µs vs {theirs:.0f} µs)"
        )


def rls_budgets(admin_url: str, scale: int) -> None:
    """The budgets' dynamic check, with and without RLS, on realistic data (``dbops seed --scale``)."""
    import psycopg

    from dbops.budgets import check_dynamic, load_budgets
    from dbops.config import load_settings
    from dbops.localdb import create_database
    from dbops.revisions import upgrade
    from dbops.scale import seed_at_scale

    settings = load_settings(REPO, env={})
    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    runs = 15
    print(
        f"\n2. the budgets' dynamic check with and without RLS (healthcare seeded with --scale {scale:,}, "
        f"{runs} runs per query)"
    )
    name = f"bench_rls_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = with_database(admin_url, name)
    try:
        upgrade(settings, settings.schema("healthcare"), url)
        seed_at_scale(settings, settings.schema("healthcare"), url, scale=scale, seed=7)
        on = check_dynamic(budget_file, settings, "healthcare", url, runs=runs)
        off = check_dynamic(budget_file, settings, "healthcare", url, runs=runs, rls=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"   {'query':38} {'rows examined (RLS / owner)':>28} {'p50 ms (RLS / owner)':>24} {'ratio':>6}")
    ratios = []
    offs = {q["query"]: q for q in off.summary["budgets"]["queries"]}
    for q in on.summary["budgets"]["queries"]:
        a, b = q.get("measured") or {}, (offs[q["query"]].get("measured") or {})
        if not a or not b:
            print(f"   {q['query']:38} error: {q.get('error') or offs[q['query']].get('error')}")
            continue
        ratio = a["p50_ms"] / b["p50_ms"] if b["p50_ms"] else float("nan")
        ratios.append(ratio)
        print(
            f"   {q['query']:38} {a['rows_examined']:>13,} / {b['rows_examined']:<12,} "
            f"{a['p50_ms']:>10.3f} / {b['p50_ms']:<10.3f} {ratio:>6.2f}"
        )
    print(
        f"   median p50 ratio RLS/owner: {statistics.median(ratios):.2f}x; broken budgets: "
        f"{on.summary['budgets']['broken']} with RLS, {off.summary['budgets']['broken']} without"
    )


# -- 3: concurrency ------------------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)] if ordered else float("nan")


def run_workers(
    workers: int, work: Callable[[random.Random], tuple[str, float] | None]
) -> tuple[Counter, list[float], float]:
    outcomes: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def loop(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            result = work(rng)
            if result is None:
                return
            with lock:
                outcomes[result[0]] += 1
                latencies.append(result[1])

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, latencies, time.perf_counter() - start


def _booking_run(url: str, service, clinic: int, day: int, workers: int, patients: list[int]):
    import psycopg

    from platformdb import errors

    start, end = NOW + datetime.timedelta(days=day), NOW + datetime.timedelta(days=day + 1)
    with psycopg.connect(url) as conn:
        pool = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM doctor_availability WHERE clinic_id = %s "
                "AND slot_date_time >= %s AND slot_date_time < %s",
                (clinic, start, end),
            )
        ]
    free = set(pool)
    guard = threading.Lock()

    def book(rng: random.Random) -> tuple[str, float] | None:
        with guard:
            if not free:
                return None
            slot = rng.choice(sorted(free))
        started = time.perf_counter()
        try:
            service.book_appointment(patient_id=rng.choice(patients), slot_id=slot)
            outcome = "booked"
        except errors.SlotUnavailable:
            outcome = "taken"
        with guard:
            free.discard(slot)
        return outcome, time.perf_counter() - started

    outcomes, latencies, elapsed = run_workers(workers, book)
    with psycopg.connect(url) as conn:
        booked, appointments, doubles = conn.execute(
            "SELECT count(*) FILTER (WHERE s.status = 'BOOKED'), "
            "(SELECT count(*) FROM appointments a WHERE a.clinic_id = %s AND a.appointment_date_time >= %s "
            " AND a.appointment_date_time < %s), "
            "(SELECT count(*) FROM (SELECT 1 FROM appointments a WHERE a.clinic_id = %s "
            " GROUP BY doctor_id, appointment_date_time HAVING count(*) > 1) x) "
            "FROM doctor_availability s WHERE s.id = ANY(%s)",
            (clinic, start, end, clinic, pool),
        ).fetchone()
    assert booked == appointments == outcomes["booked"] == len(pool) and doubles == 0, (booked, appointments)
    return outcomes, latencies, elapsed, doubles


def _transfer_run(
    url: str, service, clinic: int, day: int, workers: int, ops: int, doctors: list[int], patients: list[int]
):
    import psycopg

    from platformdb import errors

    moment = NOW + datetime.timedelta(days=day)
    appointments: dict[int, int] = {}
    with psycopg.connect(url) as conn:  # 24 appointments of the day, each booked with a doctor
        for h in range(24):
            at = moment + datetime.timedelta(hours=h)
            doctor = doctors[h % len(doctors)]
            appointment = conn.execute(
                "INSERT INTO appointments (clinic_id, patient_id, doctor_id, appointment_date_time) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (clinic, patients[h], doctor, at),
            ).fetchone()[0]
            conn.execute(
                "UPDATE doctor_availability SET status = 'BOOKED', appointment_id = %s "
                "WHERE doctor_id = %s AND slot_date_time = %s",
                (appointment, doctor, at),
            )
            appointments[appointment] = doctor
    audited_sql = "SELECT count(*) FROM appointment_audit_logs WHERE action = 'TRANSFERRED'"
    audit_before = conn_count(url, audited_sql)
    remaining = [ops]
    guard = threading.Lock()

    def transfer(rng: random.Random) -> tuple[str, float] | None:
        with guard:
            if remaining[0] <= 0:
                return None
            remaining[0] -= 1
            appointment = rng.choice(list(appointments))
            source = appointments[appointment]  # what this client last saw: may be stale
        target = rng.choice([d for d in doctors if d != source])
        started = time.perf_counter()
        try:
            service.transfer_appointment(
                appointment, from_doctor_id=source, to_doctor_id=target, reason="bench", requested_by=patients[0]
            )
            outcome = "transferred"
            with guard:
                appointments[appointment] = target
        except errors.StaleState:
            outcome = "stale"
        except errors.SlotUnavailable:
            outcome = "target busy"
        return outcome, time.perf_counter() - started

    outcomes, latencies, elapsed = run_workers(workers, transfer)
    with psycopg.connect(url) as conn:
        broken = conn.execute(
            "SELECT count(*) FROM appointments a WHERE a.id = ANY(%s) AND 1 <> (SELECT count(*) "
            "FROM doctor_availability s WHERE s.appointment_id = a.id AND s.status = 'BOOKED' "
            "AND s.doctor_id = a.doctor_id AND s.slot_date_time = a.appointment_date_time)",
            (list(appointments),),
        ).fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM doctor_availability s JOIN appointments a ON a.id = s.appointment_id "
            "WHERE a.id = ANY(%s) AND s.doctor_id <> a.doctor_id",
            (list(appointments),),
        ).fetchone()[0]
    audited = conn_count(url, audited_sql) - audit_before
    assert broken == 0 and orphans == 0 and audited == outcomes["transferred"], (broken, orphans, audited)
    return outcomes, latencies, elapsed, broken + orphans


def concurrency(url: str, ops: int) -> None:
    import psycopg

    from platformdb.database import Database
    from platformdb.healthcare.services import AppointmentService

    clinic = 2
    with psycopg.connect(url) as conn:
        doctors = [r[0] for r in conn.execute("SELECT id FROM doctors WHERE clinic_id = %s ORDER BY id", (clinic,))]
        patients = [r[0] for r in conn.execute("SELECT id FROM patients WHERE clinic_id = %s", (clinic,))]
        # days 1-4 of slots for the booking runs, days 5-8 for the transfer runs: every doctor, every hour
        conn.execute(
            "INSERT INTO doctor_availability (clinic_id, doctor_id, slot_date_time) "
            "SELECT %s, d, %s + h * interval '1 hour' FROM unnest(%s::bigint[]) d, generate_series(24, 215) h",
            (clinic, NOW, doctors),
        )
    print(f"\n3. services under concurrency (clinic {clinic}: {len(doctors)} doctors, real threads, one Database)")
    print("   booking: every worker books random free slots of one day (10 doctors × 24 h) until none is left")
    with Database(url, pool_size=8, max_overflow=4) as db:
        service = AppointmentService(db, clinic)
        base = None
        for day, workers in enumerate((1, 2, 4, 8), start=1):
            outcomes, latencies, elapsed, doubles = _booking_run(url, service, clinic, day, workers, patients)
            rate = sum(outcomes.values()) / elapsed
            base = base or rate
            print(
                f"   {workers} worker(s): {rate:7.1f} attempts/s ({rate / base:.2f}x 1 worker), "
                f"p95 {p95(latencies) * 1000:6.1f} ms, {outcomes['booked']} booked, {outcomes['taken']} lost a race "
                f"(SlotUnavailable), double bookings: {doubles}"
            )
        print(f"   transfers: {ops} attempts per run, random appointment → random other doctor at the same hour")
        base = None
        for day, workers in enumerate((1, 2, 4, 8), start=5):
            outcomes, latencies, elapsed, doubles = _transfer_run(
                url, service, clinic, day, workers, ops, doctors, patients
            )
            rate = outcomes["transferred"] / elapsed
            base = base or rate
            print(
                f"   {workers} worker(s): {rate:7.1f} transfers/s ({rate / base:.2f}x 1 worker), "
                f"p95 {p95(latencies) * 1000:6.1f} ms, conflicts: {outcomes['stale']} stale, "
                f"{outcomes['target busy']} target busy; double bookings: {doubles}"
            )


def conn_count(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


# -- 4: bulk upsert ----------------------------------------------------------------------------------------------------


def upsert(url: str, rows: int) -> None:
    from platformdb.database import Database
    from platformdb.healthcare.repositories import UserRepository

    clinic = 3
    data = [{"email": f"import{i}@example.test", "name": f"Imported {i}", "role_type": "PATIENT"} for i in range(rows)]
    single = [
        {"email": f"single{i}@example.test", "name": f"Single {i}", "role_type": "PATIENT"}
        for i in range(max(500, rows // 10))
    ]
    key, update = ("clinic_id", "email"), ("name", "role_type")
    print(f"\n4. bulk_upsert of {rows:,} users (batches of 1,000) vs one row at a time ({len(single):,} rows)")
    with Database(url) as db:

        def run(items: list[dict], batch: int) -> tuple[float, object]:
            start = time.perf_counter()
            result = db.transaction(
                lambda s: UserRepository(s, clinic).bulk_upsert(items, key=key, update=update, batch_size=batch),
                tenant=clinic,
                timeout=600,
            )
            return time.perf_counter() - start, result

        bulk_time, bulk = run(data, 1000)
        again_time, again = run(data, 1000)
        one_time, _ = run(single, 1)
        one_again_time, _ = run(single, 1)
    bulk_rate, again_rate = rows / bulk_time, rows / again_time
    one_rate, one_again_rate = len(single) / one_time, len(single) / one_again_time
    print(
        f"   insert: {bulk_rate:,.0f} rows/s batched vs {one_rate:,.0f} rows/s one at a time: "
        f"{bulk_rate / one_rate:.1f}x  ({bulk})"
    )
    print(
        f"   rerun (nothing changes, no row version written): {again_rate:,.0f} rows/s vs {one_again_rate:,.0f} "
        f"rows/s: {again_rate / one_again_rate:.1f}x  ({again})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", help="an existing server's admin URL (default: a throwaway cluster)")
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--upsert-rows", type=int, default=20000)
    args = parser.parse_args()
    with server(args.admin_url) as admin_url:
        name, url = make_database(admin_url, args.users)
        try:
            print(
                f"healthcare database planted: {args.users:,} users in {CLINICS} clinics, "
                f"{CLINICS * DOCTORS_PER_CLINIC} doctors, ~{5 * args.users:,} appointments"
            )
            overhead(url, args.calls, args.rounds)
            rls_budgets(admin_url, args.users)
            concurrency(url, args.ops)
            upsert(url, args.upsert_rows)
        finally:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
