"""Each rule flags its bad case and passes its safe alternative (literal SQL, no database needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dbops.lint import RULES, lint_sql, rule_doc
from dbops.lint.api import options_from_settings
from dbops.lint.engine import lint_text


def _load_cases():
    """``rule_cases.py`` beside this file (the tests directory is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("dbops_rule_cases", Path(__file__).with_name("rule_cases.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_cases = _load_cases()
CASES, LT = _cases.CASES, _cases.LT
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("DBOPS_UPDATE_SNAPSHOTS") == "1"


def rules_of(sql: str, **kwargs) -> set[str]:
    return {f.rule for f in lint_sql(sql, **kwargs).findings}


def snapshot(rule_id: str) -> str:
    """The findings of ``rule_id`` on each of its cases: message, and the fix as SQL and as Alembic."""
    out = [f"# {rule_id}: findings on literal SQL (regenerate: DBOPS_UPDATE_SNAPSHOTS=1 pytest {Path(__file__).name})"]
    for label, sql, kwargs in CASES[rule_id]:
        options = options_from_settings(None, **kwargs)
        by_syntax = {syntax: [f for f in lint_text(sql, filename="m.sql", options=options, syntax=syntax).findings
                              if f.rule == rule_id] for syntax in ("sql", "alembic")}
        out += ["", f"## {label}" + (f"  {kwargs}" if kwargs else ""), sql, "--"]
        if not by_syntax["sql"]:
            out.append("(no finding)")
        for finding, revision in zip(by_syntax["sql"], by_syntax["alembic"], strict=True):
            out.append(f"{finding.line}:{finding.column} {finding.severity.value}: {finding.message}")
            for syntax, fix in (("sql", finding.fix), ("alembic", revision.fix)):
                if fix:
                    out.append(f"  fix ({syntax}):")
                    out += [f"    {line}" for line in fix.splitlines()]
    return "\n".join(out) + "\n"


def test_every_rule_has_cases_and_a_snapshot() -> None:
    assert set(CASES) == set(RULES)
    assert {p.stem for p in SNAPSHOTS.glob("*.txt")} == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_bad_cases_are_flagged_and_safe_ones_pass(rule_id: str) -> None:
    labels = [label.split(":")[0] for label, _sql, _kwargs in CASES[rule_id]]
    assert "bad" in labels and "safe" in labels, rule_id
    for label, sql, kwargs in CASES[rule_id]:
        flagged = rule_id in rules_of(sql, **kwargs)
        assert flagged is label.startswith("bad"), f"{rule_id} / {label}"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_messages_and_fixes_match_the_snapshot(rule_id: str) -> None:
    path = SNAPSHOTS / f"{rule_id}.txt"
    got = snapshot(rule_id)
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == got, f"{rule_id}: findings changed (DBOPS_UPDATE_SNAPSHOTS=1 to accept)"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_documentation_has_the_sections(rule_id: str) -> None:
    doc = rule_doc(rule_id)
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in doc, f"{rule_id}: missing {section}"


def test_fixes_are_complete_statements() -> None:
    """Every SQL fix that is SQL names its table (no bare ``ADD CONSTRAINT …``), Alembic fixes are Python."""
    for rule_id in CASES:
        for label, sql, kwargs in CASES[rule_id]:
            options = options_from_settings(None, **kwargs)
            for finding in lint_text(sql, filename="m.sql", options=options, syntax="alembic").findings:
                for line in (finding.fix or "").splitlines():
                    assert not line.lstrip().startswith(("ALTER", "CREATE", "DROP", "--")), (rule_id, label, line)
            for finding in lint_text(sql, filename="m.sql", options=options).findings:
                for line in (finding.fix or "").splitlines():
                    assert not line.lstrip().startswith(("ADD ", "op.", "with op", "#")), (rule_id, label, line)


def test_tables_created_in_the_same_migration_are_never_flagged() -> None:
    sql = """
    CREATE TABLE invoices (id bigint, client_id bigint, note json);
    CREATE INDEX invoices_client_idx ON invoices (client_id);
    ALTER TABLE invoices ADD COLUMN token uuid DEFAULT gen_random_uuid();
    ALTER TABLE invoices ADD CONSTRAINT fk FOREIGN KEY (client_id) REFERENCES clients (id);
    ALTER TABLE invoices ALTER COLUMN client_id SET NOT NULL;
    ALTER TABLE invoices ADD CONSTRAINT invoices_key UNIQUE (id);
    ALTER TABLE invoices RENAME COLUMN note TO notes;
    ALTER TABLE invoices DROP COLUMN token;
    """
    found = rules_of(sql)
    # Only json (not a lock rule) and the lock on the referenced existing table (clients) remain.
    assert found == {"prefer-jsonb", "require-lock-timeout"}


def test_version_dependent_rules() -> None:
    add_default = LT + "ALTER TABLE users ADD COLUMN active boolean DEFAULT true;"
    assert "add-column-volatile-default" in rules_of(add_default, pg_version=10)
    assert "add-column-volatile-default" not in rules_of(add_default, pg_version=11)
    reindex = LT + "REINDEX TABLE users;"
    assert "require-concurrent-reindex" not in rules_of(reindex, pg_version=11)
    detach = LT + "ALTER TABLE audit DETACH PARTITION p;"
    assert "require-concurrent-detach" not in rules_of(detach, pg_version=13)


@pytest.mark.parametrize(
    ("old", "new", "flagged"),
    [
        ("varchar(20)", "varchar(50)", False),
        ("varchar(20)", "text", False),
        ("numeric(10,2)", "numeric(12,2)", False),
        ("varchar(50)", "varchar(20)", True),
        ("integer", "bigint", True),
        ("timestamp", "timestamptz", True),
        ("json", "jsonb", True),
    ],
)
def test_binary_coercible_type_changes(old: str, new: str, flagged: bool) -> None:
    sql = f"CREATE TABLE t (c {old});\nCOMMIT;\n" + LT + f"ALTER TABLE t ALTER COLUMN c TYPE {new};"
    # history: the table was created by an earlier file; lint the two "files" as one run of lint_paths
    from dbops.lint.context import Catalog
    from dbops.lint.engine import Options, lint_text

    catalog = Catalog()
    lint_text(f"CREATE TABLE t (c {old});", filename="1.sql", options=Options(), catalog=catalog)
    result = lint_text(LT + f"ALTER TABLE t ALTER COLUMN c TYPE {new};", filename="2.sql", options=Options(),
                       catalog=catalog)
    assert ("column-type-rewrite" in {f.rule for f in result.findings}) is flagged
    del sql


def test_lock_timeout_is_reported_once_and_not_for_new_tables() -> None:
    assert "require-lock-timeout" not in rules_of("CREATE TABLE a (id bigint);\nCREATE INDEX a_idx ON a (id);")
    report = lint_sql("ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;")
    assert [f.rule for f in report.findings].count("require-lock-timeout") == 1
    assert "require-lock-timeout" not in rules_of("BEGIN;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE a ADD COLUMN x int;")
    assert "require-lock-timeout" in rules_of("SET lock_timeout = 0;\nALTER TABLE a ADD COLUMN x int;")


def test_partitioned_parent_index_on_only_is_safe() -> None:
    assert "require-concurrent-index" not in rules_of(LT + "CREATE INDEX audit_idx ON ONLY audit (performed_at);")


def test_phase_argument_marks_a_contract_migration() -> None:
    assert "drop-table" not in rules_of(LT + "DROP TABLE legacy_sessions;", phase="contract")
