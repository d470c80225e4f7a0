"""Tenant isolation, enforced twice: repositories scoped to their tenant, and row-level security under them.

The tests connect as the cluster's superuser — the kind of URL ``dbops db
url`` prints, and in one test that very URL — so RLS holds only because
tenant transactions switch to ``platform_app``.
"""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from platformdb import errors
from platformdb.database import Database
from platformdb.fashion import domain as fd
from platformdb.fashion import repositories as fr
from platformdb.fashion import services as fs
from platformdb.fashion.domain import NewOrderLine
from platformdb.healthcare import domain
from platformdb.healthcare import repositories as hr
from platformdb.healthcare.services import AppointmentService, UserService

from .conftest import NOW, plant_healthcare, query

HEALTHCARE_REPOSITORIES = {
    hr.UserRepository: "u_alice",
    hr.PatientRepository: "alice",
    hr.DoctorRepository: "house",
    hr.AppointmentRepository: "a_alice",
    hr.AuditLogRepository: None,
    hr.AvailabilityRepository: None,
}


def _snapshot(url: str) -> list:
    return query(
        url,
        "SELECT 'users', count(*), md5(string_agg(u::text, ',' ORDER BY id)) FROM users u "
        "UNION ALL SELECT 'appointments', count(*), md5(string_agg(a::text, ',' ORDER BY id)) "
        "FROM appointments a UNION ALL SELECT 'slots', count(*), "
        "md5(string_agg(s::text, ',' ORDER BY id)) FROM doctor_availability s "
        "UNION ALL SELECT 'audit', count(*), NULL FROM appointment_audit_logs",
    )


@pytest.mark.parametrize("repository", list(HEALTHCARE_REPOSITORIES), ids=lambda r: r.__name__)
def test_every_generic_method_treats_another_tenants_ids_as_not_found(hc_db, hc, repository):
    db, ids = hc_db
    url, _ = hc
    key = HEALTHCARE_REPOSITORIES[repository]
    if key is None:  # the first row of that table belonging to the North clinic
        table = repository.table.name
        key_id = query(url, f"SELECT min(id) FROM {table} WHERE clinic_id = %s", (ids.north,))[0][0]
    else:
        key_id = getattr(ids, key)
    before = _snapshot(url)
    with db.begin(tenant=ids.south) as session:
        south = repository(session, ids.south)
        assert south.find_by_id(key_id) is None
        assert not south.exists(key_id)
        with pytest.raises(errors.NotFound):
            south.get(key_id)
        assert all(getattr(row, "id", None) != key_id for row in south.find_many(limit=500))
        assert south.count(south.c.id == key_id) == 0
        assert south.select_columns("id", where=[south.c.id == key_id]) == []
    if repository is not hr.AuditLogRepository:  # append-only: update/delete refused before any SQL
        for attempt in (lambda r: r.update(key_id, **_harmless_change(repository)), lambda r: r.delete(key_id)):
            with pytest.raises(errors.NotFound), db.begin(tenant=ids.south) as session:
                attempt(repository(session, ids.south))
    if "deleted_at" in repository.table.c:
        with pytest.raises(errors.NotFound), db.begin(tenant=ids.south) as session:
            repository(session, ids.south).soft_delete(key_id)
    assert _snapshot(url) == before


def _harmless_change(repository) -> dict:
    return {
        hr.UserRepository: {"name": "x"},
        hr.PatientRepository: {"phone": "x"},
        hr.DoctorRepository: {"specialty": "x"},
        hr.AppointmentRepository: {"rating": 1},
        hr.AvailabilityRepository: {"status": domain.SlotStatus.AVAILABLE},
    }[repository]


def test_domain_methods_with_another_tenants_ids(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    before = _snapshot(url)
    with db.begin(tenant=ids.south) as session:
        users = hr.UserRepository(session, ids.south)
        assert users.find_by_email("u_alice@north.example") is None
        assert [u.id for u in users.find_by_role(domain.RoleType.DOCTOR)] == [ids.u_grey]
        assert {u.clinic_id for u in users.active_page(per_page=50).items} == {ids.south}
        appointments = hr.AppointmentRepository(session, ids.south)
        assert appointments.upcoming_for_patient(ids.alice) == []
        assert appointments.find_appointments(domain.AppointmentFilters(patient_id=ids.alice)).items == ()
        assert appointments.find_appointments(domain.AppointmentFilters(doctor_id=ids.house)).items == ()
        # the name search returns the South clinic's Carol Martin, never the North's Alice Martin
        found = appointments.find_appointments(domain.AppointmentFilters(patient_name="Martin")).items
        assert [a.patient_name for a in found] == ["Carol Martin"]
        with pytest.raises(errors.NotFound):
            appointments.lock(ids.a_alice)
        slots = hr.AvailabilityRepository(session, ids.south)
        assert slots.available_slots(ids.house, NOW, NOW + datetime.timedelta(days=3)) == []
        assert (
            slots.book(doctor_id=ids.house, at=NOW + datetime.timedelta(hours=10), appointment_id=ids.a_carol) is None
        )
        assert slots.release(doctor_id=ids.house, appointment_id=ids.a_alice) == 0
        analytics = hr.AnalyticsRepository(session, ids.south)
        assert analytics.doctor_performance(ids.house).appointments == 0
        assert analytics.appointment_stats(since=NOW - datetime.timedelta(days=365)).total == 1
        assert {
            e.appointment_id
            for e in hr.AuditLogRepository(session, ids.south).recent(since=NOW - datetime.timedelta(days=30))
        } == {ids.a_carol}
    assert _snapshot(url) == before


def test_services_with_another_tenants_ids(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    before = _snapshot(url)
    south = AppointmentService(db, ids.south)
    with pytest.raises(errors.NotFound):
        south.transfer_appointment(
            ids.a_alice, from_doctor_id=ids.house, to_doctor_id=ids.grey, reason="x", requested_by=ids.u_grey
        )
    slot = query(
        url, "SELECT id FROM doctor_availability WHERE doctor_id = %s AND status = 'AVAILABLE' LIMIT 1", (ids.house,)
    )[0][0]
    with pytest.raises(errors.NotFound):  # North's slot
        south.book_appointment(patient_id=ids.carol, slot_id=slot)
    grey_slot = query(
        url, "SELECT id FROM doctor_availability WHERE doctor_id = %s AND status = 'AVAILABLE' LIMIT 1", (ids.grey,)
    )[0][0]
    with pytest.raises(errors.NotFound):  # South's slot, North's patient
        south.book_appointment(patient_id=ids.alice, slot_id=grey_slot)
    with pytest.raises(errors.SlotUnavailable):  # moving South's appointment to a North doctor
        south.transfer_appointment(
            ids.a_carol, from_doctor_id=ids.grey, to_doctor_id=ids.wilson, reason="x", requested_by=ids.u_grey
        )
    with pytest.raises(errors.NotFound):
        south.cancel_appointment(ids.a_alice, reason="x", requested_by=ids.u_grey)
    assert _snapshot(url) == before


def test_writing_a_row_of_another_tenant_is_refused(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    with pytest.raises(errors.TenantViolation), db.begin(tenant=ids.south) as session:
        hr.UserRepository(session, ids.south).create(
            clinic_id=ids.north, name="Mallory", email="m@x", role_type=domain.RoleType.PATIENT
        )
    with pytest.raises(errors.TenantViolation), db.begin(tenant=ids.south) as session:
        hr.UserRepository(session, ids.south).bulk_upsert(
            [{"clinic_id": ids.north, "email": "m@x", "name": "M", "role_type": "PATIENT"}], key=("clinic_id", "email")
        )
    assert query(url, "SELECT count(*) FROM users WHERE name LIKE 'M%%'") == [(1,)]  # Meredith only


def test_raw_sql_in_a_tenant_transaction_cannot_cross_tenants(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    before = _snapshot(url)

    def probe(session):
        run = lambda sql, **p: session.execute(sa.text(sql), p)  # noqa: E731
        return {
            "users": run("SELECT count(*) FROM users").scalar(),
            "north_users": run("SELECT count(*) FROM users WHERE clinic_id = :c", c=ids.north).scalar(),
            "joined": run("SELECT count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id").scalar(),
            "clinics": run("SELECT array_agg(name) FROM clinics").scalar(),
            "updated": run("UPDATE users SET name = 'pwned' WHERE clinic_id = :c", c=ids.north).rowcount,
            "deleted": run("DELETE FROM doctor_availability WHERE clinic_id = :c", c=ids.north).rowcount,
        }

    seen = db.transaction(probe, tenant=ids.south)
    assert seen == {"users": 2, "north_users": 0, "joined": 1, "clinics": ["South"], "updated": 0, "deleted": 0}
    with pytest.raises(errors.TenantViolation):
        db.transaction(
            lambda s: s.execute(
                sa.text("INSERT INTO users (clinic_id, name, email, role_type) VALUES (:c, 'M', 'm@x', 'PATIENT')"),
                {"c": ids.north},
            ),
            tenant=ids.south,
        )
    with pytest.raises(errors.TenantViolation):  # moving a own row to another tenant
        db.transaction(
            lambda s: s.execute(
                sa.text("UPDATE users SET clinic_id = :n WHERE clinic_id = :s"), {"n": ids.north, "s": ids.south}
            ),
            tenant=ids.south,
        )
    with pytest.raises(errors.PermissionDenied):  # a partition directly: no privileges, only via the parent
        db.transaction(
            lambda s: s.execute(sa.text("SELECT count(*) FROM appointment_audit_logs_default")).all(), tenant=ids.south
        )
    with pytest.raises(errors.PermissionDenied):  # the audit log is append-only for the application
        db.transaction(lambda s: s.execute(sa.text("UPDATE appointment_audit_logs SET reason = 'x'")), tenant=ids.south)
    assert _snapshot(url) == before


def test_a_transaction_that_forgets_the_tenant_sees_nothing_and_writes_nothing(hc_db):
    db, ids = hc_db
    counts = db.transaction(
        lambda s: [
            s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in (
                "clinics",
                "users",
                "patients",
                "doctors",
                "appointments",
                "appointment_audit_logs",
                "doctor_availability",
            )
        ]
    )
    assert counts == [0] * 7
    assert db.transaction(lambda s: s.execute(sa.text("SELECT clinic_patient_ids_by_name('Martin')")).scalar()) == []
    with pytest.raises(errors.TenantViolation):
        db.transaction(
            lambda s: s.execute(
                sa.text("INSERT INTO users (clinic_id, name, email, role_type) VALUES (:c, 'M', 'm@x', 'PATIENT')"),
                {"c": ids.north},
            )
        )
    with pytest.raises(errors.TenantRequired):
        hr.UserRepository(None, None)  # type: ignore[arg-type]
    with pytest.raises(errors.TenantRequired):
        UserService(db, None)  # type: ignore[arg-type]
    # the connection is the superuser's: only the role switch made the difference
    assert db.transaction(lambda s: s.execute(sa.text("SELECT count(*) FROM users")).scalar(), privileged=True) == 8


def test_isolation_holds_with_the_url_dbops_db_url_prints(dbops, settings):
    from dbops.revisions import upgrade

    printed = dbops("db", "url", "healthcare")
    assert printed.exit_code == 0, printed.output
    url = printed.stdout.strip().splitlines()[-1]
    upgrade(settings, settings.schema("healthcare"), url)
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
        conn.execute(
            "TRUNCATE clinics, users, patients, doctors, appointments, appointment_audit_logs, "
            "doctor_availability RESTART IDENTITY CASCADE"
        )
        ids = plant_healthcare(conn)
    with Database(url) as db:
        north = db.transaction(
            lambda s: [u.name for u in hr.UserRepository(s, ids.north).find_many(limit=50)], tenant=ids.north
        )
        raw = db.transaction(
            lambda s: s.execute(sa.text("SELECT name FROM users ORDER BY id")).scalars().all(), tenant=ids.south
        )
        nothing = db.transaction(lambda s: s.execute(sa.text("SELECT count(*) FROM users")).scalar())
    assert len(north) == 6 and "Carol Martin" not in north
    assert raw == ["Meredith Grey", "Carol Martin"]
    assert nothing == 0


def test_every_tenant_owned_table_has_row_level_security(healthcare_db, fashion_db, settings):
    import psycopg

    for url, schema in ((healthcare_db, "healthcare"), (fashion_db, "fashion")):
        tenant_key = settings.schema(schema).tenant_key
        tenant_table = settings.schema(schema).tenant_table
        with psycopg.connect(url) as conn:
            owned = {
                r[0]
                for r in conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                    "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relnamespace = 'public'::regnamespace "
                    "AND a.attname = %s",
                    (tenant_key,),
                )
            } | {tenant_table}
            rows = conn.execute(
                "SELECT c.relname, c.relrowsecurity, p.polname, pg_get_expr(p.polqual, p.polrelid), "
                "has_table_privilege('platform_app', c.oid, 'SELECT') "
                "FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid WHERE c.relname = ANY(%s)",
                (sorted(owned),),
            ).fetchall()
        assert {r[0] for r in rows} == owned
        for table, enabled, policy, qual, selectable in rows:
            assert enabled and policy == "tenant_isolation" and selectable, table
            assert "current_setting('app.tenant_id'" in qual, (table, qual)


FASHION_REPOSITORIES = {
    fr.ClientRepository: ("ann", {"name": "x"}),
    fr.DesignerRepository: ("coco", {"name": "x"}),
    fr.CollectionRepository: ("spring", {"season": "x"}),
    fr.ProductRepository: ("dress", {"stock": 0}),
    fr.OrderRepository: ("o_ann", {"total_cents": 0}),
    fr.FittingRepository: ("f_ann", {"notes": "x"}),
}


@pytest.mark.parametrize("repository", list(FASHION_REPOSITORIES), ids=lambda r: r.__name__)
def test_every_generic_fashion_method_treats_another_studios_ids_as_not_found(fa_db, fa, repository):
    db, ids = fa_db
    url, _ = fa
    key, change = FASHION_REPOSITORIES[repository]
    key_id = getattr(ids, key)
    table = repository.table.name
    before = query(url, f"SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM {table} t")
    with db.begin(tenant=ids.maison) as session:
        maison = repository(session, ids.maison)
        assert maison.find_by_id(key_id) is None
        assert maison.count(maison.c.id == key_id) == 0
        assert all(getattr(row, "id", None) != key_id for row in maison.find_many(limit=500))
    for attempt in (lambda r: r.update(key_id, **change), lambda r: r.delete(key_id), lambda r: r.get(key_id)):
        with pytest.raises(errors.NotFound), db.begin(tenant=ids.maison) as session:
            attempt(repository(session, ids.maison))
    if "deleted_at" in repository.table.c:
        with pytest.raises(errors.NotFound), db.begin(tenant=ids.maison) as session:
            repository(session, ids.maison).soft_delete(key_id)
    assert query(url, f"SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM {table} t") == before


def test_fashion_isolation(fa_db, fa):
    db, ids = fa_db
    url, _ = fa
    with db.begin(tenant=ids.maison) as session:
        assert fr.ClientRepository(session, ids.maison).find_by_id(ids.ann) is None
        assert fr.ClientRepository(session, ids.maison).find_by_email("ann@atelier.example") is None
        with pytest.raises(errors.NotFound):
            fr.OrderRepository(session, ids.maison).get_with_lines(ids.o_ann)
        assert fr.ProductRepository(session, ids.maison).in_collection(ids.spring) == []
        assert fr.ProductRepository(session, ids.maison).lock_many([ids.dress, ids.scarf]) == {}
        assert fr.FittingRepository(session, ids.maison).upcoming_for_client(ids.ann, since=NOW) == []
        assert not fr.FittingRepository(session, ids.maison).designer_busy(
            ids.coco, NOW + datetime.timedelta(days=1), NOW + datetime.timedelta(days=1, hours=1)
        )
        assert (
            fr.AnalyticsRepository(session, ids.maison).order_stats(since=NOW - datetime.timedelta(days=30)).orders == 1
        )
        with pytest.raises(errors.NotFound):
            fr.DesignerRepository(session, ids.maison).lock(ids.coco)
        assert fr.OrderRepository(session, ids.maison).find_orders(fd.OrderFilters(client_id=ids.ann)).items == ()
        assert fr.CollectionRepository(session, ids.maison).by_status(fd.CollectionStatus.DRAFT) == []
        assert (
            fr.AnalyticsRepository(session, ids.maison)
            .designer_performance(ids.coco, since=NOW - datetime.timedelta(days=30))
            .fittings
            == 0
        )
        assert session.execute(sa.text("SELECT count(*) FROM order_lines")).scalar() == 1
    with pytest.raises(errors.NotFound):
        fs.OrderService(db, ids.maison).place_order(client_id=ids.ann, lines=[NewOrderLine(ids.dress, 1)])
    with pytest.raises(errors.NotFound):  # Maison's client, Atelier's product
        fs.OrderService(db, ids.maison).place_order(client_id=ids.cleo, lines=[NewOrderLine(ids.dress, 1)])
    with pytest.raises(errors.NotFound):
        fs.FittingService(db, ids.maison).book_fitting(
            client_id=ids.cleo, designer_id=ids.coco, starts_at=NOW + datetime.timedelta(days=3)
        )
    assert query(url, "SELECT stock FROM products WHERE id = %s", (ids.dress,)) == [(5,)]
    assert query(url, "SELECT count(*) FROM orders") == [(2,)]
