"""Each rule flags its bad case and passes its safe alternative (literal SQL, no database needed)."""

from __future__ import annotations

import pytest

from dbops.lint import RULES, lint_sql, rule_doc

LT = "SET lock_timeout = '2s';\n"

# rule id -> (bad SQL, safe SQL, lint_sql keyword arguments)
CASES: dict[str, tuple[str, str, dict]] = {
    "require-concurrent-index": (
        LT + "CREATE INDEX users_email_idx ON users (email);",
        LT + "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
        {},
    ),
    "require-concurrent-index-drop": (
        LT + "DROP INDEX users_email_idx;",
        LT + "DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;",
        {},
    ),
    "concurrently-in-transaction": (
        LT + "BEGIN;\nCREATE INDEX CONCURRENTLY i ON users (email);\nCOMMIT;",
        LT + "CREATE INDEX CONCURRENTLY i ON users (email);",
        {},
    ),
    "require-concurrent-reindex": (
        LT + "REINDEX INDEX users_email_idx;",
        LT + "REINDEX INDEX CONCURRENTLY users_email_idx;",
        {},
    ),
    "require-concurrent-detach": (
        LT + "ALTER TABLE audit DETACH PARTITION audit_p202401;",
        LT + "ALTER TABLE audit DETACH PARTITION audit_p202401 CONCURRENTLY;",
        {},
    ),
    "add-column-volatile-default": (
        LT + "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        LT + "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();",
        {},
    ),
    "add-column-rewrite": (
        LT + "ALTER TABLE orders ADD COLUMN seq bigserial;",
        LT + "ALTER TABLE orders ADD COLUMN seq bigint;",
        {},
    ),
    "add-column-required": (
        LT + "ALTER TABLE patients ADD COLUMN phone text NOT NULL;",
        LT + "ALTER TABLE patients ADD COLUMN phone text NOT NULL DEFAULT '';",
        {},
    ),
    "set-not-null": (
        LT + "ALTER TABLE appointments ALTER COLUMN doctor_id SET NOT NULL;",
        LT + "ALTER TABLE appointments ADD CONSTRAINT a_nn CHECK (doctor_id IS NOT NULL) NOT VALID;\n"
        "COMMIT;\nALTER TABLE appointments VALIDATE CONSTRAINT a_nn;\n"
        "ALTER TABLE appointments ALTER COLUMN doctor_id SET NOT NULL;",
        {},
    ),
    "constraint-missing-not-valid": (
        LT + "ALTER TABLE appointments ADD CONSTRAINT fk FOREIGN KEY (doctor_id) REFERENCES doctors (id);",
        LT + "ALTER TABLE appointments ADD CONSTRAINT fk FOREIGN KEY (doctor_id) REFERENCES doctors (id) NOT VALID;",
        {},
    ),
    "validate-in-same-transaction": (
        LT + "BEGIN;\nALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT c;\nCOMMIT;",
        LT + "BEGIN;\nALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\nCOMMIT;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT c;",
        {},
    ),
    "unique-without-index": (
        LT + "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        LT + "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;",
        {},
    ),
    "exclude-constraint": (
        LT + "ALTER TABLE slots ADD CONSTRAINT no_overlap EXCLUDE USING gist (doctor_id WITH =, slot WITH &&);",
        LT + "CREATE TABLE slots2 (doctor_id bigint, slot tstzrange);\n"
        "ALTER TABLE slots2 ADD CONSTRAINT no_overlap EXCLUDE USING gist (doctor_id WITH =, slot WITH &&);",
        {},
    ),
    "column-type-rewrite": (
        LT + "ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint;",
        "CREATE TABLE orders (id bigint, note varchar(20));\n" + LT + "COMMIT;\n"
        "-- a later migration in the same run sees the type from history\n"
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(50);",
        {},
    ),
    "statements-after-exclusive-lock": (
        LT + "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nINSERT INTO archive SELECT * FROM other;\nCOMMIT;",
        LT + "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\nINSERT INTO archive SELECT * FROM other;",
        {},
    ),
    "backfill-in-ddl-transaction": (
        LT + "BEGIN;\nALTER TABLE clients ADD COLUMN is_active boolean;\nUPDATE clients SET is_active = true;\nCOMMIT;",
        LT + "BEGIN;\nALTER TABLE clients ADD COLUMN is_active boolean;\nCOMMIT;\nUPDATE clients SET is_active = true;",
        {},
    ),
    "require-lock-timeout": (
        "ALTER TABLE users ADD COLUMN nickname text;",
        "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;",
        {},
    ),
    "rename-object": (
        LT + "ALTER TABLE clients RENAME COLUMN phone TO phone_number;",
        LT + "ALTER TABLE clients ADD COLUMN phone_number text;",
        {},
    ),
    "drop-column": (
        LT + "ALTER TABLE clients DROP COLUMN fax;",
        "-- dbops: phase=contract\n" + LT + "ALTER TABLE clients DROP COLUMN fax;",
        {},
    ),
    "drop-table": (
        LT + "DROP TABLE legacy_sessions;",
        "-- dbops: phase=contract\n" + LT + "DROP TABLE legacy_sessions;",
        {},
    ),
    "drop-not-null": (
        LT + "ALTER TABLE patients ALTER COLUMN phone DROP NOT NULL;",
        "-- dbops: phase=contract\n" + LT + "ALTER TABLE patients ALTER COLUMN phone DROP NOT NULL;",
        {},
    ),
    "truncate-cascade": (
        LT + "TRUNCATE clients CASCADE;",
        LT + "TRUNCATE clients;",
        {},
    ),
    "prefer-jsonb": (
        LT + "ALTER TABLE products ADD COLUMN attributes json;",
        LT + "ALTER TABLE products ADD COLUMN attributes jsonb;",
        {},
    ),
    "enum-add-value-in-transaction": (
        "BEGIN;\nALTER TYPE order_status ADD VALUE 'REFUNDED';\nCOMMIT;",
        "ALTER TYPE order_status ADD VALUE 'REFUNDED';",
        {"pg_version": 11},
    ),
    "vacuum-full-or-cluster": (
        LT + "VACUUM FULL appointments;",
        LT + "VACUUM appointments;",
        {},
    ),
    "lock-table": (
        LT + "BEGIN;\nLOCK TABLE orders;\nCOMMIT;",
        LT + "BEGIN;\nLOCK TABLE orders IN ROW EXCLUSIVE MODE;\nCOMMIT;",
        {},
    ),
    "require-concurrent-refresh": (
        LT + "REFRESH MATERIALIZED VIEW clinic_stats;",
        LT + "REFRESH MATERIALIZED VIEW CONCURRENTLY clinic_stats;",
        {},
    ),
    "unanalysed": (
        LT + "CALL rebuild_everything();",
        LT + "SELECT 1;",
        {},
    ),
    "invalid-suppression": (
        LT + "-- dbops: ignore[truncate-cascade]\nTRUNCATE clients CASCADE;",
        LT + "-- dbops: ignore[truncate-cascade] the audit table is empty in every environment\nTRUNCATE clients CASCADE;",
        {},
    ),
}

def rules_of(sql: str, **kwargs) -> set[str]:
    return {f.rule for f in lint_sql(sql, **kwargs).findings}


def test_every_rule_has_a_case() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_flags_the_bad_case(rule_id: str) -> None:
    bad, _safe, kwargs = CASES[rule_id]
    assert rule_id in rules_of(bad, **kwargs)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_passes_the_safe_alternative(rule_id: str) -> None:
    _bad, safe, kwargs = CASES[rule_id]
    assert rule_id not in rules_of(safe, **kwargs)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_documentation_has_the_sections(rule_id: str) -> None:
    doc = rule_doc(rule_id)
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in doc, f"{rule_id}: missing {section}"


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
