"""`dbops check all`: lock safety + static budgets + generated types + model drift, one report, one exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from dbops.findings import to_json
from dbops.workflows.check_all import check_all

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_check_all_passes_on_the_repository_and_leaves_no_scratch_database(settings, pg_server):
    report = check_all(settings, admin_url=pg_server.admin_url)
    assert report.exit_code() == 0, [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]
    data = json.loads(to_json(report))
    assert set(data) == {"findings", "summary"}
    summary = data["summary"]
    assert set(summary["checks"]) == {"locks", "budgets", "types", "drift"}
    assert summary["checks"]["budgets"] == {"error": 0, "warning": 0, "info": 0}
    assert set(summary["locks"]) == set(summary["types"]) == set(summary["drift"]) == {"healthcare", "fashion"}
    assert summary["drift"]["healthcare"] == {"differences": 0}
    assert summary["types"]["fashion"]["stale"] is False
    assert len(summary["budgets"]["queries"]) >= 10
    with psycopg.connect(pg_server.admin_url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'dbops_check_%'").fetchone()[0]
    assert left == 0


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's checked inputs (config, budgets, migrations, generated types) to break."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(REPO / "budgets.yaml", tmp_path / "budgets.yaml")
    shutil.copytree(REPO / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    from dbops.config import load_settings

    for schema in load_settings(REPO, env={}).schemas.values():
        target = tmp_path / schema.types_module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / schema.types_module, target)
    return tmp_path


@pytest.mark.slow
def test_check_all_fails_with_one_exit_code_and_every_format(dbops, project: Path, validate_sarif):
    budgets = project / "budgets.yaml"
    text = budgets.read_text()
    # A change that drops the tenant filter of a hot query, and a stale generated types module.
    broken = text.replace("WHERE o.studio_id = :studio_id::BIGINT AND o.ordered_at >= :from_time",
                          "WHERE o.ordered_at >= :from_time")
    assert broken != text
    budgets.write_text(broken)
    types = project / "src/platformdb/fashion/db_types.py"
    types.write_text(types.read_text() + "\n# edited by hand\n")
    env = {"DBOPS_PROJECT_DIR": str(project)}

    result = dbops("check", "all", "--format", "json", env=env)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    found = {f["rule"] for f in data["findings"]}
    # without studio_id the orders query also loses the index that served it, and is no longer
    # the SQL its repository method sends
    assert {"budget-tenant-filter", "budget-missing-index", "budget-sql-stale", "types-stale"} <= found
    assert data["summary"]["checks"]["budgets"]["error"] == 3
    assert data["summary"]["checks"]["types"]["error"] == 1
    assert data["summary"]["checks"]["drift"]["error"] == 0
    tenant = next(f for f in data["findings"] if f["rule"] == "budget-tenant-filter")
    assert tenant["file"] == "budgets.yaml" and tenant["line"] > 1

    text = dbops("check", "all", env=env)
    assert text.exit_code == 1
    assert "static query budgets" in text.stdout and "failed" in text.stdout and "types-stale" in text.stdout

    sarif = validate_sarif(dbops("check", "all", "--format", "sarif", env=env).stdout)["runs"][0]
    described = {r["id"]: r for r in sarif["tool"]["driver"]["rules"]}
    assert {"budget-tenant-filter", "types-stale"} <= set(described)
    assert all(r["fullDescription"]["text"] != r["shortDescription"]["text"] for r in described.values())
    for result_ in sarif["results"]:  # budgets at their budgets.yaml line, types at the module
        assert result_["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] in (
            "budgets.yaml", "src/platformdb/fashion/db_types.py")

    github = dbops("check", "all", "--format", "github", env=env)
    assert github.exit_code == 1
    assert f"::error file=budgets.yaml,line={tenant['line']}" in github.stdout
    assert "::error file=src/platformdb/fashion/db_types.py" in github.stdout


def test_check_all_with_a_malformed_budgets_file_exits_2(dbops, project: Path):
    (project / "budgets.yaml").write_text("version: 1\nschemas:\n  fashion:\n    queries: 3\n")
    result = dbops("check", "all", env={"DBOPS_PROJECT_DIR": str(project)})
    assert result.exit_code == 2
    assert "budgets.yaml:4" in result.stderr
