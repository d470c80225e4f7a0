"""§1 dbops acts on the database the user named, or refuses: `check indexes` audits the database of a
URL (flag or DATABASE_URL) whatever it holds; a URL given in any form is never silently replaced by
the local cluster; a URL that cannot be attributed to one schema is refused naming the variable;
hints name the command actually run."""

from __future__ import annotations

import json

import psycopg
import pytest


@pytest.fixture
def shop_db(empty_db):
    """A database that has nothing to do with healthcare or fashion: two schemas, a few defects."""
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute("CREATE SCHEMA billing")
        conn.execute("CREATE TABLE sales.orders (customer_id int, total numeric)")  # no primary key
        conn.execute("CREATE TABLE billing.invoices (id bigint PRIMARY KEY, order_ref int)")
        conn.execute("CREATE TABLE billing.refs (id smallint PRIMARY KEY)")
        conn.execute("CREATE TABLE billing.lines (id bigint PRIMARY KEY, ref_id bigint REFERENCES billing.refs)")
        conn.execute("CREATE TABLE public.notes (body text)")  # no primary key
    return empty_db


def _flagged(result) -> set[tuple[str, str]]:
    return {(f["rule"], f["object"]) for f in json.loads(result.stdout)["findings"]}


def test_database_url_variable_audits_that_database_not_the_local_cluster(dbops, shop_db):
    result = dbops("check", "indexes", "--schema-only", "-f", "json", env={"DATABASE_URL": shop_db})
    assert result.exit_code == 1, result.output  # fk-type-mismatch is an error
    flagged = _flagged(result)
    assert ("tables-without-primary-key", "sales.orders") in flagged
    assert ("tables-without-primary-key", "public.notes") in flagged
    assert ("fk-type-mismatch", "billing.lines.ref_id") in flagged
    assert "from env:DATABASE_URL" in result.stderr and "using the local database" not in result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["database"] == shop_db.split("/")[3].split("?")[0]


def test_database_url_flag_without_schema_audits_that_database(dbops, shop_db):
    text = dbops("check", "indexes", "--database-url", shop_db, "--schema-only")
    assert text.exit_code == 1, text.output
    assert "sales.orders" in text.stdout and "no findings" not in text.stdout
    assert "from --database-url" in text.stderr
    global_flag = dbops("--database-url", shop_db, "check", "indexes", "--schema-only", "-f", "json")
    assert ("tables-without-primary-key", "sales.orders") in _flagged(global_flag)


def test_pg_schema_narrows_the_audit_and_an_unknown_one_is_refused(dbops, trust, shop_db):
    sales = dbops("check", "indexes", "--database-url", shop_db, "--schema-only", "--pg-schema", "sales", "-f", "json")
    assert sales.exit_code == 0, sales.output
    assert {obj for _, obj in _flagged(sales)} == {"sales.orders"}
    assert json.loads(sales.stdout)["summary"]["pg_schemas"] == ["sales"]
    two = dbops(
        "check",
        "indexes",
        "--schema-only",
        "--pg-schema",
        "sales",
        "--pg-schema",
        "billing",
        "-f",
        "json",
        env={"DATABASE_URL": shop_db},
    )
    objects = {obj for _, obj in _flagged(two)}
    assert {"sales.orders", "billing.lines.ref_id"} <= objects and "public.notes" not in objects
    assert all(obj.startswith(("sales.", "billing.")) for obj in objects), objects
    missing = dbops("check", "indexes", "--database-url", shop_db, "--pg-schema", "salez")
    line = trust.assert_clean_error(missing, code=2, says="no schema 'salez'")
    assert "billing, public, sales" in line


def test_pg_schema_with_a_project_schema(dbops, healthcare_db):
    result = dbops(
        "check",
        "indexes",
        "healthcare",
        "--database-url",
        healthcare_db,
        "--schema-only",
        "--pg-schema",
        "public",
        "-f",
        "json",
    )
    assert result.exit_code in (0, 1), result.output
    assert all(f["object"].startswith("public.") for f in json.loads(result.stdout)["findings"])


def test_replicas_work_in_database_mode(dbops, shop_db, pg_server):
    replica = pg_server.create_database()
    result = dbops("check", "indexes", "--database-url", shop_db, "--database-url", replica, "-f", "json")
    assert result.exit_code == 1, result.output
    assert len(json.loads(result.stdout)["summary"]["servers"]) == 2


@pytest.mark.parametrize(
    "command",
    [
        ("migrate", "--no-generate"),
        ("status",),
        ("deploy", "--dry-run"),
        ("seed",),
        ("seed", "--scale", "50"),
        ("reset", "--yes"),
        ("check", "budgets"),
        ("partitions", "ensure"),
    ],
)
def test_database_url_with_no_schema_is_refused_naming_it(dbops, trust, shop_db, command):
    result = dbops(*command, env={"DATABASE_URL": shop_db})
    line = trust.assert_clean_error(result, code=2, says="DATABASE_URL is set but no SCHEMA is named")
    words = " ".join(command[:2] if command[0] in ("check", "partitions") else command[:1])
    assert f"`dbops {words} healthcare" in line, line  # the hint names the command that was run
    assert "using the local database" not in result.stderr


@pytest.mark.parametrize("command", [("status",), ("migrate", "--no-generate"), ("check", "indexes")])
def test_a_schema_url_never_mixes_with_the_local_cluster(dbops, trust, healthcare_db, command):
    result = dbops(*command, env={"HEALTHCARE_DATABASE_URL": healthcare_db})
    line = trust.assert_clean_error(
        result, code=2, says="healthcare has a database URL (from env:HEALTHCARE_DATABASE_URL)"
    )
    assert "fashion has none" in line and "FASHION_DATABASE_URL" in line
    assert "using the local database" not in result.stderr


def test_a_configured_url_never_mixes_with_the_local_cluster(dbops, trust, tmp_path, healthcare_db):
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.dbops.schemas.healthcare]\nurl = {json.dumps(healthcare_db)}\n\n[tool.dbops.schemas.fashion]\n"
    )
    result = dbops("status", env={"DBOPS_PROJECT_DIR": str(tmp_path)})
    trust.assert_clean_error(result, code=2, says="healthcare has a database URL (from config)")


def test_the_database_url_flag_hint_names_the_command_run(dbops, trust, shop_db):
    for args, expected in (
        (("seed", "--scale", "100", "--database-url", shop_db), "`dbops seed healthcare --scale 100 --database-url …`"),
        (("--quiet", "status", "--database-url", shop_db), "`dbops status healthcare --database-url …`"),
        (("--database-url", shop_db, "partitions", "ensure"), "`dbops partitions ensure healthcare --database-url …`"),
    ):
        result = dbops(*args)
        line = trust.assert_clean_error(result, code=2, says="--database-url needs a single SCHEMA")
        assert expected in line, line


def test_a_named_schema_still_takes_database_url(dbops, healthcare_db):
    result = dbops("status", "healthcare", env={"DATABASE_URL": healthcare_db})
    assert result.exit_code == 0, result.output
    assert "from env:DATABASE_URL" in result.stderr
