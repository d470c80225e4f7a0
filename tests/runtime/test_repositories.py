"""Repositories: what each method returns (domain types, never ORM objects) and how many statements it sends."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from platformdb import errors
from platformdb.fashion import domain as fd
from platformdb.fashion import repositories as fr
from platformdb.healthcare import domain, models
from platformdb.healthcare import repositories as hr
from platformdb.repository import MAX_LIMIT, KeysetPage, Page, TenantRepository
from platformdb.testing import assert_statements

from .conftest import NOW, query


def is_domain(value) -> bool:
    return dataclasses.is_dataclass(value) and type(value).__module__.endswith(".domain")


# -- the generic base ------------------------------------------------------------------------------------------


def test_reads_return_domain_types_in_one_statement_each(hc_db):
    db, ids = hc_db
    with db.begin(tenant=ids.north) as session:
        users = hr.UserRepository(session, ids.north)
        with assert_statements(db, 1):
            alice = users.find_by_id(ids.u_alice)
        assert is_domain(alice) and isinstance(alice, domain.User)
        assert (alice.name, alice.role_type, alice.clinic_id) == ("Alice Martin", domain.RoleType.PATIENT, ids.north)
        assert not hasattr(alice, "password_hash")
        with assert_statements(db, 1):
            assert users.get(ids.u_bob).name == "Bob Stone"
        with assert_statements(db, 1), pytest.raises(errors.NotFound, match="user 999999"):
            users.get(999999)
        with assert_statements(db, 1):
            doctors = users.find_many(users.c.role_type == domain.RoleType.DOCTOR, order_by=("name",))
        assert [u.name for u in doctors] == ["Gregory House", "James Wilson"]
        with assert_statements(db, 1):
            assert [u.name for u in users.find_many(role_type=domain.RoleType.NURSE)] == ["Carla Espinosa"]
        with assert_statements(db, 1):
            assert users.count(is_active=True) == 6
        with assert_statements(db, 1):
            projection = users.select_columns("id", "name", where=[users.c.name.like("%Martin%")])
        assert projection == [{"id": ids.u_dora, "name": "Dora Martinez"}, {"id": ids.u_alice, "name": "Alice Martin"}]
        with pytest.raises(errors.InvalidInput, match="password_hash"):
            users.select_columns("password_hash")
        with pytest.raises(errors.InvalidInput, match="limit"):
            users.find_many(limit=MAX_LIMIT + 1)
        with pytest.raises(errors.InvalidInput, match="unknown column"):
            users.find_many(order_by=("shoe_size",))


def test_offset_and_keyset_pagination(hc_db):
    db, ids = hc_db
    with db.begin(tenant=ids.north) as session:
        users = hr.UserRepository(session, ids.north)
        everyone = users.find_many(order_by=("-created_at", "-id"))
        with assert_statements(db, 2):  # the page and its total
            page = users.page(page=2, per_page=4, order_by=("-created_at", "-id"))
        assert isinstance(page, Page) and page.total == 6 and page.total_pages == 2
        assert not page.has_next and page.has_previous
        assert [u.id for u in page.items] == [u.id for u in everyone[4:]]
        walked, after = [], None
        while True:
            with assert_statements(db, 1):
                chunk = users.keyset(after=after, limit=4)
            assert isinstance(chunk, KeysetPage)
            walked += chunk.items
            if not chunk.has_next:
                break
            after = chunk.next_after
        assert [u.id for u in walked] == [u.id for u in everyone]


def test_writes_are_scoped_and_return_domain_types(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    with db.begin(tenant=ids.north) as session:
        users = hr.UserRepository(session, ids.north)
        with assert_statements(db, 1):
            eve = users.create(name="Eve Adams", email="eve@north.example", role_type=domain.RoleType.RECEPTIONIST)
        assert eve.clinic_id == ids.north and eve.is_active and is_domain(eve)
        with assert_statements(db, 1):
            renamed = users.update(eve.id, name="Eve Adams-Smith", is_verified=True)
        assert (renamed.name, renamed.is_verified) == ("Eve Adams-Smith", True)
        with pytest.raises(errors.InvalidInput, match="set by the database"):
            users.update(eve.id, created_at=NOW)
        with assert_statements(db, 1):
            gone = users.soft_delete(eve.id)
        assert not gone.is_active
        assert users.find_by_id(eve.id) is None
        assert users.find_many(users.c.id == eve.id, include_deleted=True)[0].id == eve.id
        assert users.soft_delete(eve.id).id == eve.id  # idempotent
        with pytest.raises(errors.NotFound):
            users.update(eve.id, name="x")  # soft-deleted rows are not updated through the repository
        patients = hr.PatientRepository(session, ids.north)
        with pytest.raises(errors.InvalidInput, match="no deleted_at"):
            patients.soft_delete(ids.dora)
    ((updated_at, created_at, deleted_at),) = query(
        url, "SELECT updated_at, created_at, deleted_at FROM users WHERE id = %s", (eve.id,)
    )
    assert updated_at >= created_at and deleted_at is not None


def test_delete_one_row(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    slot = query(
        url,
        "SELECT id FROM doctor_availability WHERE doctor_id = %s AND status = 'AVAILABLE' ORDER BY id LIMIT 1",
        (ids.wilson,),
    )[0][0]
    with db.begin(tenant=ids.north) as session:
        with assert_statements(db, 1):
            hr.AvailabilityRepository(session, ids.north).delete(slot)
        with pytest.raises(errors.NotFound):
            hr.AvailabilityRepository(session, ids.north).delete(slot)
    assert query(url, "SELECT count(*) FROM doctor_availability WHERE id = %s", (slot,)) == [(0,)]


def test_bulk_upsert_is_batched_and_idempotent(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    rows = [
        {"email": f"import{i}@north.example", "name": f"Imported {i}", "role_type": domain.RoleType.PATIENT}
        for i in range(2500)
    ]
    key = ("clinic_id", "email")
    with db.begin(tenant=ids.north) as session, assert_statements(db, 3):  # 1000 rows per statement
        first = hr.UserRepository(session, ids.north).bulk_upsert(rows, key=key, update=("name", "role_type"))
    assert (first.inserted, first.updated, first.unchanged) == (2500, 0, 0)
    xmin = dict(query(url, "SELECT id, xmin::text FROM users WHERE email LIKE 'import%%'"))

    with db.begin(tenant=ids.north) as session:
        again = hr.UserRepository(session, ids.north).bulk_upsert(rows, key=key, update=("name", "role_type"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2500)
    assert dict(query(url, "SELECT id, xmin::text FROM users WHERE email LIKE 'import%%'")) == xmin  # untouched

    changed = [dict(r, name=r["name"] + " (renamed)") if i % 250 == 0 else r for i, r in enumerate(rows)]
    changed.append(
        {"email": "import0@north.example", "name": "Imported 0, last write wins", "role_type": domain.RoleType.PATIENT}
    )
    changed.append({"email": "late@north.example", "name": "Late", "role_type": domain.RoleType.PATIENT})
    with db.begin(tenant=ids.north) as session:
        third = hr.UserRepository(session, ids.north).bulk_upsert(changed, key=key, batch_size=5000)
    assert (third.inserted, third.updated, third.unchanged) == (1, 10, 2490)
    after = dict(query(url, "SELECT id, xmin::text FROM users WHERE email LIKE 'import%%'"))
    assert sum(after[i] != xmin[i] for i in xmin) == 10
    assert query(url, "SELECT name FROM users WHERE email = 'import0@north.example'") == [
        ("Imported 0, last write wins",)
    ]
    with db.begin(tenant=ids.north) as session, pytest.raises(errors.InvalidInput, match="clinic_id"):
        hr.UserRepository(session, ids.north).bulk_upsert(rows, key=("email",))


def test_relationships_raise_instead_of_lazy_loading(hc_db):
    from platformdb.fashion import models as fashion_models

    for base in (models.Base, fashion_models.Base):
        for mapper in base.registry.mappers:
            for relationship in mapper.relationships:
                assert relationship.lazy == "raise", f"{mapper.class_.__name__}.{relationship.key}"
    db, ids = hc_db
    with db.begin(tenant=ids.north) as session:
        appointment = session.get(models.Appointment, ids.a_alice)
        with pytest.raises(sa.exc.InvalidRequestError, match="lazy='raise'"):
            _ = appointment.patient  # an N+1 would start here: it cannot
        loaded = session.execute(
            sa.select(models.Appointment)
            .where(models.Appointment.id == ids.a_alice)
            .options(orm.joinedload(models.Appointment.patient))
        ).scalar_one()
        assert loaded.patient.id == ids.alice  # explicit loading still works


# -- healthcare ---------------------------------------------------------------------------------------------------


def test_user_queries(hc_db):
    db, ids = hc_db
    with db.begin(tenant=ids.north) as session:
        users = hr.UserRepository(session, ids.north)
        with assert_statements(db, 1):
            assert users.find_by_email("u_bob@north.example").id == ids.u_bob
        with assert_statements(db, 1):
            assert users.find_by_email("nobody@north.example") is None
        with assert_statements(db, 1):
            assert [u.name for u in users.find_by_role(domain.RoleType.DOCTOR)] == ["James Wilson", "Gregory House"]
        with assert_statements(db, 1):
            assert [u.name for u in users.find_by_role(domain.RoleType.PATIENT)] == [
                "Dora Martinez",
                "Bob Stone",
                "Alice Martin",
            ]
        with assert_statements(db, 2):
            page = users.active_page(page=1, per_page=4)
        assert page.total == 6 and page.has_next and len(page.items) == 4
        walked, after = [], None
        while True:
            with assert_statements(db, 1):
                chunk = users.active_after(after, limit=4)
            walked += [u.id for u in chunk.items]
            if not chunk.has_next:
                break
            after = chunk.next_after
        assert walked == [u.id for u in users.active_page(per_page=10).items]


def test_find_appointments_filters_with_names_in_one_statement(hc_db):
    db, ids = hc_db
    with db.begin(tenant=ids.north) as session:
        appointments = hr.AppointmentRepository(session, ids.north)
        with assert_statements(db, 1):
            everything = appointments.find_appointments()
        assert [a.id for a in everything.items] == [ids.a_done, ids.a_alice, ids.a_bob, ids.a_dora, ids.a_cancelled]
        first = everything.items[1]
        assert isinstance(first, domain.AppointmentListing)
        assert (first.patient_name, first.patient_email, first.doctor_name, first.doctor_email) == (
            "Alice Martin",
            "u_alice@north.example",
            "Gregory House",
            "u_house@north.example",
        )
        window = domain.AppointmentFilters(
            start=NOW,
            end=NOW + datetime.timedelta(hours=4),
            statuses=(domain.AppointmentStatus.SCHEDULED, domain.AppointmentStatus.CONFIRMED),
        )
        with assert_statements(db, 1):
            assert [a.id for a in appointments.find_appointments(window).items] == [ids.a_alice, ids.a_bob]
        with assert_statements(db, 1):
            agenda = appointments.find_appointments(domain.AppointmentFilters(doctor_id=ids.wilson))
        assert {a.doctor_name for a in agenda.items} == {"James Wilson"}
        with assert_statements(db, 1):
            martins = appointments.find_appointments(domain.AppointmentFilters(patient_name="martin"))
        assert {a.patient_name for a in martins.items} == {"Alice Martin", "Dora Martinez"}
        with assert_statements(db, 0), pytest.raises(errors.InvalidInput, match="3 characters"):
            appointments.find_appointments(domain.AppointmentFilters(patient_name="ma"))
        pages, after = [], None
        while True:
            with assert_statements(db, 1):
                page = appointments.find_appointments(after=after, limit=2)
            pages.append([a.id for a in page.items])
            if not page.has_next:
                break
            after = page.next_after
        assert [i for page in pages for i in page] == [a.id for a in everything.items] and len(pages) == 3
        with assert_statements(db, 1):
            upcoming = appointments.upcoming_for_patient(ids.alice)
        assert [(u.appointment_id, u.doctor_name, u.specialty) for u in upcoming] == [
            (ids.a_alice, "Gregory House", "Diagnostics")
        ]
        with assert_statements(db, 1):
            locked = appointments.lock(ids.a_alice)
        assert locked.status is domain.AppointmentStatus.SCHEDULED


def test_slots_audit_and_analytics(hc_db):
    db, ids = hc_db
    with db.begin(tenant=ids.north) as session:
        slots = hr.AvailabilityRepository(session, ids.north)
        with assert_statements(db, 1):
            free = slots.available_slots(ids.house, NOW, NOW + datetime.timedelta(hours=6))
        assert [s.starts_at for s in free] == [NOW + datetime.timedelta(hours=h) for h in (1, 4, 5)]
        at = NOW + datetime.timedelta(hours=1)
        with assert_statements(db, 1):
            booked = slots.book(doctor_id=ids.house, at=at, appointment_id=ids.a_bob)
        assert booked.status is domain.SlotStatus.BOOKED and booked.appointment_id == ids.a_bob
        assert slots.book(doctor_id=ids.house, at=at, appointment_id=ids.a_bob) is None  # already taken
        with assert_statements(db, 1):
            assert slots.release(doctor_id=ids.house, appointment_id=ids.a_bob) == 2
        audit = hr.AuditLogRepository(session, ids.north)
        with assert_statements(db, 1):
            entry = audit.append(
                appointment_id=ids.a_alice, action=models.AuditAction.RESCHEDULED, reason="r", performed_by=ids.u_nurse
            )
        assert entry.action == "RESCHEDULED"
        with assert_statements(db, 1):
            recent = audit.recent(since=NOW - datetime.timedelta(days=7))
        assert recent[0].id == entry.id and len(recent) == 6
        with pytest.raises(errors.InvalidInput, match="append-only"):
            audit.update(entry.id, reason="edited")
        analytics = hr.AnalyticsRepository(session, ids.north)
        with assert_statements(db, 1):
            stats = analytics.appointment_stats(since=NOW - datetime.timedelta(days=30))
        assert stats.total == 5 and stats.average_duration == datetime.timedelta(minutes=30)
        assert [(c.status, c.count) for c in stats.by_status] == [
            (domain.AppointmentStatus.SCHEDULED, 2),
            (domain.AppointmentStatus.CONFIRMED, 1),
            (domain.AppointmentStatus.COMPLETED, 1),
            (domain.AppointmentStatus.CANCELLED, 1),
        ]
        with assert_statements(db, 1):
            performance = analytics.doctor_performance(ids.wilson)
        assert (performance.appointments, performance.average_rating, performance.distinct_patients) == (3, 4, 3)


# -- fashion --------------------------------------------------------------------------------------------------------


def test_fashion_repositories(fa_db):
    db, ids = fa_db
    with db.begin(tenant=ids.atelier) as session:
        clients = fr.ClientRepository(session, ids.atelier)
        with assert_statements(db, 1):
            assert clients.find_by_email("ben@atelier.example").name == "Ben Hur"
        with assert_statements(db, 2):
            page = clients.active_page(per_page=1)
        assert page.total == 2 and [c.name for c in page.items] == ["Ben Hur"] and page.has_next
        with assert_statements(db, 1):
            first = clients.active_after(limit=1)
        with assert_statements(db, 1):
            second = clients.active_after(first.next_after, limit=1)
        assert [c.name for c in first.items + second.items] == ["Ben Hur", "Ann Lee"] and not second.has_next
        orders = fr.OrderRepository(session, ids.atelier)
        with assert_statements(db, 1):
            listed = orders.find_orders(
                fd.OrderFilters(start=NOW - datetime.timedelta(days=7), end=NOW + datetime.timedelta(hours=1))
            )
        assert [o.id for o in listed.items] == [ids.o_ann] and listed.items[0].total == fd.Money(29500, "EUR")
        with assert_statements(db, 1):
            assert [
                o.id
                for o in orders.find_orders(fd.OrderFilters(client_id=ids.ann, statuses=(fd.OrderStatus.PAID,))).items
            ] == [ids.o_ann]
        with assert_statements(db, 2):
            details = orders.get_with_lines(ids.o_ann)
        assert [(line.sku, line.product_name, line.subtotal) for line in details.lines] == [
            ("DR-1", "Dress", fd.Money(25000, "EUR")),
            ("SC-1", "Scarf", fd.Money(4500, "EUR")),
        ]
        products = fr.ProductRepository(session, ids.atelier)
        with assert_statements(db, 1):
            assert [p.sku for p in products.in_collection(ids.spring)] == ["DR-1", "SC-1"]  # the inactive one left out
        with assert_statements(db, 1):
            assert [
                c.name for c in fr.CollectionRepository(session, ids.atelier).by_status(fd.CollectionStatus.PUBLISHED)
            ] == ["Spring"]
        fittings = fr.FittingRepository(session, ids.atelier)
        with assert_statements(db, 1):
            upcoming = fittings.upcoming_for_client(ids.ann, since=NOW)
        assert [(f.id, f.designer_name) for f in upcoming] == [(ids.f_ann, "Coco")]
        start = NOW + datetime.timedelta(days=1)
        with assert_statements(db, 1):
            assert fittings.designer_busy(
                ids.coco, start + datetime.timedelta(minutes=30), start + datetime.timedelta(hours=2)
            )
        assert not fittings.designer_busy(
            ids.coco, start + datetime.timedelta(hours=1), start + datetime.timedelta(hours=2)
        )
        assert fittings.designer_busy(
            ids.coco, start - datetime.timedelta(minutes=30), start + datetime.timedelta(minutes=1)
        )
        analytics = fr.AnalyticsRepository(session, ids.atelier)
        with assert_statements(db, 1):
            stats = analytics.order_stats(since=NOW - datetime.timedelta(days=30))
        assert stats.orders == 1 and stats.by_status[0].total == fd.Money(29500, "EUR")
        with assert_statements(db, 1):
            performance = analytics.designer_performance(ids.coco, since=NOW - datetime.timedelta(days=1))
        assert (performance.fittings, performance.distinct_clients) == (1, 1)


def test_every_repository_is_built_for_one_tenant():
    subclasses = [*TenantRepository.__subclasses__()]
    assert {c.__name__ for c in subclasses} >= {
        "UserRepository",
        "PatientRepository",
        "DoctorRepository",
        "AppointmentRepository",
        "AvailabilityRepository",
        "AuditLogRepository",
        "ClientRepository",
        "DesignerRepository",
        "CollectionRepository",
        "ProductRepository",
        "OrderRepository",
        "FittingRepository",
    }
    for repository in subclasses:
        assert repository.tenant_key in repository.table.c, repository.__name__
        assert set(repository.columns) <= set(repository.table.c.keys()), repository.__name__
        assert not any(c.endswith("password_hash") for c in repository.columns), repository.__name__
