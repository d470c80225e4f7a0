"""budgets.yaml budgets the SQL the repositories really send, measured as the application runs it (RLS on)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dbops.budgets import load_budgets, parse_budgets
from dbops.budgets.sync import sync_budgets
from dbops.errors import InputError
from platformdb.fashion import domain as fd
from platformdb.fashion import repositories as fr
from platformdb.healthcare import domain
from platformdb.healthcare import repositories as hr
from platformdb.testing import count_statements

from .conftest import NOW

REPO = Path(__file__).resolve().parents[2]
WEEK = datetime.timedelta(days=7)

# How to make each budgeted method send its budgeted statement (budget name -> call on a seeded database).
HEALTHCARE_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "clinic_active_users_page": lambda s, i: hr.UserRepository(s, i.north).active_page(page=2, per_page=2),
    "clinic_active_users_count": lambda s, i: hr.UserRepository(s, i.north).active_page(),
    "clinic_active_users_keyset": lambda s, i: hr.UserRepository(s, i.north).active_after((NOW, 10**9), limit=2),
    "user_by_email": lambda s, i: hr.UserRepository(s, i.north).find_by_email("u_alice@north.example"),
    "clinic_staff_by_role": lambda s, i: hr.UserRepository(s, i.north).find_by_role(domain.RoleType.NURSE),
    "clinic_active_patient_users": lambda s, i: hr.UserRepository(s, i.north).find_by_role(domain.RoleType.PATIENT),
    "patient_upcoming_appointments": lambda s, i: hr.AppointmentRepository(s, i.north).upcoming_for_patient(i.alice),
    "clinic_appointments_in_range": lambda s, i: hr.AppointmentRepository(s, i.north).find_appointments(
        domain.AppointmentFilters(start=NOW, end=NOW + WEEK, statuses=(domain.AppointmentStatus.SCHEDULED,))
    ),
    "clinic_appointments_by_patient_name": lambda s, i: hr.AppointmentRepository(s, i.north).find_appointments(
        domain.AppointmentFilters(patient_name="Martin")
    ),
    "doctor_agenda": lambda s, i: hr.AppointmentRepository(s, i.north).find_appointments(
        domain.AppointmentFilters(start=NOW, end=NOW + WEEK, doctor_id=i.house)
    ),
    "clinic_appointment_stats": lambda s, i: hr.AnalyticsRepository(s, i.north).appointment_stats(since=NOW - WEEK),
    "doctor_performance": lambda s, i: hr.AnalyticsRepository(s, i.north).doctor_performance(i.house),
    "doctor_available_slots": lambda s, i: hr.AvailabilityRepository(s, i.north).available_slots(
        i.house, NOW, NOW + WEEK
    ),
    "clinic_audit_trail": lambda s, i: hr.AuditLogRepository(s, i.north).recent(since=NOW - WEEK),
}
FASHION_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "studio_active_clients_page": lambda s, i: fr.ClientRepository(s, i.atelier).active_page(),
    "studio_active_clients_count": lambda s, i: fr.ClientRepository(s, i.atelier).active_page(),
    "studio_active_clients_keyset": lambda s, i: fr.ClientRepository(s, i.atelier).active_after((NOW, 10**9)),
    "client_by_email": lambda s, i: fr.ClientRepository(s, i.atelier).find_by_email("ann@atelier.example"),
    "studio_orders_by_date": lambda s, i: fr.OrderRepository(s, i.atelier).find_orders(
        fd.OrderFilters(start=NOW - WEEK, end=NOW)
    ),
    "client_orders": lambda s, i: fr.OrderRepository(s, i.atelier).find_orders(fd.OrderFilters(client_id=i.ann)),
    "order_with_lines": lambda s, i: fr.OrderRepository(s, i.atelier).get_with_lines(i.o_ann),
    "collection_products": lambda s, i: fr.ProductRepository(s, i.atelier).in_collection(i.spring),
    "studio_collections_by_status": lambda s, i: fr.CollectionRepository(s, i.atelier).by_status(
        fd.CollectionStatus.PUBLISHED
    ),
    "client_fittings": lambda s, i: fr.FittingRepository(s, i.atelier).upcoming_for_client(i.ann, since=NOW),
    "designer_overlapping_fittings": lambda s, i: fr.FittingRepository(s, i.atelier).designer_busy(
        i.coco, NOW, NOW + datetime.timedelta(hours=1)
    ),
    "studio_order_stats": lambda s, i: fr.AnalyticsRepository(s, i.atelier).order_stats(since=NOW - WEEK),
    "designer_performance": lambda s, i: fr.AnalyticsRepository(s, i.atelier).designer_performance(
        i.coco, since=NOW - WEEK
    ),
}


def normalized(sql: str) -> str:
    """psycopg's ``%(name)s`` as budgets.yaml's ``:name``, whitespace collapsed."""
    sql = re.sub(r"%\((\w+)\)s", r":\1", sql).replace("%%", "%")
    return " ".join(sql.split())


@pytest.fixture(scope="module")
def budget_file():
    return load_budgets(REPO / "budgets.yaml", root=REPO)


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_every_budgeted_method_sends_exactly_the_budgeted_sql(schema, budget_file, request):
    db, ids = request.getfixturevalue("hc_db" if schema == "healthcare" else "fa_db")
    calls = HEALTHCARE_CALLS if schema == "healthcare" else FASHION_CALLS
    with_method = {q.name: q for q in budget_file.for_schema(schema) if q.method}
    assert set(with_method) == set(calls), "every budget that names a method has a call here, and no other"
    tenant = ids.north if schema == "healthcare" else ids.atelier
    for name, call in calls.items():
        query = with_method[name]
        with db.begin(tenant=tenant) as session, count_statements(db) as log:
            call(session, ids)
        sent = [normalized(sql) for sql in log.sql]
        assert normalized(query.sql) in sent, f"{query.method} did not send budgets.yaml's {name}:\n" + "\n".join(sent)
        owner, _, method = query.method.rpartition(".")
        assert call.__code__.co_names and method in call.__code__.co_names, (name, query.method)
        assert owner.rsplit(".", 1)[-1] in call.__code__.co_names, (name, query.method)


def test_sync_check_passes_on_the_repository_and_every_hot_statement_is_budgeted(dbops):
    result = dbops("budgets", "sync", "--check")
    assert result.exit_code == 0, result.output
    assert "27 queries match their methods" in result.stdout


def test_sync_regenerates_stale_sql_and_check_reports_it(tmp_path, settings, dbops):
    path = tmp_path / "budgets.yaml"
    original = (REPO / "budgets.yaml").read_text()
    stale = original.replace(
        "ORDER BY u.created_at DESC, u.id DESC\n           LIMIT :limit OFFSET :offset",
        "ORDER BY u.created_at DESC\n           LIMIT :limit OFFSET :offset",
        1,
    )
    assert stale != original
    path.write_text(stale)
    check = dbops("budgets", "sync", "--check", "--file", str(path))
    assert check.exit_code == 1 and "is stale" in check.stderr
    assert any(
        line.startswith("+") and "ORDER BY u.created_at DESC, u.id DESC" in line for line in check.stdout.splitlines()
    )
    assert path.read_text() == stale  # --check writes nothing
    result = sync_budgets(settings, path)
    assert result.updated == ["healthcare.clinic_active_users_page"] and result.written
    assert path.read_text() == original  # comments, params and budgets kept byte for byte
    assert sync_budgets(settings, path, check=True).stale is False


def test_stale_sql_and_missing_budgets_are_findings_of_check_budgets_and_check_all(tmp_path, settings):
    from dbops.budgets import check_budgets
    from dbops.budgets.sync import sync_findings
    from dbops.workflows.check_all import check_budgets_static

    text = (REPO / "budgets.yaml").read_text()
    stale = text.replace("AND c.email = :email::VARCHAR AND c.deleted_at IS NULL", "AND c.email = :email::VARCHAR", 1)
    assert stale != text
    start, end = text.index("      user_by_email:"), text.index("      clinic_staff_by_role:")
    path = tmp_path / "budgets.yaml"
    path.write_text(stale[:start] + stale[end:])
    findings = {f.rule: f for f in sync_findings(settings, path)}
    assert set(findings) == {"budget-sql-stale", "budget-not-budgeted"}
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if t.strip() == "client_by_email:")
    assert (findings["budget-sql-stale"].line, findings["budget-sql-stale"].fix) == (line, "dbops budgets sync")
    assert "user_by_email" in findings["budget-not-budgeted"].message
    from dbops.budgets import load_budgets as load

    report = check_budgets(settings, "fashion", budget_file=load(path))
    assert [f.rule for f in report.findings] == ["budget-sql-stale"]  # the healthcare finding is another schema's
    import dataclasses

    moved = dataclasses.replace(settings, root=tmp_path)
    ci = check_budgets_static(moved)
    assert {f.rule for f in ci.findings} == {"budget-sql-stale", "budget-not-budgeted"}


def test_sync_errors_point_at_the_method_line(tmp_path, settings):
    path = tmp_path / "budgets.yaml"
    original = (REPO / "budgets.yaml").read_text()
    path.write_text(original.replace("UserRepository.find_by_email", "UserRepository.find_by_mail", 1))
    with pytest.raises(InputError, match=r"has no UserRepository\.find_by_mail") as info:
        sync_budgets(settings, path)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "find_by_mail" in text)
    assert info.value.location == f"budgets.yaml:{line}" or info.value.location.endswith(f":{line}")
    path.write_text(
        original.replace(
            "method: platformdb.healthcare.repositories.UserRepository.find_by_email",
            "method: platformdb.healthcare.repositories.UserRepository.find_by_role",
            1,
        )
    )
    with pytest.raises(InputError, match="does not declare the hot statement 'user_by_email'"):
        sync_budgets(settings, path)


def test_a_hot_statement_without_a_budget_fails_sync(tmp_path, settings, dbops):
    text = (REPO / "budgets.yaml").read_text()
    start = text.index("      user_by_email:")
    end = text.index("      clinic_staff_by_role:")
    path = tmp_path / "budgets.yaml"
    path.write_text(text[:start] + text[end:])
    result = sync_budgets(settings, path, check=True)
    assert result.unbudgeted == [
        "healthcare: platformdb.healthcare.repositories.UserRepository.find_by_email issues 'user_by_email'"
    ]
    cli = dbops("budgets", "sync", "--check", "--file", str(path))
    assert cli.exit_code == 1 and "not budgeted" in cli.stderr


def test_method_and_rls_fields_are_validated():
    base = (
        "version: 1\nschemas:\n  healthcare:\n{rls}    queries:\n      q:\n        {field}\n"
        "        sql: SELECT 1 FROM users AS u WHERE u.clinic_id = 1\n        max_rows_examined: 1\n        max_ms: 1\n"
    )
    ok = parse_budgets(base.format(rls="    rls: {role: platform_app}\n", field="method: a.b.C.d"))
    assert ok.queries[0].method == "a.b.C.d" and ok.rls["healthcare"].tenant_setting == "app.tenant_id"
    with pytest.raises(InputError, match="method") as info:
        parse_budgets(base.format(rls="", field="method: not a dotted path"))
    assert info.value.location == "budgets.yaml:6"
    with pytest.raises(InputError, match="unknown key 'tenant'") as info:
        parse_budgets(base.format(rls="    rls: {role: platform_app, tenant: x}\n", field="rls: false"))
    assert info.value.location == "budgets.yaml:4"
