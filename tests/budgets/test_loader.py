"""budgets.yaml: the JSON Schema, and every malformed file pointing at its file:line (exit 2)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dbops.budgets import budgets_schema, load_budgets, parse_budgets
from dbops.errors import InputError

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
version: 1
schemas:
  healthcare:
    queries:
      clinic_users:
        sql: |
          SELECT u.id
          FROM users AS u
          WHERE u.clinic_id = :clinic_id
          LIMIT 10
        params:
          - clinic_id: 1
        max_rows_examined: 20
        max_ms: 5
"""


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as exc:
        parse_budgets(textwrap.dedent(text), path="b.yaml")
    return exc.value


def test_the_schema_is_valid_json_schema_and_our_file_loads():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(budgets_schema())
    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    assert budget_file.display == "budgets.yaml"
    assert {q.schema for q in budget_file.queries} == {"healthcare", "fashion"}
    names = {q.name for q in budget_file.queries}
    for hot in ("clinic_active_users_page", "clinic_active_users_keyset", "patient_upcoming_appointments",
                "clinic_appointments_in_range", "clinic_appointment_stats", "doctor_performance",
                "doctor_available_slots", "studio_orders_by_date", "client_fittings", "collection_products"):
        assert hot in names


def test_a_good_file_knows_lines_parameters_and_tables():
    query = parse_budgets(GOOD).queries[0]
    assert (query.line, query.sql_line) == (5, 7)
    assert query.sql_position(3) == 9
    assert query.placeholders == ("clinic_id",)
    assert query.tables == {"users"} and query.tenant_filter
    assert query.params[0].values == {"clinic_id": 1}


def test_yaml_syntax_error():
    err = error_of("version: 1\nschemas:\n  healthcare: [unclosed\n")
    assert err.location.startswith("b.yaml:") and "invalid YAML" in err.message


def test_unknown_key_points_at_the_key_and_suggests_the_right_one():
    err = error_of(GOOD.replace("max_rows_examined: 20", "max_row_examined: 20"))
    assert err.location == "b.yaml:13"
    assert "max_row_examined" in err.message and "max_rows_examined" in err.hint


def test_wrong_type_points_at_the_value():
    err = error_of(GOOD.replace("max_ms: 5", "max_ms: fast"))
    assert err.location == "b.yaml:14"
    assert "max_ms" in err.message and "number" in err.message


def test_missing_budget_points_at_the_query():
    err = error_of(GOOD.replace("        max_rows_examined: 20\n", ""))
    assert err.location == "b.yaml:5" and "max_rows_examined" in err.message


def test_duplicate_key():
    err = error_of(GOOD.replace("        max_ms: 5\n", "        max_ms: 5\n        max_ms: 6\n"))
    assert err.location == "b.yaml:15" and "duplicate key 'max_ms'" in err.message


def test_sql_that_does_not_parse_points_inside_the_sql_block():
    err = error_of(GOOD.replace("WHERE u.clinic_id = :clinic_id", "WHERE u.clinic_id = = :clinic_id"))
    assert err.location == "b.yaml:9" and "does not parse" in err.message


def test_parameter_without_a_value_and_value_without_a_parameter():
    err = error_of(GOOD.replace("- clinic_id: 1", "- clinic: 1"))
    assert "'clinic' is not used" in err.message and err.location == "b.yaml:12"
    err = error_of(GOOD.replace("        params:\n          - clinic_id: 1\n", ""))
    assert ":clinic_id" in err.message and err.location == "b.yaml:5"


def test_use_index_and_ignore_must_name_real_things():
    err = error_of(GOOD.replace("        max_ms: 5\n", "        max_ms: 5\n        use_index: [users, doctors]\n"))
    assert "doctors" in err.message and err.location == "b.yaml:15"
    err = error_of(GOOD.replace("        max_ms: 5\n", "        max_ms: 5\n        ignore: [budget-select-stars]\n"))
    assert "budget-select-star" in err.hint


def test_only_select_statements():
    err = error_of(GOOD.replace("SELECT u.id\n          FROM users AS u\n          WHERE u.clinic_id = :clinic_id\n"
                                "          LIMIT 10", "DELETE FROM users WHERE clinic_id = :clinic_id"))
    assert "SELECT" in err.message


def test_missing_file_and_unsupported_version(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        load_budgets(tmp_path / "nope.yaml")
    err = error_of(GOOD.replace("version: 1", "version: 2"))
    assert err.location == "b.yaml:1" and "version" in err.message


def test_cli_malformed_budgets_file_exits_2_with_file_and_line(dbops, tmp_path: Path):
    bad = tmp_path / "budgets.yaml"
    bad.write_text(GOOD.replace("max_ms: 5", "max_ms: -1"))
    result = dbops("check", "budgets", "--static-only", "--file", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:14" in result.stderr and "Traceback" not in result.output
