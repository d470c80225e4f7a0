"""`dbops seed`: idempotent seed scripts, the admin password, one transaction (real PostgreSQL)."""

from __future__ import annotations

import json

import bcrypt
import pytest

PASSWORD = {"DBOPS_ADMIN_PASSWORD": "Adm1n-seed-pw"}


def _snapshot(sql, url: str) -> dict[str, list[tuple]]:
    """Every user table's rows identified by ctid with their xmin: any rewrite of a row changes it."""
    tables = [r[0] for r in sql(url, "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'r' "
                                     "AND c.relnamespace = 'public'::regnamespace ORDER BY 1")]
    return {t: sql(url, f"SELECT ctid::text, xmin::text FROM {t} ORDER BY ctid") for t in tables}


@pytest.mark.slow
@pytest.mark.parametrize("schema", ["healthcare", "fashion"])
def test_seed_is_idempotent_counts_and_xmins_unchanged(schema, request, dbops, sql):
    url = request.getfixturevalue(f"{schema}_db")

    first = dbops("seed", schema, "--database-url", url, "--format", "json", env=PASSWORD)
    assert first.exit_code == 0, first.output
    counts = json.loads(first.stdout)["schemas"][0]["counts"]
    assert counts and all(n > 0 for n in counts.values())
    before = _snapshot(sql, url)

    second = dbops("seed", schema, "--database-url", url, "--format", "json", env=PASSWORD)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["schemas"][0]["counts"] == counts
    assert _snapshot(sql, url) == before
    for table, n in counts.items():
        assert sql(url, f"SELECT count(*) FROM {table}") == [(n,)]


def test_seed_stores_the_admin_password_as_a_bcrypt_hash(healthcare_db, dbops, sql):
    result = dbops("seed", "healthcare", "--database-url", healthcare_db, env=PASSWORD)

    assert result.exit_code == 0, result.output
    ((stored,),) = sql(healthcare_db, "SELECT password_hash FROM users WHERE role_type = 'SUPER_ADMIN'")
    assert stored.startswith("$2") and bcrypt.checkpw(PASSWORD["DBOPS_ADMIN_PASSWORD"].encode(), stored.encode())
    assert PASSWORD["DBOPS_ADMIN_PASSWORD"] not in result.output


def test_seed_without_password_on_a_non_local_database_is_a_clear_error(healthcare_db, dbops, sql):
    result = dbops("seed", "healthcare", "--database-url", healthcare_db)

    assert result.exit_code == 2
    assert "DBOPS_ADMIN_PASSWORD is not set" in result.stderr
    assert sql(healthcare_db, "SELECT count(*) FROM clinics") == [(0,)]


@pytest.mark.slow
def test_seed_on_the_local_database_generates_and_prints_a_password_once(project, pg_server, dbops, unique_name, sql):
    if pg_server.data_dir is None:
        pytest.skip("needs the throwaway local cluster (not TEST_DATABASE_URL)")
    database = unique_name("seed_local")
    proj = project(database=database)
    proj.revision("0001", None, "pass")
    url = pg_server.create_database(database)
    try:
        assert dbops("migrate", "demo", env=proj.env).exit_code == 0
        first = dbops("seed", "demo", env=proj.env)
        assert first.exit_code == 0, first.output
        line = next(x for x in first.stderr.splitlines() if "generated admin password" in x)
        password = line.rsplit(": ", 1)[1].strip()
        ((stored,),) = sql(url, "SELECT password_hash FROM accounts")
        assert bcrypt.checkpw(password.encode(), stored.encode())

        second = dbops("seed", "demo", env=proj.env)  # the admin exists: no new password is shown
        assert second.exit_code == 0
        assert "generated admin password" not in second.output and "keeps its password" in second.stderr
        assert sql(url, "SELECT password_hash FROM accounts") == [(stored,)]
    finally:
        pg_server.drop_database(database)


def test_a_failing_seed_script_writes_nothing_and_names_the_line(project, empty_db, dbops, sql):
    proj = project(seed="""
        def run(conn, *, admin_password_hash):
            conn.execute("CREATE TABLE seeded (id int)")
            conn.execute("INSERT INTO seeded VALUES (1)")
            conn.execute("INSERT INTO seeded VALUES ('not a number')")
            return {}
    """)
    proj.revision("0001", None, "pass")
    assert dbops("migrate", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0

    result = dbops("seed", "demo", "--database-url", empty_db, env={**proj.env, **PASSWORD})

    assert result.exit_code == 1
    assert "seed failed, nothing was written" in result.stderr
    assert "seeds/demo.py:5" in result.stderr
    assert sql(empty_db, "SELECT to_regclass('public.seeded')") == [(None,)]


def test_seed_refuses_a_database_that_is_not_at_head(project, empty_db, dbops, sql):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')

    result = dbops("seed", "demo", "--database-url", empty_db, env={**proj.env, **PASSWORD})

    assert result.exit_code == 1
    assert "not at head" in result.stderr and "dbops migrate demo" in result.stderr
    assert sql(empty_db, "SELECT to_regclass('public.accounts')") == [(None,)]


def test_scale_options_need_scale(dbops):
    result = dbops("seed", "healthcare", "--append")
    assert result.exit_code == 2 and "--scale" in result.stderr


def test_seed_scale_delegates_to_dbops_scale(healthcare_db, dbops, sql):
    scale = pytest.importorskip("dbops.scale")
    if not hasattr(scale, "seed_at_scale"):
        pytest.skip("dbops.scale.seed_at_scale is not built yet")

    result = dbops("seed", "healthcare", "--scale", "50", "--seed", "7", "--force", "--database-url", healthcare_db)

    assert result.exit_code == 0, result.output
    assert sql(healthcare_db, "SELECT count(*) >= 50 FROM users") == [(True,)]
