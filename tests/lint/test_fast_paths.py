"""The lint's fast paths change nothing but speed: same output, same findings, fewer imports.

* the console script's fast path (`dbops.cli.entry` → `lint_cmds.fast_check_locks`) prints
  exactly what the typer command prints, and hands every other call to typer;
* a warm rerun (every file a cache hit) loads neither the parser, nor the rule modules, nor
  Alembic/SQLAlchemy — checked in a fresh process;
* the cache survives corruption (a cold run) and never serves stale findings;
* the `actions=` prefilter of the rule dispatch never hides a violation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dbops.config import load_settings
from dbops.lint import lint_paths

LT = "SET lock_timeout = '2s';\n"
FILES = {
    "001_create.sql": "CREATE TABLE notes (id bigint, body varchar(20), meta json);\n",
    "002_alter.sql": LT + "ALTER TABLE users ADD COLUMN nickname text NOT NULL, DROP COLUMN legacy;\n"
                          "CREATE INDEX users_nick_idx ON users (nickname);\n",
    "003_widen.sql": "ALTER TABLE notes ALTER COLUMN body TYPE varchar(200);\nCALL rebuild();\n",
    "004_ok.sql": LT + "-- dbops: ignore[drop-table] the table was never used\nDROP TABLE old_things;\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.dbops]\n[tool.dbops.locks]\ncache_dir = ".cache"\n')
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name, sql in FILES.items():
        (migrations / name).write_text(sql)
    monkeypatch.setenv("DBOPS_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(entry: str, args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    if entry == "fast":
        from dbops.cli.entry import run
    else:
        from dbops.cli.main import run
    capsys.readouterr()
    code = run(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _stable(fmt: str, out: str) -> str:
    if fmt != "json":
        return out
    data = json.loads(out)
    for part in data["summary"].values():
        if isinstance(part, dict):
            part.pop("seconds", None)
            part.pop("cache_hits", None)
    return json.dumps(data, sort_keys=True)


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "text"])
def test_fast_path_prints_what_the_typer_command_prints(project: Path, capsys, fmt: str) -> None:
    args = ["check", "locks", "migrations", "--pg-version", "16", "--format", fmt]
    typer_code, typer_out, typer_err = _run("typer", args, capsys)  # cold: fills the cache
    fast_code, fast_out, fast_err = _run("fast", args, capsys)  # warm
    assert (fast_code, _stable(fmt, fast_out), fast_err) == (typer_code, _stable(fmt, typer_out), typer_err)
    assert typer_code == 1 and "drop-column" in typer_out and "unanalysed" in typer_out
    cold_again = _run("typer", args, capsys)
    assert (cold_again[0], _stable(fmt, cold_again[1])) == (typer_code, _stable(fmt, typer_out))


def test_fast_path_hands_other_calls_to_typer(project: Path, capsys) -> None:
    from dbops.cli.lint_cmds import fast_check_locks, parse_fast_args

    assert parse_fast_args(["-q", "-f", "json", "check", "locks", "a.sql", "--no-assume-in-transaction"]) == {
        "paths": ["a.sql"], "format": "json", "assume_in_transaction": False, "pg_version": None}
    for args in (
        ["check", "locks"],  # the revisions: typer
        ["check", "locks", "a.sql", "--schema", "healthcare"],
        ["check", "locks", "a.sql", "--pg-version", "8"],  # out of range: typer's error message
        ["check", "locks", "a.sql", "--pg-version", "1_6"],
        ["check", "locks", "a.sql", "--format", "yaml"],
        ["check", "locks", "a.sql", "--help"],
        ["check", "locks", "--", "a.sql"],
        ["check", "locks", "a.sql", "-q"],  # a global option after the command: typer's error
        ["--debug", "check", "locks", "a.sql"],
        ["rules"],
        [],
    ):
        assert parse_fast_args(args) is None, args
    assert fast_check_locks(["check", "locks", "-"]) is None  # stdin is read once, by typer
    # errors go to the typer command too: one line, exit 2, no traceback
    code, _out, err = _run("fast", ["check", "locks", "missing.sql"], capsys)
    assert code == 2 and "missing.sql" in err and "Traceback" not in err
    code, _out, err = _run("fast", ["check", "locks", "--pg-version", "8", "migrations"], capsys)
    assert code == 2 and "pg-version" in err


def test_a_warm_rerun_imports_no_parser_rules_or_alembic(project: Path) -> None:
    env = {**os.environ, "DBOPS_PROJECT_DIR": str(project)}
    script = textwrap.dedent("""
        import sys
        from dbops.cli.entry import run
        code = run(["check", "locks", "migrations", "--format", "json"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlglot", "alembic", "sqlalchemy", "typer",
                       "pickle") or m.startswith(("dbops.lint.rules", "dbops.lint.facts", "dbops.lint.engine")))
        print("HEAVY", heavy, "CODE", code, file=sys.stderr)
    """)

    def run() -> tuple[list[str], str]:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=project)
        line = next(x for x in proc.stderr.splitlines() if x.startswith("HEAVY"))
        return line, proc.stdout

    cold_line, cold_out = run()
    assert "dbops.lint.engine" in cold_line and "sqlglot" in cold_line  # the cold run did lint
    warm_line, warm_out = run()
    assert warm_line == "HEAVY [] CODE 1", warm_line
    assert _stable("json", warm_out) == _stable("json", cold_out)
    assert json.loads(warm_out)["summary"]["files"]["cache_hits"] == len(FILES)


def test_a_corrupt_or_foreign_cache_is_a_cold_run(project: Path) -> None:
    settings = load_settings(project, env={})
    cold = lint_paths([project / "migrations"], settings)
    cache_file = project / ".cache" / "locks.cache"
    assert cache_file.is_file()
    for garbage in (b"", b"\x00not marshal", cache_file.read_bytes()[:100]):
        cache_file.write_bytes(garbage)
        again = lint_paths([project / "migrations"], settings)
        assert again.summary["cache_hits"] == 0
        assert [f.to_dict() for f in again.findings] == [f.to_dict() for f in cold.findings]
    warm = lint_paths([project / "migrations"], settings)
    assert warm.summary["cache_hits"] == len(FILES)
    assert [f.to_dict() for f in warm.findings] == [f.to_dict() for f in cold.findings]
    # other options (another PostgreSQL version) never reuse these entries
    other = lint_paths([project / "migrations"], settings, pg_version=10)
    assert other.summary["cache_hits"] == 0


def test_the_rule_prefilter_never_hides_a_violation() -> None:
    """Every rule a statement's shape skips reports nothing on it, in any context tried."""
    from dbops.lint.context import Catalog, Context
    from dbops.lint.engine import dispatch, prepare, rules_for
    from dbops.lint.rules import __path__ as rules_path  # noqa: F401  (the rules are loaded by dispatch)

    sql = """
        ALTER TABLE t ADD COLUMN a int DEFAULT random(), ADD COLUMN b serial PRIMARY KEY, ADD COLUMN c json;
        ALTER TABLE t ADD COLUMN d int NOT NULL REFERENCES u (id), ADD CONSTRAINT k UNIQUE (a);
        ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID, VALIDATE CONSTRAINT f;
        ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (a WITH &&), ADD CONSTRAINT c CHECK (a > 0);
        ALTER TABLE t ALTER COLUMN a TYPE bigint, ALTER COLUMN b SET NOT NULL, ALTER COLUMN c DROP NOT NULL;
        ALTER TABLE t ALTER COLUMN c TYPE json, RENAME COLUMN a TO z;
        ALTER TABLE t RENAME TO s;
        ALTER TABLE t DROP COLUMN a, DROP CONSTRAINT k, SET (fillfactor = 70), OWNER TO me;
        ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;
        ALTER TABLE p DETACH PARTITION p2;
        ALTER TABLE p ATTACH PARTITION p3 FOR VALUES IN (1);
        CREATE INDEX CONCURRENTLY i ON t (a);
        CREATE TABLE n (j json);
    """
    stmts, _index, _raws = prepare(sql, "m.sql")
    table = dispatch()
    checked = 0
    for stmt in stmts:
        allowed = set(map(id, rules_for(stmt)))
        for rule in table.get(stmt.kind, table["*"]):
            if id(rule) in allowed:
                continue
            for pg, in_tx, phase, created in ((10, True, None, False), (16, True, None, False),
                                              (16, False, "contract", False), (16, True, None, True)):
                ctx = Context(pg_version=pg, phase=phase, catalog=Catalog())
                if created:
                    ctx.created_tables.add(stmt.table)
                ctx.begin("explicit" if in_tx else "single")
                ctx.tx.not_valid[(stmt.table, "f")] = stmt
                assert list(rule.check(stmt, ctx) or ()) == [], (rule.id, stmt.text)
                checked += 1
    assert checked > 50  # the prefilter does skip rules on these statements


def test_lazy_rule_loading_still_reports_engine_rules_in_a_fresh_process() -> None:
    """A migration without statements never reaches the rule dispatch: the engine rules still apply."""
    script = ("from dbops.lint import lint_sql; "
              "print([f.rule for f in lint_sql('-- dbops: ignore-file[drop-column]\\n').findings])")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "['invalid-suppression']"
