"""Budgets are measured as the application runs its queries: as platform_app, tenant set, row-level security on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg

from dbops.budgets import check_dynamic, load_budgets

REPO = Path(__file__).resolve().parents[2]


def test_budgets_are_measured_under_row_level_security(settings, planted_healthcare):
    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    with_rls = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=1)
    without = check_dynamic(budget_file, settings, "healthcare", planted_healthcare, runs=1, rls=False)
    assert with_rls.summary["budgets"]["rls"] == "platform_app" and without.summary["budgets"]["rls"] is None
    rows = {r["query"]: r for r in with_rls.summary["budgets"]["queries"]}
    assert rows["clinic_patient_name_search"]["rls"] is False  # runs as the owner (SECURITY DEFINER)
    assert all(r["rls"] for name, r in rows.items() if name != "clinic_patient_name_search")
    assert not [f for f in with_rls.findings if f.severity.value == "error"]
    assert not [f for f in without.findings if f.severity.value == "error"]


def test_under_rls_ilike_cannot_use_the_trigram_index_but_the_definer_function_does(planted_healthcare):
    """Why clinic_patient_ids_by_name exists: ILIKE is not leakproof, so RLS keeps it out of index conditions."""
    with psycopg.connect(planted_healthcare) as conn:
        name = conn.execute(
            "SELECT name FROM users WHERE clinic_id = 1 AND role_type = 'PATIENT' ORDER BY id LIMIT 1"
        ).fetchone()[0]

        def plan() -> str:
            sql = "EXPLAIN (FORMAT JSON) SELECT id FROM users WHERE clinic_id = 1 AND name ILIKE %s"
            return json.dumps(conn.execute(sql, (f"%{name}%",)).fetchone()[0])

        assert "ix_users_name_trgm" in plan()  # as the owner
        conn.execute("SELECT set_config('role', 'platform_app', true), set_config('app.tenant_id', '1', true)")
        assert "ix_users_name_trgm" not in plan()  # as the application: a scan of the whole clinic
        ids = conn.execute("SELECT clinic_patient_ids_by_name(%s)", (name,)).fetchone()[0]
        expected = conn.execute(
            "SELECT p.id FROM patients p JOIN users u ON u.id = p.user_id WHERE u.name ILIKE %s ORDER BY p.id",
            (f"%{name}%",),
        ).fetchall()
        assert ids == [r[0] for r in expected] and ids
        conn.execute("SELECT set_config('app.tenant_id', '2', true)")  # another clinic: only its own patients
        other = conn.execute("SELECT clinic_patient_ids_by_name(%s)", (name,)).fetchone()[0]
        assert set(other).isdisjoint(ids)
        assert (
            conn.execute("SELECT count(*) FROM patients WHERE id = ANY(%s) AND clinic_id <> 2", (other,)).fetchone()[0]
            == 0
        )


def test_cli_no_rls_measures_as_the_connecting_user(dbops, planted_fashion, tmp_path):
    shutil.copy(REPO / "budgets.yaml", tmp_path / "budgets.yaml")
    result = dbops(
        "check", "budgets", "fashion", "--database-url", planted_fashion, "--runs", "1", "--no-rls", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]["budgets"]
    assert summary["databases"]["fashion"]["rls"] is None
    text = dbops("check", "budgets", "fashion", "--database-url", planted_fashion, "--runs", "1")
    assert text.exit_code == 0 and "measured as platform_app (row-level security on)" in text.stdout
