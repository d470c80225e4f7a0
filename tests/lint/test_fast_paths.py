"""The lint's fast paths change nothing but speed: same output, same findings, fewer imports.

* the console script's fast path (`dbops.cli.entry` → `lint_cmds.fast_check_locks`) prints
  exactly what the typer command prints, and hands every other call to typer;
* a warm rerun (every file a cache hit) loads neither the parser, nor the rule modules, nor
  Alembic/SQLAlchemy — checked in a fresh process;
* the cache survives corruption (a cold run) and never serves stale findings;
* the fast path parses with the command's own option spec (the same as typer's) and reports
  errors once, as the typer command does;
* action rules run once per ALTER TABLE action; a typo in a rule's kinds fails at import.
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
    from dbops.cli.lint_cmds import parse_args

    parsed = parse_args(["-q", "-f", "json", "check", "locks", "a.sql", "--no-assume-in-transaction"])
    assert (parsed.paths, parsed.values, parsed.globals) == (
        ["a.sql"], {"assume_in_transaction": False}, {"quiet": True, "fmt": "json"})
    for args in (
        ["check", "locks", "a.sql", "--pg-version", "8"],  # out of range: typer's error message
        ["check", "locks", "a.sql", "--pg-version", "1_6"],
        ["check", "locks", "a.sql", "--format", "yaml"],
        ["check", "locks", "a.sql", "--help"],
        ["check", "locks", "--", "a.sql"],
        ["check", "locks", "a.sql", "-q"],  # a global option after the command: typer's error
        ["check", "locks", "a.sql", "--pg-version"],
        ["check", "locks", "-s=healthcare"],
        ["--debug", "check", "locks", "a.sql"],
        ["rules"],
        [],
    ):
        assert parse_args(args) is None, args
    # errors are reported once, as the typer command reports them: one line, exit 2, no traceback
    code, _out, err = _run("fast", ["check", "locks", "missing.sql"], capsys)
    assert code == 2 and "missing.sql" in err and "Traceback" not in err
    assert err == _run("typer", ["check", "locks", "missing.sql"], capsys)[2]
    code, _out, err = _run("fast", ["check", "locks", "--pg-version", "8", "migrations"], capsys)
    assert code == 2 and "pg-version" in err


def test_the_option_spec_is_what_typer_parses(project: Path) -> None:
    """The fast path's parser and typer's (click's) agree on every spelling the spec accepts."""
    import typer.main

    from dbops.cli.lint_cmds import CHECK_LOCKS_OPTIONS, parse_args
    from dbops.cli.main import app

    command = typer.main.get_command(app).commands["check"].commands["locks"]
    params = {p.name: p for p in command.params}
    for opt in CHECK_LOCKS_OPTIONS:  # the typer command is built from the spec
        assert set(opt.flags) <= set(params[opt.dest].opts), opt.dest
        assert params[opt.dest].help == opt.help
        if opt.off:
            assert params[opt.dest].secondary_opts == [opt.off]
    assert set(params) == {o.dest for o in CHECK_LOCKS_OPTIONS} | {"paths"}
    forms = [
        ["a.sql"], ["a.sql", "b.sql", "-"], ["-s", "healthcare"], ["--schema=fashion", "--since", "abc123"],
        ["a.sql", "--assume-in-transaction", "--pg-version=12"], ["--no-assume-in-transaction", "a.sql"],
        ["a.sql", "--format", "sarif"], ["a.sql", "-f", "github", "--pg-version", "16"],
        ["a.sql", "--database-url", "postgresql://u@h/db"], ["a.sql", "--pg-version", "16", "--pg-version", "11"],
    ]
    for form in forms:
        parsed = parse_args(["check", "locks", *form])
        assert parsed is not None, form
        clicked = command.make_context("locks", list(form)).params
        ours = {o.dest: None for o in CHECK_LOCKS_OPTIONS}
        ours.update(parsed.values)
        theirs = {k: (v.value if hasattr(v, "value") else v) for k, v in clicked.items() if k != "paths"}
        assert ours == theirs, form
        assert parsed.paths == list(clicked["paths"] or []), form


def test_an_unexpected_error_is_one_line_exit_70_like_the_typer_app(project: Path, capsys, monkeypatch) -> None:
    from dbops.cli import lint_cmds

    def boom(*_args, **_kwargs):
        raise RuntimeError("boom at postgresql://u:hunter2@h/db")

    monkeypatch.setattr(lint_cmds, "check_locks_report", boom)
    fast = _run("fast", ["check", "locks", "migrations"], capsys)
    slow = _run("typer", ["check", "locks", "migrations"], capsys)
    assert fast == slow
    assert fast[0] == 70 and fast[2].count("\n") == 1 and "RuntimeError: boom" in fast[2]
    assert "hunter2" not in fast[2]


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


def test_action_rules_run_once_per_action_of_their_kinds() -> None:
    """An action rule is called for each ALTER TABLE action it reads — and only on existing tables."""
    from dbops.lint.facts.model import ActionKind, Kind
    from dbops.lint.registry import RULES, load_rules

    load_rules()
    sql = ("ALTER TABLE t DROP COLUMN a, DROP COLUMN b, ADD COLUMN c int;\n"
           "CREATE TABLE n (id int);\nALTER TABLE n DROP COLUMN id;\n")
    from dbops.lint import lint_sql

    found = [(f.line, f.rule) for f in lint_sql(sql).findings if f.rule == "drop-column"]
    assert found == [(1, "drop-column"), (1, "drop-column")]  # two actions, the new table not at all
    rule = RULES["drop-column"]
    assert rule.actions == {ActionKind.DROP_COLUMN} and rule.check is None
    assert Kind.ALTER_TABLE not in rule.kinds


def test_a_typo_in_kinds_fails_at_registration() -> None:
    from dbops.lint.registry import action_rule, rule

    with pytest.raises(ValueError, match="create_indx"):
        rule("typo-rule", kinds=("create_indx",))
    with pytest.raises(ValueError, match="add_colum"):
        action_rule("typo-rule", actions=("add_colum",))
    with pytest.raises(ValueError, match="names the ALTER TABLE actions"):
        action_rule("typo-rule", actions=())


def test_lazy_rule_loading_still_reports_engine_rules_in_a_fresh_process() -> None:
    """A migration without statements never reaches the rule dispatch: the engine rules still apply."""
    script = ("from dbops.lint import lint_sql; "
              "print([f.rule for f in lint_sql('-- dbops: ignore-file[drop-column]\\n').findings])")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "['invalid-suppression']"
