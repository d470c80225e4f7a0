"""SARIF 2.1.0 and GitHub annotations: valid against the vendored schema, rules described by the catalog.

Every check's SARIF rendering is validated: ``check locks`` here (files and revisions), ``check indexes``
on a database with defects, ``check all`` (budgets, types, drift) in ``tests/budgets/test_check_all.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from dbops.findings import Finding, Report, Severity, to_github, to_sarif

REPO = Path(__file__).resolve().parents[2]


def _cases():
    spec = importlib.util.spec_from_file_location("dbops_rule_cases", Path(__file__).with_name("rule_cases.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def _check_descriptors(run: dict) -> None:
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({r["ruleId"] for r in run["results"]})
    for rule in rules:
        assert rule["shortDescription"]["text"] and "\n" not in rule["shortDescription"]["text"], rule["id"]
        assert len(rule["fullDescription"]["text"]) > len(rule["shortDescription"]["text"]), rule["id"]
        assert "helpUri" not in rule or rule["helpUri"].startswith("https://"), rule["id"]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_check_locks_sarif_is_valid_and_describes_every_rule(dbops, tmp_path: Path, validate_sarif) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbops]\n[tool.dbops.locks]\ncache_dir = ""\n')
    migrations = tmp_path / "m"
    migrations.mkdir()
    number = 0
    for rule_id, cases in sorted(_cases().items()):
        for label, sql, kwargs in cases:
            if label.startswith("bad") and not kwargs:
                number += 1
                (migrations / f"{number:03d}_{rule_id}.sql").write_text(sql + "\n")
    result = dbops("check", "locks", str(migrations), "--format", "sarif", env={"DBOPS_PROJECT_DIR": str(tmp_path)})
    assert result.exit_code == 1
    run = validate_sarif(result.stdout)["runs"][0]
    _check_descriptors(run)
    assert len({r["ruleId"] for r in run["results"]}) >= 28
    for result_ in run["results"]:
        [location] = result_["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith(".sql") and physical["region"]["startLine"] >= 1


def test_revisions_sarif_points_at_the_revision_files(dbops, validate_sarif) -> None:
    result = dbops("check", "locks", "--format", "sarif", env={"DBOPS_PROJECT_DIR": str(REPO)})
    run = validate_sarif(result.stdout)["runs"][0]
    _check_descriptors(run)
    for result_ in run["results"]:
        uri = result_["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("migrations/") and uri.endswith(".py")


def test_check_indexes_sarif_is_valid(settings, healthcare_db: str, validate_sarif) -> None:
    import psycopg

    from dbops.cli.catalog import rule_catalog
    from dbops.health import audit

    with psycopg.connect(healthcare_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE h1_orphans (id bigint, clinic_id bigint REFERENCES clinics (id))")
        conn.execute("CREATE INDEX h1_a ON h1_orphans (id)")
        conn.execute("CREATE INDEX h1_b ON h1_orphans (id)")
    report = audit([healthcare_db], settings, schema_only=True)
    rules = {f.rule for f in report.findings}
    assert {"duplicate-indexes", "fk-without-index", "tables-without-primary-key"} <= rules
    run = validate_sarif(to_sarif(report, rule_catalog()))["runs"][0]
    _check_descriptors(run)
    assert all("logicalLocations" in r["locations"][0] for r in run["results"])


def test_github_annotations_carry_the_file_and_no_doubled_prefix() -> None:
    report = Report([
        Finding("model-drift", Severity.ERROR, "healthcare: the migrations differ from the models: column x",
                object="healthcare"),
        Finding("unused-indexes", Severity.WARNING, "0 scans on public.t", object="public.t_idx"),
        Finding("require-concurrent-index", Severity.ERROR, "CREATE INDEX …", file="m/001 a.sql", line=3, column=1),
    ])
    lines = to_github(report).splitlines()
    assert "::error file=m/001 a.sql,line=3,col=1,title=require-concurrent-index::CREATE INDEX …" in lines
    drift = next(line for line in lines if "model-drift" in line)
    assert drift.endswith("::healthcare: the migrations differ from the models: column x")
    assert any(line.endswith("::public.t_idx: 0 scans on public.t") for line in lines)


@pytest.mark.parametrize("rule_id", ["budget-select-star", "require-concurrent-index-creation", "unused-indexes",
                                     "types-stale", "model-drift"])
def test_dbops_rules_documents_every_check(dbops, rule_id: str) -> None:
    result = dbops("rules", rule_id)
    assert result.exit_code == 0, result.stderr
    assert "default severity" in result.stdout and len(result.stdout.splitlines()) >= 5


def test_the_catalog_has_unique_ids_one_line_titles_and_the_docs_are_current(dbops) -> None:
    from dbops.cli.catalog import rule_catalog

    catalog = rule_catalog()
    checks = {meta.check for meta in catalog.values()}
    assert checks == {"locks", "indexes", "budgets", "types", "drift", "status"}
    assert len(catalog) >= 31 + 22 + 13
    result = dbops("rules", "--markdown")
    assert result.stdout == (REPO / "docs" / "rules.md").read_text(encoding="utf-8"), \
        "docs/rules.md is stale: `dbops rules --markdown > docs/rules.md`"
    listing = dbops("rules")
    assert all(rule in listing.stdout for rule in ("require-concurrent-index", "unused-indexes", "budget-latency"))


def test_sarif_of_an_empty_report_is_valid(validate_sarif) -> None:
    data = validate_sarif(to_sarif(Report([])))
    assert data["runs"][0]["results"] == [] and data["runs"][0]["tool"]["driver"]["rules"] == []
    assert json.loads(to_sarif(Report([])))["version"] == "2.1.0"
