"""Fixtures of the runtime-layer tests: small seeded databases of both schemas, Databases on them, races.

Two tenants per schema, so every test can ask one tenant for the other's rows.
The data is planted once per session (as the owner, RLS does not apply) into
a template database; each test gets a fresh copy and a ``Database`` that
connects as the test cluster's superuser — the same kind of URL ``dbops db url``
prints — so row-level security only holds because tenant transactions switch
to ``platform_app``.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

NOW = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)


@dataclass
class Ids:
    """Ids of the planted rows, by name."""

    values: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> int:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _one(conn: psycopg.Connection, sql: str, params: Any = None) -> int:
    return conn.execute(sql, params).fetchone()[0]


def plant_healthcare(conn: psycopg.Connection) -> Ids:
    """Clinic 1 (North: 2 doctors, a nurse, 3 patients), clinic 2 (South: 1 doctor, 1 patient); slots; appointments."""
    ids = Ids()
    v = ids.values
    v["north"] = _one(conn, "INSERT INTO clinics (name) VALUES ('North') RETURNING id")
    v["south"] = _one(conn, "INSERT INTO clinics (name) VALUES ('South') RETURNING id")

    def user(key: str, clinic: int, name: str, role: str, minutes_ago: int) -> None:
        v[key] = _one(
            conn,
            "INSERT INTO users (clinic_id, name, email, role_type, password_hash, created_at) "
            "VALUES (%s, %s, %s, %s, '$2b$12$secret-hash', now() - %s * interval '1 minute') "
            "RETURNING id",
            (clinic, name, f"{key}@{'north' if clinic == v['north'] else 'south'}.example", role, minutes_ago),
        )

    user("u_house", v["north"], "Gregory House", "DOCTOR", 50)
    user("u_wilson", v["north"], "James Wilson", "DOCTOR", 40)
    user("u_nurse", v["north"], "Carla Espinosa", "NURSE", 30)
    user("u_alice", v["north"], "Alice Martin", "PATIENT", 20)
    user("u_bob", v["north"], "Bob Stone", "PATIENT", 10)
    user("u_dora", v["north"], "Dora Martinez", "PATIENT", 5)
    user("u_grey", v["south"], "Meredith Grey", "DOCTOR", 45)
    user("u_carol", v["south"], "Carol Martin", "PATIENT", 15)
    for key, clinic, specialty in (
        ("house", "north", "Diagnostics"),
        ("wilson", "north", "Oncology"),
        ("grey", "south", "Surgery"),
    ):
        v[key] = _one(
            conn,
            "INSERT INTO doctors (clinic_id, user_id, specialty) VALUES (%s, %s, %s) RETURNING id",
            (v[clinic], v[f"u_{key}"], specialty),
        )
    for key, clinic in (("alice", "north"), ("bob", "north"), ("dora", "north"), ("carol", "south")):
        v[key] = _one(
            conn,
            "INSERT INTO patients (clinic_id, user_id, date_of_birth) VALUES (%s, %s, '1990-05-01') RETURNING id",
            (v[clinic], v[f"u_{key}"]),
        )
    # Hourly slots for the next 48 hours for every doctor (the same instants for all: transfers line up).
    conn.execute(
        "INSERT INTO doctor_availability (clinic_id, doctor_id, slot_date_time) "
        "SELECT d.clinic_id, d.id, %s + h * interval '1 hour' FROM doctors d, generate_series(1, 48) h",
        (NOW,),
    )

    def appointment(key: str, clinic: str, patient: str, doctor: str, hours: int, status: str, book: bool) -> None:
        at = NOW + datetime.timedelta(hours=hours)
        v[key] = _one(
            conn,
            "INSERT INTO appointments (clinic_id, patient_id, doctor_id, appointment_date_time, "
            "status, rating) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (v[clinic], v[patient], v[doctor], at, status, 4 if status == "COMPLETED" else None),
        )
        if book:
            conn.execute(
                "UPDATE doctor_availability SET status = 'BOOKED', appointment_id = %s "
                "WHERE doctor_id = %s AND slot_date_time = %s",
                (v[key], v[doctor], at),
            )
        v[f"{key}_at_hours"] = hours

    appointment("a_alice", "north", "alice", "house", 2, "SCHEDULED", True)  # transferable
    appointment("a_bob", "north", "bob", "house", 3, "CONFIRMED", True)
    appointment("a_done", "north", "alice", "wilson", -24, "COMPLETED", False)
    appointment("a_cancelled", "north", "bob", "wilson", 5, "CANCELLED", False)
    appointment("a_carol", "south", "carol", "grey", 2, "SCHEDULED", True)
    appointment("a_dora", "north", "dora", "wilson", 4, "SCHEDULED", True)
    conn.execute(
        "INSERT INTO appointment_audit_logs (clinic_id, appointment_id, action, performed_at) "
        "SELECT clinic_id, id, 'CREATED', now() - interval '1 day' FROM appointments"
    )
    return ids


def plant_fashion(conn: psycopg.Connection) -> Ids:
    """Studio 1 (Atelier: 2 designers, 2 clients, a collection of 3 products), studio 2 (Maison: the same, smaller)."""
    ids = Ids()
    v = ids.values
    v["atelier"] = _one(conn, "INSERT INTO studios (name, city) VALUES ('Atelier', 'Paris') RETURNING id")
    v["maison"] = _one(conn, "INSERT INTO studios (name, city) VALUES ('Maison', 'Milan') RETURNING id")
    for key, studio, name in (("coco", "atelier", "Coco"), ("yves", "atelier", "Yves"), ("gianni", "maison", "Gianni")):
        v[key] = _one(
            conn,
            "INSERT INTO designers (studio_id, name, email) VALUES (%s, %s, %s) RETURNING id",
            (v[studio], name, f"{key}@{studio}.example"),
        )
    for key, studio, name, minutes in (
        ("ann", "atelier", "Ann Lee", 30),
        ("ben", "atelier", "Ben Hur", 20),
        ("cleo", "maison", "Cleo Pat", 10),
    ):
        v[key] = _one(
            conn,
            "INSERT INTO clients (studio_id, name, email, created_at) "
            "VALUES (%s, %s, %s, now() - %s * interval '1 minute') RETURNING id",
            (v[studio], name, f"{key}@{studio}.example", minutes),
        )
    v["spring"] = _one(
        conn,
        "INSERT INTO collections (studio_id, designer_id, name, season, year, status) "
        "VALUES (%s, %s, 'Spring', 'SS', 2027, 'PUBLISHED') RETURNING id",
        (v["atelier"], v["coco"]),
    )
    v["draft"] = _one(
        conn,
        "INSERT INTO collections (studio_id, designer_id, name, season, year) "
        "VALUES (%s, %s, 'Draft', 'AW', 2027) RETURNING id",
        (v["atelier"], v["yves"]),
    )
    v["milano"] = _one(
        conn,
        "INSERT INTO collections (studio_id, designer_id, name, season, year, status) "
        "VALUES (%s, %s, 'Milano', 'SS', 2027, 'PUBLISHED') RETURNING id",
        (v["maison"], v["gianni"]),
    )
    for key, studio, collection, sku, price, stock, active in (
        ("dress", "atelier", "spring", "DR-1", 25000, 5, True),
        ("scarf", "atelier", "spring", "SC-1", 4500, 1, True),  # the last one
        ("old", "atelier", "spring", "OL-1", 1000, 10, False),
        ("suit", "maison", "milano", "SU-1", 90000, 3, True),
    ):
        v[key] = _one(
            conn,
            "INSERT INTO products (studio_id, collection_id, sku, name, price_cents, stock, is_active) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (v[studio], v[collection], sku, key.title(), price, stock, active),
        )
    v["f_ann"] = _one(
        conn,
        "INSERT INTO fittings (studio_id, client_id, designer_id, scheduled_at, duration_minutes) "
        "VALUES (%s, %s, %s, %s, 60) RETURNING id",
        (v["atelier"], v["ann"], v["coco"], NOW + datetime.timedelta(days=1)),
    )
    v["f_cleo"] = _one(
        conn,
        "INSERT INTO fittings (studio_id, client_id, designer_id, scheduled_at) VALUES (%s, %s, %s, %s) RETURNING id",
        (v["maison"], v["cleo"], v["gianni"], NOW + datetime.timedelta(days=1)),
    )
    v["o_ann"] = _one(
        conn,
        "INSERT INTO orders (studio_id, client_id, status, total_cents, ordered_at) "
        "VALUES (%s, %s, 'PAID', 29500, now() - interval '2 days') RETURNING id",
        (v["atelier"], v["ann"]),
    )
    conn.execute(
        "INSERT INTO order_lines (studio_id, order_id, product_id, quantity, unit_price_cents) "
        "VALUES (%s, %s, %s, 1, 25000), (%s, %s, %s, 1, 4500)",
        (v["atelier"], v["o_ann"], v["dress"], v["atelier"], v["o_ann"], v["scarf"]),
    )
    v["o_cleo"] = _one(
        conn,
        "INSERT INTO orders (studio_id, client_id, status, total_cents) VALUES (%s, %s, 'PENDING', 90000) RETURNING id",
        (v["maison"], v["cleo"]),
    )
    conn.execute(
        "INSERT INTO order_lines (studio_id, order_id, product_id, quantity, unit_price_cents) "
        "VALUES (%s, %s, %s, 1, 90000)",
        (v["maison"], v["o_cleo"], v["suit"]),
    )
    return ids


def _seeded(pg_server, template: str, plant: Callable[[psycopg.Connection], Ids]) -> tuple[str, Ids]:
    name = f"rt_{uuid.uuid4().hex[:10]}"
    url = pg_server.create_database(name, template=template)
    with psycopg.connect(url) as conn:
        ids = plant(conn)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return name, ids


@pytest.fixture(scope="session")
def seeded_healthcare(pg_server, healthcare_template) -> tuple[str, Ids]:
    return _seeded(pg_server, healthcare_template, plant_healthcare)


@pytest.fixture(scope="session")
def seeded_fashion(pg_server, fashion_template) -> tuple[str, Ids]:
    return _seeded(pg_server, fashion_template, plant_fashion)


@pytest.fixture
def hc(pg_server, seeded_healthcare) -> Iterator[tuple[str, Ids]]:
    """(URL, ids) of a fresh copy of the seeded healthcare database."""
    template, ids = seeded_healthcare
    for url in pg_server.fresh(template):
        yield url, ids


@pytest.fixture
def fa(pg_server, seeded_fashion) -> Iterator[tuple[str, Ids]]:
    """(URL, ids) of a fresh copy of the seeded fashion database."""
    template, ids = seeded_fashion
    for url in pg_server.fresh(template):
        yield url, ids


@pytest.fixture
def hc_db(hc):
    from platformdb.database import Database

    url, ids = hc
    with Database(url, application_name="platformdb-test") as db:
        yield db, ids


@pytest.fixture
def fa_db(fa):
    from platformdb.database import Database

    url, ids = fa
    with Database(url, application_name="platformdb-test") as db:
        yield db, ids


def query(url: str, sql: str, params: Any = None) -> list[tuple]:
    """Rows of ``sql`` read as the owner (RLS does not apply): what is really in the database."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def race(
    url: str, lock_sql: str, lock_params: Any, calls: list[Callable[[], Any]], *, timeout: float = 60
) -> list[Outcome]:
    """Run ``calls`` in threads that all block on the row ``lock_sql`` locks, then release it: a real race.

    A blocker connection takes the row lock first; the calls start and wait
    on it (seen in pg_stat_activity as Lock waits, not guessed with sleeps);
    releasing it lets them compete for the row exactly as concurrent requests
    do. Returns each call's result or exception.
    """
    outcomes = [Outcome() for _ in calls]

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            outcomes[i].value = call()
        except BaseException as exc:  # the outcome is what the test asserts
            outcomes[i].error = exc

    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as observer:
        blocker.execute(lock_sql, lock_params)
        database = observer.execute("SELECT current_database()").fetchone()[0]
        threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + timeout
        while True:
            waiting = observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                "AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()[0]
            if waiting >= len(calls):
                break
            if time.monotonic() > deadline or not any(t.is_alive() for t in threads):
                raise AssertionError(
                    f"only {waiting} of {len(calls)} calls reached the lock: {[o.error for o in outcomes]}"
                )
            time.sleep(0.01)  # polling pg_stat_activity, not timing the race
        blocker.rollback()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing call did not finish"
    return outcomes
