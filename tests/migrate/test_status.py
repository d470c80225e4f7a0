"""`dbops status`: pending, drift and edited revisions; exit 1 unless up to date (real PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_status_lists_pending_revisions_and_exits_1(project, empty_db, dbops):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")', doc="create b")

    result = dbops("status", "demo", "--database-url", empty_db, "--format", "json", env=proj.env)

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    (demo,) = payload["schemas"]
    assert payload["up_to_date"] is False
    assert demo["current"] == ["0001"] and demo["heads"] == ["0002"]
    assert demo["pending"] == [{"revision": "0002", "file": "migrations/demo/versions/0002_create_b.py",
                                "message": "create b"}]
    assert demo["drift"] is None and "not at head" in demo["drift_note"]

    text = dbops("status", "demo", "--database-url", empty_db, env=proj.env)
    assert text.exit_code == 1
    assert "not up to date" in text.stdout and "0002_create_b.py" in text.stdout

    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    up = dbops("status", "demo", "--database-url", empty_db, env=proj.env)
    assert up.exit_code == 0 and "up to date" in up.stdout


def test_status_reports_drift_between_models_and_database(healthcare_db, dbops, sql):
    clean = dbops("status", "healthcare", "--database-url", healthcare_db, "--format", "json")
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["schemas"][0]["drift"] == []

    sql(healthcare_db, "ALTER TABLE clinics ADD COLUMN fax text")
    drifted = dbops("status", "healthcare", "--database-url", healthcare_db, "--format", "json")

    assert drifted.exit_code == 1
    drift = json.loads(drifted.stdout)["schemas"][0]["drift"]
    assert any("clinics" in line and "fax" in line for line in drift), drift


def test_status_masks_the_password_of_the_url(project, pg_server, empty_db, dbops, sql):
    sql(pg_server.admin_url, "DROP ROLE IF EXISTS status_reader")
    sql(pg_server.admin_url, "CREATE ROLE status_reader LOGIN PASSWORD 'hunter2-secret' SUPERUSER")
    url = empty_db.replace("postgresql://postgres@", "postgresql://status_reader:hunter2-secret@")
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    try:
        result = dbops("status", "demo", "--database-url", url, env=proj.env)
        assert result.exit_code == 1  # pending
        assert "hunter2-secret" not in result.output
        assert "status_reader:***@" in result.output
    finally:
        sql(pg_server.admin_url, "DROP ROLE IF EXISTS status_reader")


def test_status_formats_sarif_and_github_point_drift_at_the_models(healthcare_db, dbops, sql, validate_sarif):
    models = "src/platformdb/healthcare/models.py"
    lines = (REPO / models).read_text().splitlines()
    clinic_class = next(i for i, line in enumerate(lines, 1) if line.startswith("class Clinic("))
    phone = next(i for i, line in enumerate(lines, 1) if i > clinic_class and line.strip().startswith("phone:"))
    sql(healthcare_db, "ALTER TABLE clinics ADD COLUMN fax text")  # made by hand: no model line, the class's
    sql(healthcare_db, "ALTER TABLE clinics DROP COLUMN phone")  # missing: the model's column line

    sarif = dbops("status", "healthcare", "--database-url", healthcare_db, "--format", "sarif")
    assert sarif.exit_code == 1
    (run,) = validate_sarif(sarif.stdout)["runs"]  # valid SARIF 2.1.0, the rule described by the catalog
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["id"] == "model-drift" and "\n" not in rule["shortDescription"]["text"]
    where = {r["message"]["text"].split(":")[2].strip(): r["locations"][0]["physicalLocation"] for r in run["results"]}
    assert where["column clinics.fax"] == {"artifactLocation": {"uri": models}, "region": {"startLine": clinic_class}}
    assert where["column clinics.phone"] == {"artifactLocation": {"uri": models}, "region": {"startLine": phone}}
    assert {r["ruleId"] for r in run["results"]} == {"model-drift"}

    github = dbops("status", "healthcare", "--database-url", healthcare_db, "--format", "github")
    assert github.exit_code == 1
    assert f"::error file={models},line={phone}," in github.stdout

    as_json = json.loads(dbops("status", "healthcare", "--database-url", healthcare_db, "--format", "json").stdout)
    assert as_json["up_to_date"] is False and {f["rule"] for f in as_json["findings"]} == {"model-drift"}


def test_status_pending_revision_is_a_finding_at_its_file(project, empty_db, dbops, validate_sarif):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")', doc="create a")
    result = dbops("status", "demo", "--database-url", empty_db, "--format", "github", env=proj.env)
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=migrations/demo/versions/0001_create_a.py,line=1,")
    sarif = dbops("status", "demo", "--database-url", empty_db, "--format", "sarif", env=proj.env)
    (run,) = validate_sarif(sarif.stdout)["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["revision-pending"]
