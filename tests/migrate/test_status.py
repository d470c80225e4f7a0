"""`dbops status`: pending, drift and edited revisions; exit 1 unless up to date (real PostgreSQL)."""

from __future__ import annotations

import json


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
