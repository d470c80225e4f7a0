"""Budgets measured on real PostgreSQL with planted data (conftest), and the static side of the same queries."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dbops.budgets import catalog_from_database, check_dynamic, check_static, load_budgets
from dbops.findings import Severity

REPO = Path(__file__).resolve().parents[2]

UNINDEXED_FILTER = """
sql: |
  SELECT a.id, a.appointment_date_time
  FROM appointments AS a
  WHERE a.clinic_id = :clinic_id
    AND a.duration_minutes = :duration
  ORDER BY a.appointment_date_time DESC
  LIMIT 20
params:
  - clinic_id: 1
    duration: 45
max_rows_examined: 100
max_ms: 100
"""


def rules(report) -> set[str]:
    return {f.rule for f in report.findings}


def errors(report) -> list:
    return [f for f in report.findings if f.severity is Severity.ERROR]


def hypopg_available(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone())


def test_added_filter_on_unindexed_column_fails_statically_and_dynamically_until_the_index_exists(
    settings, planted_healthcare, write_budgets
):
    budget_file = load_budgets(write_budgets("healthcare", {"agenda_by_duration": UNINDEXED_FILTER}))

    static = check_static(budget_file, settings)
    (missing,) = [f for f in static.findings if f.rule == "budget-missing-index"]
    assert missing.severity is Severity.ERROR and missing.line == 10  # the `duration_minutes` line of the SQL
    assert "duration_minutes" in missing.message
    assert missing.fix.startswith("CREATE INDEX CONCURRENTLY") and "(clinic_id, duration_minutes, " in missing.fix

    dynamic = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=2)
    (rows,) = [f for f in dynamic.findings if f.rule == "budget-rows-examined"]
    measured = dynamic.summary["budgets"]["queries"][0]["measured"]
    assert measured["rows_examined"] > 1000  # every appointment of clinic 1 is looked at and filtered out
    assert rows.fix == missing.fix  # the same index is proposed on both sides
    if hypopg_available(planted_healthcare):
        (hypo,) = [f for f in dynamic.findings if f.rule == "budget-hypothetical-index"]
        assert hypo.details["cost_after"] < hypo.details["cost_before"]
        assert "duration_minutes" in hypo.details["index"]
        with psycopg.connect(planted_healthcare) as conn:  # CREATE EXTENSION was rolled back with the run
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'").fetchone()[0] == 0

    # The "migration" adding the proposed index: both checks pass.
    with psycopg.connect(planted_healthcare, autocommit=True) as conn:
        conn.execute(missing.fix)
    catalog = catalog_from_database(planted_healthcare, tenant_key="clinic_id", tenant_table="clinics")
    assert errors(check_static(budget_file, settings, catalogs={"healthcare": catalog})) == []
    after = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=2)
    assert errors(after) == []
    assert any("ix_appointments_clinic_id_duration_minutes" in line
               for line in after.summary["budgets"]["queries"][0]["plan"])


def test_full_primary_key_index_scan_has_no_seq_scan_but_fails_on_rows_examined(
    settings, planted_healthcare, write_budgets
):
    # ORDER BY id LIMIT with a filter matching only the newest rows: the planner walks the primary key
    # expecting an early stop, and examines nearly the whole table.
    budget_file = load_budgets(write_budgets("healthcare", {"last_appointments": """
sql: |
  SELECT a.id FROM appointments AS a
  WHERE a.appointment_date_time > now() + interval '29 days'
  ORDER BY a.id LIMIT 10
tenant_filter: false
max_rows_examined: 1000
max_ms: 1000
"""}))
    report = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=1)
    row = report.summary["budgets"]["queries"][0]
    assert row["plan"] == ["appointments: Index Scan appointments_pkey"]
    assert "budget-index-unreachable" not in rules(report)  # "no Seq Scan" alone would pass it
    assert "budget-rows-examined" in rules(report)
    assert row["measured"]["rows_examined"] > 25000
    assert row["verdict"] == "broken"


def test_table_no_index_can_reach_is_reported_under_enable_seqscan_off(settings, planted_fashion, write_budgets):
    budget_file = load_budgets(write_budgets("fashion", {"fittings_by_length": """
sql: |
  SELECT f.id FROM fittings AS f WHERE f.studio_id = :studio_id AND f.duration_minutes = 90 AND f.notes = 'x'
  LIMIT 10
params: [{studio_id: 1}]
use_index: [fittings]
max_rows_examined: 100000
max_ms: 1000
"""}))
    # ix_fittings_studio_scheduled can serve studio_id: reachable. Drop it (and the FK's) to make it unreachable.
    with psycopg.connect(planted_fashion, autocommit=True) as conn:
        conn.execute("DROP INDEX ix_fittings_studio_scheduled")
    report = check_dynamic(budget_file, settings, "fashion", planted_fashion, runs=1)
    (finding,) = [f for f in report.findings if f.rule == "budget-index-unreachable"]
    assert "fittings" in finding.message and finding.details["table"] == "fittings"
    assert finding.fix and finding.fix.startswith("CREATE INDEX CONCURRENTLY ix_fittings_studio_id")


def test_query_missing_the_tenant_filter_fails(settings, write_budgets, dbops):
    path = write_budgets("healthcare", {"patient_history": """
sql: |
  SELECT a.id, a.appointment_date_time
  FROM appointments AS a
  WHERE a.patient_id = :patient_id
  ORDER BY a.appointment_date_time DESC
  LIMIT 20
params: [{patient_id: 1}]
max_rows_examined: 100
max_ms: 10
"""})
    report = check_static(load_budgets(path), settings)
    (tenant,) = [f for f in report.findings if f.rule == "budget-tenant-filter"]
    assert tenant.severity is Severity.ERROR and tenant.line == 8  # the FROM line
    assert "clinic_id" in tenant.message and "a.clinic_id = :clinic_id" in tenant.fix

    result = dbops("check", "budgets", "--static-only", "--file", str(path), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [f["rule"] for f in data["findings"]] == ["budget-tenant-filter"]
    assert data["summary"]["budgets"]["queries"][0]["verdict"] == "broken"


def test_failing_query_is_a_finding_not_a_crash(settings, planted_healthcare, write_budgets):
    budget_file = load_budgets(write_budgets("healthcare", {"bad_param": """
sql: SELECT u.id FROM users AS u WHERE u.clinic_id = :clinic_id LIMIT 1
params: [{clinic_id: not-a-number}]
max_rows_examined: 10
max_ms: 10
"""}))
    report = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=1)
    (failed,) = report.findings
    assert failed.rule == "budget-query-failed" and "bigint" in failed.message


def test_our_budgets_pass_static_checks(settings):
    report = check_static(load_budgets(REPO / "budgets.yaml", root=REPO), settings)
    assert report.findings == []
    assert all(q["verdict"] == "ok" for q in report.summary["budgets"]["queries"])


@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_our_budgets_pass_dynamic_checks_on_planted_data(settings, schema, request):
    url = request.getfixturevalue(f"planted_{schema}")
    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    report = check_dynamic(budget_file, settings, schema, url, runs=3)
    assert errors(report) == [], [f.message for f in errors(report)]
    rows = report.summary["budgets"]["queries"]
    assert len(rows) == len(budget_file.for_schema(schema))
    for row in rows:
        assert row["verdict"] == "ok" and row["plan"]
        assert row["measured"]["rows_examined"] <= row["budget"]["max_rows_examined"]
    assert "budget-index-unreachable" not in rules(report)


@pytest.mark.slow
def test_cli_dynamic_table_and_json(dbops, planted_healthcare, write_budgets):
    path = write_budgets("healthcare", {"agenda_by_duration": UNINDEXED_FILTER, "clinic_users": """
sql: |
  SELECT u.id, u.name FROM users AS u
  WHERE u.clinic_id = :clinic_id AND u.is_active
  ORDER BY u.created_at DESC, u.id DESC LIMIT 20
params: [{clinic_id: 1}]
max_rows_examined: 50
max_ms: 100
"""})
    text = dbops("check", "budgets", "healthcare", "--database-url", planted_healthcare, "--file", str(path),
                 "--runs", "2")
    assert text.exit_code == 1
    assert "agenda_by_duration" in text.stdout and "broken" in text.stdout
    assert "ix_users_clinic_active_created" in text.stdout  # the plan column names the index used
    assert "budget-rows-examined" in text.stdout

    result = dbops("check", "budgets", "healthcare", "--database-url", planted_healthcare, "--file", str(path),
                   "--runs", "2", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    rows = {q["query"]: q for q in data["summary"]["budgets"]["queries"]}
    assert rows["clinic_users"]["verdict"] == "ok" and rows["agenda_by_duration"]["verdict"] == "broken"
    assert rows["clinic_users"]["measured"]["runs"] == 2
    assert set(rows["clinic_users"]["measured"]) >= {"rows_examined", "buffers", "p50_ms", "p95_ms"}
    sarif = dbops("check", "budgets", "healthcare", "--database-url", planted_healthcare, "--file", str(path),
                  "--runs", "1", "--format", "sarif")
    assert json.loads(sarif.stdout)["runs"][0]["results"]


@pytest.mark.slow
@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_our_budgets_pass_on_data_seeded_at_scale(settings, schema, request):
    from dbops.scale import seed_at_scale

    url = request.getfixturevalue(f"{schema}_db")
    seed_at_scale(settings, settings.schema(schema), url, scale=5000, seed=7)
    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    report = check_dynamic(budget_file, settings, schema, url, runs=2)
    assert errors(report) == [], [f.message for f in errors(report)]
    assert all(row["verdict"] == "ok" for row in report.summary["budgets"]["queries"])


def test_cli_static_table(dbops):
    result = dbops("check", "budgets", "--static-only")
    assert result.exit_code == 0
    for text in ("healthcare", "fashion", "clinic_active_users_page", "ix_users_clinic_active_created", "ok"):
        assert text in result.stdout
    data = json.loads(dbops("check", "budgets", "fashion", "--static-only", "--format", "json").stdout)
    assert data["findings"] == [] and data["summary"]["budgets"]["mode"] == "static"
    assert {q["schema"] for q in data["summary"]["budgets"]["queries"]} == {"fashion"}


def test_buffers_latency_and_ignores(settings, planted_healthcare, write_budgets):
    import dataclasses

    spec = """
sql: |
  SELECT u.id FROM users AS u WHERE u.clinic_id = :clinic_id AND u.is_active
  ORDER BY u.created_at DESC, u.id DESC LIMIT 20
params: [{clinic_id: 1}]
max_rows_examined: 1000
max_buffers: 1
max_ms: 0.000001
"""
    budget_file = load_budgets(write_budgets("healthcare", {"users_page": spec}))
    report = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=3)
    severities = {f.rule: f.severity for f in report.findings}
    assert severities["budget-buffers"] is Severity.ERROR
    assert severities["budget-latency"] is Severity.WARNING  # reported, not enforced by default
    assert report.summary["budgets"]["queries"][0]["measured"]["runs"] == 3

    strict = dataclasses.replace(settings, budgets=dataclasses.replace(
        settings.budgets, enforce_latency=True, ignore=["budget-buffers"]))
    report = check_dynamic(budget_file, settings=strict, schema="healthcare", url=planted_healthcare, runs=2)
    assert {f.rule: f.severity for f in report.findings} == {"budget-latency": Severity.ERROR}

    ignored = load_budgets(write_budgets("healthcare", {"users_page": spec + "ignore: [budget-buffers, budget-latency]\n"}))
    assert check_dynamic(ignored, settings, "healthcare", planted_healthcare, runs=1).findings == []


def test_empty_database_says_to_seed_it(settings, healthcare_db):
    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    report = check_dynamic(budget_file, settings, "healthcare", healthcare_db, runs=1)
    unmeasured = [f for f in report.findings if f.rule == "budget-too-little-data"]
    assert len(unmeasured) == len(budget_file.for_schema("healthcare"))  # too little data, not broken queries
    assert {f.severity for f in unmeasured} == {Severity.WARNING} and report.exit_code() == 0
    assert "dbops seed healthcare --scale" in unmeasured[0].fix and "too little data" in unmeasured[0].message
    assert {q["verdict"] for q in report.summary["budgets"]["queries"]} == {"too little data"}
