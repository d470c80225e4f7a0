"""`dbops check locks` and `dbops rules` through the CLI (in-process; no database needed)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path):
    from dbops.cli.main import run

    (tmp_path / "pyproject.toml").write_text('[tool.dbops]\n[tool.dbops.locks]\ncache_dir = ""\n')
    monkeypatch.setenv("DBOPS_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, stdin: str | None = None, project: Path | None = None):
        if project is not None:
            monkeypatch.setenv("DBOPS_PROJECT_DIR", str(project))
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


BAD = "CREATE INDEX users_email_idx ON users (email);\n"
SAFE = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"


def test_exit_codes_and_text_output(cli, tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text(BAD)
    (tmp_path / "safe.sql").write_text(SAFE)
    code, out, _ = cli("check", "locks", "bad.sql")
    assert code == 1
    assert "bad.sql:1:1" in out and "require-concurrent-index" in out and "CONCURRENTLY" in out
    code, out, _ = cli("check", "locks", "safe.sql")
    assert code == 0 and "no findings" in out


def test_json_sarif_and_github_formats(cli, tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text(BAD)
    code, out, _ = cli("check", "locks", "bad.sql", "--format", "json")
    data = json.loads(out)
    assert code == 1
    finding = next(f for f in data["findings"] if f["rule"] == "require-concurrent-index")
    assert (finding["file"], finding["line"], finding["column"], finding["severity"]) == ("bad.sql", 1, 1, "error")
    assert "squawk:require-concurrent-index-creation" in finding["aliases"]
    assert data["summary"]["files"]["statements"] == 1
    code, out, _ = cli("check", "locks", "bad.sql", "--format", "sarif")
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"require-concurrent-index"}
    code, out, _ = cli("check", "locks", "bad.sql", "--format", "github")
    assert code == 1
    assert "::error file=bad.sql,line=1,col=1,title=require-concurrent-index::" in out


def test_stdin_pg_version_and_assume_in_transaction(cli) -> None:
    code, _out, _ = cli("check", "locks", "-", stdin=SAFE)
    assert code == 0
    code, out, _ = cli("check", "locks", "-", "--assume-in-transaction", "--format", "json", stdin=SAFE)
    assert code == 1
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["concurrently-in-transaction"]
    reindex = "SET lock_timeout = '2s';\nREINDEX TABLE users;\n"
    assert cli("check", "locks", "-", "--pg-version", "11", stdin=reindex)[0] == 0
    assert cli("check", "locks", "-", "--pg-version", "16", stdin=reindex)[0] == 1


def test_bad_input_is_exit_2_with_file_and_line(cli, tmp_path: Path) -> None:
    (tmp_path / "broken.sql").write_text("SELECT 1;\n\nSELECT 'unterminated;\n")
    code, _out, err = cli("check", "locks", "broken.sql")
    assert code == 2
    assert "broken.sql:3" in err and "unterminated" in err and "Traceback" not in err
    code, _out, err = cli("check", "locks", "missing.sql")
    assert code == 2 and "missing.sql" in err


def test_rules_list_and_one_rule(cli) -> None:
    code, out, _ = cli("rules")
    assert code == 0
    assert "require-concurrent-index" in out and "set-not-null" in out
    code, out, _ = cli("rules", "set-not-null")
    assert code == 0
    assert "## Why is this bad?" in out and "VALIDATE CONSTRAINT" in out
    code, out, _ = cli("rules", "require-concurrent-index-creation")  # a squawk name finds the rule
    assert code == 0 and out.startswith("require-concurrent-index ")
    code, _out, err = cli("rules", "no-such-rule")
    assert code == 2 and "unknown rule" in err


def test_project_revisions_lint_clean_through_the_cli(cli) -> None:
    code, out, err = cli("check", "locks", "--format", "json", project=REPO)
    assert code == 0, out + err
    assert not [f for f in json.loads(out)["findings"] if f["severity"] != "info"]
