"""The lint engine: splitting, positions, suppressions, the transaction model, DO blocks, cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.config import load_settings
from dbops.errors import InputError
from dbops.lint import lint_paths, lint_sql
from dbops.lint.sqltext import split

LT = "SET lock_timeout = '2s';\n"


def by_rule(report, rule):
    return [f for f in report.findings if f.rule == rule]


def test_split_keeps_dollar_bodies_and_begin_atomic_whole() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; SELECT 2; $body$ LANGUAGE sql;\n"
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
        "  SELECT CASE WHEN true THEN 1 END;\nEND;\n"
        "  CREATE INDEX i ON t (a);"
    )
    statements = split(sql)
    assert [(s.line, s.column) for s in statements] == [(1, 1), (2, 1), (7, 3)]
    assert sql[statements[1].start:statements[1].end].endswith("END")


def test_findings_carry_exact_line_and_column() -> None:
    sql = LT + "-- a comment\n\n   CREATE INDEX i\n     ON users (email);\n"
    [finding] = by_rule(lint_sql(sql), "require-concurrent-index")
    assert (finding.line, finding.column) == (4, 4)
    assert finding.excerpt.startswith("CREATE INDEX i")
    assert "squawk:require-concurrent-index-creation" in finding.aliases


def test_suppression_on_the_line_above_and_on_the_statement() -> None:
    above = LT + "-- dbops: ignore[require-concurrent-index] tiny lookup table\nCREATE INDEX i ON users (a);"
    trailing = LT + "CREATE INDEX i ON users (a); -- dbops: ignore[require-concurrent-index] tiny table"
    for sql in (above, trailing):
        report = lint_sql(sql)
        assert not by_rule(report, "require-concurrent-index")
        assert not by_rule(report, "invalid-suppression")
    # a suppression belongs to one statement only
    two = LT + "-- dbops: ignore[require-concurrent-index] tiny\nCREATE INDEX i ON a (x);\nCREATE INDEX j ON b (x);"
    assert [f.line for f in by_rule(lint_sql(two), "require-concurrent-index")] == [4]


def test_ignore_file_and_aliases() -> None:
    sql = ("-- dbops: ignore-file[require-concurrent-index] built in the maintenance window\n" + LT
           + "CREATE INDEX i ON a (x);\nCREATE INDEX j ON b (x);\n"
           "-- dbops: ignore[squawk:ban-drop-column] column unused since v12\nALTER TABLE a DROP COLUMN old;")
    report = lint_sql(sql)
    assert not by_rule(report, "require-concurrent-index")
    assert not by_rule(report, "drop-column")


def test_suppression_problems_are_warnings() -> None:
    report = lint_sql(LT + "-- dbops: ignore[require-concurrent-index]\nCREATE INDEX i ON a (x);\n"
                      "-- dbops: ignore[no-such-rule] because\nCREATE INDEX j ON b (x);")
    problems = by_rule(report, "invalid-suppression")
    assert [p.line for p in problems] == [2, 4]
    assert all(p.severity.value == "warning" for p in problems)
    assert "without a reason" in problems[0].message and "unknown rule" in problems[1].message
    assert [f.line for f in by_rule(report, "require-concurrent-index")] == [5]


def test_directive_inside_a_string_is_not_a_suppression() -> None:
    sql = LT + "CREATE INDEX i ON a (x) WHERE note = '-- dbops: ignore[require-concurrent-index] x';"
    assert by_rule(lint_sql(sql), "require-concurrent-index")


def test_transaction_model_for_concurrently() -> None:
    index = "CREATE INDEX CONCURRENTLY i ON users (email);"
    assert not by_rule(lint_sql(LT + index), "concurrently-in-transaction")
    assert by_rule(lint_sql(LT + index, assume_in_transaction=True), "concurrently-in-transaction")
    assert by_rule(lint_sql(LT + "BEGIN;\n" + index + "\nCOMMIT;"), "concurrently-in-transaction")
    assert not by_rule(lint_sql(LT + "BEGIN;\nCOMMIT;\n" + index), "concurrently-in-transaction")
    # runners' no-transaction markers turn --assume-in-transaction off for that file
    marked = "-- dbops: no-transaction\n" + LT + index
    assert not by_rule(lint_sql(marked, assume_in_transaction=True), "concurrently-in-transaction")
    # a DO block is one transaction
    do = LT + "DO $$ BEGIN CREATE INDEX CONCURRENTLY i ON users (email); END $$;"
    assert by_rule(lint_sql(do), "concurrently-in-transaction")


def test_do_block_statements_are_analysed_with_their_own_lines() -> None:
    sql = LT + "DO $$\nBEGIN\n  IF true THEN\n    ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n  END IF;\nEND\n$$;"
    [finding] = by_rule(lint_sql(sql), "set-not-null")
    assert finding.line == 5
    dynamic = lint_sql(LT + "DO $$ BEGIN EXECUTE 'DROP TABLE ' || 'x'; END $$;")
    [unanalysed] = by_rule(dynamic, "unanalysed")
    assert "dynamic SQL" in unanalysed.message
    assert unanalysed.severity.value == "info"


def test_a_statement_that_crashes_the_analyser_is_unanalysed(monkeypatch: pytest.MonkeyPatch) -> None:
    from dbops.lint.facts import create

    def boom(*_args, **_kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(create, "create_index", boom)
    report = lint_sql(LT + "CREATE INDEX i ON a (x);\nALTER TABLE a DROP COLUMN y;")
    assert [f.line for f in by_rule(report, "unanalysed")] == [2]
    assert by_rule(report, "drop-column")  # the rest of the file is still linted


def test_unanalysed_severity_comes_from_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbops.locks]\nunanalysed_severity = "error"\ncache_dir = ""\n')
    (tmp_path / "m.sql").write_text("CALL something();\n")
    settings = load_settings(tmp_path, env={})
    report = lint_paths([tmp_path / "m.sql"], settings)
    assert [f.severity.value for f in report.findings] == ["error"]
    assert report.exit_code() == 1


def test_config_ignore_and_severity_override(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbops.locks]\nignore = ["require-lock-timeout"]\ncache_dir = ""\n'
        '[tool.dbops.locks.severity]\nrequire-concurrent-index = "warning"\n'
    )
    (tmp_path / "m.sql").write_text("CREATE INDEX i ON a (x);\n")
    settings = load_settings(tmp_path, env={})
    report = lint_paths([tmp_path / "m.sql"], settings)
    assert [(f.rule, f.severity.value) for f in report.findings] == [("require-concurrent-index", "warning")]


def test_malformed_sql_is_an_input_error_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbops.locks]\ncache_dir = ""\n')
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$\n SELECT 1;\n")
    with pytest.raises(InputError) as info:
        lint_paths([bad], load_settings(tmp_path, env={}))
    assert info.value.location.endswith("bad.sql:2")
    (tmp_path / "latin.sql").write_bytes(b"SELECT 1;\nSELECT '\xe9';\n")
    with pytest.raises(InputError) as info:
        lint_paths([tmp_path / "latin.sql"], load_settings(tmp_path, env={}))
    assert info.value.location.endswith("latin.sql:2")


def test_history_and_cache_across_files(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbops.locks]\ncache_dir = ".cache"\n')
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "001_create.sql").write_text("CREATE TABLE notes (id bigint, body varchar(20));\n")
    (migrations / "002_widen.sql").write_text(LT + "ALTER TABLE notes ALTER COLUMN body TYPE varchar(200);\n")
    (migrations / "003_index.sql").write_text(LT + "CREATE INDEX notes_body_idx ON notes (body);\n")
    settings = load_settings(tmp_path, env={})
    cold = lint_paths([migrations], settings)
    # 002 widens a varchar known from 001: catalog-only, not flagged; 003's table exists since 001: flagged
    assert [(Path(f.file).name, f.rule) for f in cold.findings] == [("003_index.sql", "require-concurrent-index")]
    assert cold.summary["cache_hits"] == 0
    warm = lint_paths([migrations], settings)
    assert warm.summary["cache_hits"] == 3
    assert [f.to_dict() for f in warm.findings] == [f.to_dict() for f in cold.findings]
    (migrations / "003_index.sql").write_text(LT + "CREATE INDEX CONCURRENTLY notes_body_idx ON notes (body);\n")
    changed = lint_paths([migrations], settings)
    assert changed.summary["cache_hits"] == 2
    assert changed.findings == []


def test_squawk_ignore_comments_suppress_the_aliased_rules() -> None:
    sql = (LT + "ALTER TABLE lti13_users\n-- squawk-ignore constraint-missing-not-valid, disallowed-unique-constraint\n"
           "ADD CONSTRAINT k UNIQUE (a, b);\n"
           "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u;\n"
           "-- squawk-ignore prefer-robust-stmts\nCREATE INDEX i ON t (a);\n")
    report = lint_sql(sql)
    assert {(f.rule, f.line) for f in report.findings} == {
        ("constraint-missing-not-valid", 5), ("require-concurrent-index", 7)}
    whole = lint_sql("-- squawk-ignore-file ban-drop-column\n" + LT + "ALTER TABLE t DROP COLUMN c;")
    assert whole.findings == []  # no invalid-suppression either: squawk's syntax has no reason field


def test_bookkeeping_updates_are_not_backfills() -> None:
    offline = (LT + "BEGIN;\nALTER TABLE clients ADD COLUMN note text;\n"
               "UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';\nCOMMIT;")
    assert not by_rule(lint_sql(offline), "backfill-in-ddl-transaction")
    assert not by_rule(lint_sql(offline), "statements-after-exclusive-lock")


def test_pg_dump_style_input_copy_data_and_meta_commands() -> None:
    dump = ("\\connect healthcare\nSET lock_timeout = '2s';\nCOPY public.t (a, b) FROM stdin;\n1\t'x\n2\t;\n\\.\n"
            "CREATE INDEX i ON t (a);\n")
    report = lint_sql(dump)
    assert [(f.rule, f.line) for f in report.findings] == [("require-concurrent-index", 7)]
    assert report.summary["statements"] == 3


def test_the_lint_meets_the_complexity_limit() -> None:
    """Every function of the lint (and the catalog and renderers) within ruff's C901 limit of 10."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this interpreter")
    targets = ["src/dbops/lint", "src/dbops/findings", "src/dbops/cli/lint_cmds.py", "src/dbops/cli/entry.py",
               "src/dbops/health/checks.py", "src/dbops/health/model.py"]
    proc = subprocess.run([str(ruff), "check", "--select", "C901", "--config", "lint.mccabe.max-complexity = 10",
                           *targets], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_bookkeeping_tables_come_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dbops.locks]\ncache_dir = ""\nbookkeeping_tables = ["migrations"]\n')
    (tmp_path / "m.sql").write_text(LT + "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nUPDATE migrations SET done = true;\n"
                                    "UPDATE alembic_version SET version_num = 'x';\nCOMMIT;\n")
    report = lint_paths([tmp_path / "m.sql"], load_settings(tmp_path, env={}))
    assert [f.line for f in by_rule(report, "backfill-in-ddl-transaction")] == [5]
