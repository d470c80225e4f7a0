"""Services: atomic use cases, domain errors, events after commit, real races, and the same code under asyncio."""

from __future__ import annotations

import asyncio
import datetime

import psycopg
import pytest

from platformdb import errors
from platformdb.database import AsyncDatabase
from platformdb.fashion import domain as fd
from platformdb.fashion.services import FittingService, OrderService
from platformdb.healthcare import domain
from platformdb.healthcare.services import AppointmentService, UserService
from platformdb.testing import assert_statements

from .conftest import NOW, query, race


def slot_of(url: str, doctor: int, hours: int) -> tuple[int, str, int | None]:
    return query(
        url,
        "SELECT id, status::text, appointment_id FROM doctor_availability WHERE doctor_id = %s AND slot_date_time = %s",
        (doctor, NOW + datetime.timedelta(hours=hours)),
    )[0]


# -- healthcare -------------------------------------------------------------------------------------------------------


def test_create_user_with_profile_is_atomic_and_publishes_after_commit(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    seen = []
    db.events.subscribe(
        lambda e: seen.append(
            (e, query(url, "SELECT count(*) FROM patients WHERE id = %s", (e.payload["patient_id"],)))
        ),
        name="user.created",
    )
    service = UserService(db, ids.north)
    with assert_statements(db, 2):
        created = service.create_user_with_profile(
            name="Eve Adams", email="eve@north.example", date_of_birth=datetime.date(1991, 2, 3), phone="+33 1"
        )
    assert isinstance(created, domain.UserWithProfile)
    assert created.user.role_type is domain.RoleType.PATIENT and created.patient.user_id == created.user.id
    assert created.patient.clinic_id == ids.north and created.patient.phone == "+33 1"
    ((event, visible),) = seen
    assert event.tenant == ids.north and event.payload["user_id"] == created.user.id and visible == [(1,)]

    patients_before = query(url, "SELECT count(*) FROM patients")
    with pytest.raises(errors.Conflict, match="already registered"):
        service.create_user_with_profile(name="Eve Again", email="eve@north.example")
    assert query(url, "SELECT count(*) FROM patients") == patients_before and len(seen) == 1
    # the same e-mail in another clinic is another account
    assert (
        UserService(db, ids.south).create_user_with_profile(name="Eve", email="eve@north.example").user.clinic_id
        == ids.south
    )


def test_transfer_appointment(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    events = []
    db.events.subscribe(events.append, name="appointment.transferred")
    service = AppointmentService(db, ids.north)
    with assert_statements(db, 5):  # lock, book target slot, release source slot, update, audit
        moved = service.transfer_appointment(
            ids.a_alice,
            from_doctor_id=ids.house,
            to_doctor_id=ids.wilson,
            reason="House is away",
            requested_by=ids.u_nurse,
        )
    assert isinstance(moved, domain.Appointment) and moved.doctor_id == ids.wilson
    assert slot_of(url, ids.wilson, 2)[1:] == ("BOOKED", ids.a_alice)
    assert slot_of(url, ids.house, 2)[1:] == ("AVAILABLE", None)
    assert query(
        url,
        "SELECT action::text, previous_doctor_id, new_doctor_id, reason, performed_by "
        "FROM appointment_audit_logs WHERE appointment_id = %s AND action = 'TRANSFERRED'",
        (ids.a_alice,),
    ) == [("TRANSFERRED", ids.house, ids.wilson, "House is away", ids.u_nurse)]
    assert query(url, "SELECT updated_by FROM appointments WHERE id = %s", (ids.a_alice,)) == [(ids.u_nurse,)]
    assert [e.payload["to_doctor_id"] for e in events] == [ids.wilson]


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("unknown", errors.NotFound, "appointment 999999 not found"),
        ("completed", errors.InvalidState, "completed"),
        ("cancelled", errors.InvalidState, "cancelled"),
        ("stale", errors.StaleState, "is with doctor"),
        ("busy target", errors.SlotUnavailable, "no free slot"),
        ("same doctor", errors.InvalidInput, "already with this doctor"),
    ],
)
def test_transfer_appointment_refusals_change_nothing(hc_db, hc, case, error, message):
    db, ids = hc_db
    url, _ = hc
    appointment, source, target = {
        "unknown": (999999, ids.house, ids.wilson),
        "completed": (ids.a_done, ids.wilson, ids.house),
        "cancelled": (ids.a_cancelled, ids.wilson, ids.house),
        "stale": (ids.a_alice, ids.wilson, ids.house),
        "busy target": (ids.a_dora, ids.wilson, ids.house),
        "same doctor": (ids.a_alice, ids.house, ids.house),
    }[case]
    if case == "busy target":  # House's slot at Dora's time is taken
        with psycopg.connect(url) as conn:
            conn.execute(
                "UPDATE doctor_availability SET status = 'BOOKED', appointment_id = %s "
                "WHERE doctor_id = %s AND slot_date_time = %s",
                (ids.a_bob, ids.house, NOW + datetime.timedelta(hours=4)),
            )
    before = query(
        url,
        "SELECT a, (SELECT array_agg(s ORDER BY id) FROM doctor_availability s), "
        "(SELECT count(*) FROM appointment_audit_logs) FROM appointments a ORDER BY id",
    )
    with pytest.raises(error, match=message):
        AppointmentService(db, ids.north).transfer_appointment(
            appointment, from_doctor_id=source, to_doctor_id=target, reason="x", requested_by=ids.u_nurse
        )
    assert (
        query(
            url,
            "SELECT a, (SELECT array_agg(s ORDER BY id) FROM doctor_availability s), "
            "(SELECT count(*) FROM appointment_audit_logs) FROM appointments a ORDER BY id",
        )
        == before
    )


def test_book_and_cancel_appointment(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    service = AppointmentService(db, ids.north)
    slot_id = slot_of(url, ids.wilson, 6)[0]
    with assert_statements(db, 5):  # lock slot, patient, insert, slot booked, audit
        booked = service.book_appointment(patient_id=ids.bob, slot_id=slot_id, booked_by=ids.u_nurse)
    assert booked.doctor_id == ids.wilson and booked.starts_at == NOW + datetime.timedelta(hours=6)
    assert slot_of(url, ids.wilson, 6)[1:] == ("BOOKED", booked.id)
    with pytest.raises(errors.SlotUnavailable, match="already booked"):
        service.book_appointment(patient_id=ids.alice, slot_id=slot_id)
    with pytest.raises(errors.NotFound, match="patient"):
        service.book_appointment(patient_id=999999, slot_id=slot_of(url, ids.wilson, 7)[0])
    with assert_statements(db, 4):
        cancelled = service.cancel_appointment(booked.id, reason="ill", requested_by=ids.u_bob)
    assert cancelled.status is domain.AppointmentStatus.CANCELLED
    assert slot_of(url, ids.wilson, 6)[1:] == ("AVAILABLE", None)
    with pytest.raises(errors.InvalidState, match="already cancelled"):
        service.cancel_appointment(booked.id, reason="again", requested_by=ids.u_bob)
    with assert_statements(db, 1):
        assert [u.appointment_id for u in service.get_upcoming(ids.bob)] == [ids.a_bob]


def test_two_transfers_of_one_appointment_never_both_win(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    # a third doctor at North with a free slot at the appointment's time
    with psycopg.connect(url) as conn:
        user = conn.execute(
            "INSERT INTO users (clinic_id, name, email, role_type) VALUES (%s, 'Lisa Cuddy', "
            "'cuddy@north.example', 'DOCTOR') RETURNING id",
            (ids.north,),
        ).fetchone()[0]
        cuddy = conn.execute(
            "INSERT INTO doctors (clinic_id, user_id, specialty) VALUES (%s, %s, 'Endocrinology') RETURNING id",
            (ids.north, user),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO doctor_availability (clinic_id, doctor_id, slot_date_time) VALUES (%s, %s, %s)",
            (ids.north, cuddy, NOW + datetime.timedelta(hours=2)),
        )
    service = AppointmentService(db, ids.north)
    outcomes = race(
        url,
        "SELECT 1 FROM appointments WHERE id = %s FOR UPDATE",
        (ids.a_alice,),
        [
            lambda: service.transfer_appointment(
                ids.a_alice, from_doctor_id=ids.house, to_doctor_id=ids.wilson, reason="one", requested_by=ids.u_nurse
            ),
            lambda: service.transfer_appointment(
                ids.a_alice, from_doctor_id=ids.house, to_doctor_id=cuddy, reason="two", requested_by=ids.u_nurse
            ),
        ],
    )
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0].error, errors.StaleState), losers[0].error
    winner = winners[0].value.doctor_id
    loser = cuddy if winner == ids.wilson else ids.wilson
    assert query(url, "SELECT doctor_id FROM appointments WHERE id = %s", (ids.a_alice,)) == [(winner,)]
    assert query(
        url, "SELECT doctor_id, status::text FROM doctor_availability WHERE appointment_id = %s", (ids.a_alice,)
    ) == [(winner, "BOOKED")]
    assert query(
        url,
        "SELECT status::text FROM doctor_availability WHERE doctor_id = %s AND slot_date_time = %s",
        (loser, NOW + datetime.timedelta(hours=2)),
    ) == [("AVAILABLE",)]
    assert query(url, "SELECT count(*) FROM appointment_audit_logs WHERE action = 'TRANSFERRED'") == [(1,)]


def test_two_bookings_of_one_slot_never_both_win(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    slot_id = slot_of(url, ids.wilson, 8)[0]
    service = AppointmentService(db, ids.north)
    outcomes = race(
        url,
        "SELECT 1 FROM doctor_availability WHERE id = %s FOR UPDATE",
        (slot_id,),
        [
            lambda: service.book_appointment(patient_id=ids.alice, slot_id=slot_id),
            lambda: service.book_appointment(patient_id=ids.bob, slot_id=slot_id),
        ],
    )
    assert sorted(type(o.error).__name__ for o in outcomes if o.error) == ["SlotUnavailable"]
    (winner,) = [o.value for o in outcomes if o.error is None]
    assert slot_of(url, ids.wilson, 8)[1:] == ("BOOKED", winner.id)
    assert query(
        url,
        "SELECT count(*) FROM appointments WHERE doctor_id = %s AND appointment_date_time = %s",
        (ids.wilson, NOW + datetime.timedelta(hours=8)),
    ) == [(1,)]


def test_services_run_under_asyncio_with_the_same_code(hc, fa):
    url, ids = hc
    fashion_url, fids = fa

    async def main():
        events = []
        async with AsyncDatabase(url) as db, AsyncDatabase(fashion_url) as fdb:
            db.events.subscribe(events.append)
            users, appointments = UserService(db, ids.north), AppointmentService(db, ids.north)
            created = await users.create_user_with_profile(name="Async Ann", email="ann@north.example")
            upcoming = await appointments.get_upcoming(ids.alice)
            moved = await appointments.transfer_appointment(
                ids.a_alice, from_doctor_id=ids.house, to_doctor_id=ids.wilson, reason="async", requested_by=ids.u_nurse
            )
            with pytest.raises(errors.StaleState):
                await appointments.transfer_appointment(
                    ids.a_alice,
                    from_doctor_id=ids.house,
                    to_doctor_id=ids.wilson,
                    reason="again",
                    requested_by=ids.u_nurse,
                )
            order = await OrderService(fdb, fids.atelier).place_order(
                client_id=fids.ben, lines=[fd.NewOrderLine(fids.dress, 2)]
            )
            return created, upcoming, moved, order, events

    created, upcoming, moved, order, events = asyncio.run(main())
    assert created.user.clinic_id == ids.north and query(
        url, "SELECT count(*) FROM patients WHERE id = %s", (created.patient.id,)
    ) == [(1,)]
    assert [u.appointment_id for u in upcoming] == [ids.a_alice]
    assert moved.doctor_id == ids.wilson and slot_of(url, ids.wilson, 2)[1:] == ("BOOKED", ids.a_alice)
    assert order.total == fd.Money(50000, "EUR")
    assert [e.name for e in events] == ["user.created", "appointment.transferred"]


# -- fashion ------------------------------------------------------------------------------------------------------------


def test_place_order(fa_db, fa):
    db, ids = fa_db
    url, _ = fa
    events = []
    db.events.subscribe(events.append)
    service = OrderService(db, ids.atelier)
    with assert_statements(db, 5):  # client, lock products, take stock, order, lines
        order = service.place_order(
            client_id=ids.ben, lines=[fd.NewOrderLine(ids.dress, 2), fd.NewOrderLine(ids.scarf, 1)]
        )
    assert order.total == fd.Money(2 * 25000 + 4500, "EUR")
    assert [(line.product_id, line.quantity, line.unit_price) for line in order.lines] == [
        (ids.dress, 2, fd.Money(25000, "EUR")),
        (ids.scarf, 1, fd.Money(4500, "EUR")),
    ]
    assert query(url, "SELECT id, stock FROM products WHERE id = ANY(%s) ORDER BY id", ([ids.dress, ids.scarf],)) == [
        (ids.dress, 3),
        (ids.scarf, 0),
    ]
    assert [e.payload["order_id"] for e in events] == [order.id]
    with assert_statements(db, 2):
        details = service.get_order(order.id)
    assert [line.sku for line in details.lines] == ["DR-1", "SC-1"]

    before = query(url, "SELECT id, stock FROM products ORDER BY id"), query(url, "SELECT count(*) FROM orders")
    with pytest.raises(errors.OutOfStock, match="SC-1: 1 wanted, 0 left"):
        service.place_order(client_id=ids.ann, lines=[fd.NewOrderLine(ids.dress, 1), fd.NewOrderLine(ids.scarf, 1)])
    with pytest.raises(errors.NotFound, match="product"):
        service.place_order(client_id=ids.ann, lines=[fd.NewOrderLine(ids.old, 1)])  # inactive
    with pytest.raises(errors.InvalidInput):
        service.place_order(client_id=ids.ann, lines=[])
    assert (
        query(url, "SELECT id, stock FROM products ORDER BY id"),
        query(url, "SELECT count(*) FROM orders"),
    ) == before and len(events) == 1


def test_two_orders_for_the_last_unit_never_both_win(fa_db, fa):
    db, ids = fa_db
    url, _ = fa
    service = OrderService(db, ids.atelier)
    outcomes = race(
        url,
        "SELECT 1 FROM products WHERE id = %s FOR UPDATE",
        (ids.scarf,),
        [
            lambda: service.place_order(client_id=ids.ann, lines=[fd.NewOrderLine(ids.scarf, 1)]),
            lambda: service.place_order(
                client_id=ids.ben, lines=[fd.NewOrderLine(ids.dress, 1), fd.NewOrderLine(ids.scarf, 1)]
            ),
        ],
    )
    assert sorted(type(o.error).__name__ for o in outcomes if o.error) == ["OutOfStock"]
    assert query(url, "SELECT stock FROM products WHERE id = %s", (ids.scarf,)) == [(0,)]
    assert query(url, "SELECT sum(quantity) FROM order_lines WHERE product_id = %s", (ids.scarf,)) == [(2,)]  # seed + 1


def test_book_fitting(fa_db, fa):
    db, ids = fa_db
    url, _ = fa
    service = FittingService(db, ids.atelier)
    start = NOW + datetime.timedelta(days=2)
    with assert_statements(db, 4):  # lock designer, client, overlap check, insert
        fitting = service.book_fitting(client_id=ids.ben, designer_id=ids.coco, starts_at=start, duration_minutes=90)
    assert fitting.starts_at == start and fitting.duration == datetime.timedelta(minutes=90)
    with pytest.raises(errors.SlotUnavailable, match="designer"):
        service.book_fitting(client_id=ids.ann, designer_id=ids.coco, starts_at=start + datetime.timedelta(hours=1))
    with pytest.raises(errors.SlotUnavailable, match="client"):
        service.book_fitting(client_id=ids.ben, designer_id=ids.yves, starts_at=start)
    assert (
        service.book_fitting(
            client_id=ids.ann, designer_id=ids.coco, starts_at=start + datetime.timedelta(minutes=90)
        ).id
        > fitting.id
    )  # back to back
    assert query(url, "SELECT count(*) FROM fittings WHERE designer_id = %s", (ids.coco,)) == [(3,)]


def test_two_bookings_of_one_designers_time_never_both_win(fa_db, fa):
    db, ids = fa_db
    url, _ = fa
    service = FittingService(db, ids.atelier)
    start = NOW + datetime.timedelta(days=3)
    outcomes = race(
        url,
        "SELECT 1 FROM designers WHERE id = %s FOR UPDATE",
        (ids.yves,),
        [
            lambda: service.book_fitting(client_id=ids.ann, designer_id=ids.yves, starts_at=start),
            lambda: service.book_fitting(
                client_id=ids.ben, designer_id=ids.yves, starts_at=start + datetime.timedelta(minutes=30)
            ),
        ],
    )
    assert sorted(type(o.error).__name__ for o in outcomes if o.error) == ["SlotUnavailable"]
    assert query(url, "SELECT count(*) FROM fittings WHERE designer_id = %s", (ids.yves,)) == [(1,)]


def test_the_readme_service_example_runs(hc, monkeypatch):
    import re
    from pathlib import Path

    url, ids = hc
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## The runtime data layer") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace("tenant_id=7", f"tenant_id={ids.north}").replace("patient_id=42", f"patient_id={ids.alice}")
    monkeypatch.setenv("HEALTHCARE_DATABASE_URL", url)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert [u.appointment_id for u in namespace["upcoming"]] == [ids.a_alice]
    assert namespace["upcoming"][0].doctor_name == "Gregory House"
