"""`dbops reset`: its guards, and real resets (URL and local cluster paths)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest

REPO = Path(__file__).resolve().parents[2]
REMOTE = "postgresql://app:s3cret-pw@db.example.com:5432/demo"


def _demo(project, **kwargs):
    proj = project(**kwargs)
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int PRIMARY KEY)")')
    return proj


def test_reset_refuses_a_non_local_url_without_force(project, dbops):
    proj = _demo(project)

    result = dbops("reset", "demo", "--yes", "--database-url", REMOTE, env=proj.env)

    assert result.exit_code == 2
    assert "libpq would connect to db.example.com:5432" in result.stderr and "not this machine" in result.stderr
    assert "s3cret-pw" not in result.output


def test_reset_refuses_production_even_with_force(project, empty_db, dbops, sql):
    proj = _demo(project)
    sql(empty_db, "CREATE TABLE keep (id int)")

    for url in (REMOTE, empty_db):
        result = dbops("reset", "demo", "--force", "--yes", "--database-url", url,
                       env={**proj.env, "DBOPS_ENV": "production"})
        assert result.exit_code == 2
        assert "DBOPS_ENV=production" in result.stderr
    assert sql(empty_db, "SELECT to_regclass('public.keep')") == [("keep",)]


def test_reset_without_yes_and_without_stdin_is_refused(project, empty_db, dbops, cli_env, sql):
    proj = _demo(project)
    sql(empty_db, "CREATE TABLE keep (id int)")

    in_process = dbops("reset", "demo", "--database-url", empty_db, env=proj.env)  # pytest's stdin: unreadable
    assert in_process.exit_code == 2 and "--yes" in in_process.stderr

    closed = subprocess.run([sys.executable, "-m", "dbops", "reset", "demo", "--database-url", empty_db],
                            env={**cli_env, **proj.env}, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=60)
    assert closed.returncode == 2 and "no confirmation" in closed.stderr

    wrong = subprocess.run([sys.executable, "-m", "dbops", "reset", "demo", "--database-url", empty_db],
                           env={**cli_env, **proj.env}, input="fashion\n", capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "does not match" in wrong.stderr
    assert sql(empty_db, "SELECT to_regclass('public.keep')") == [("keep",)]


@pytest.mark.slow
def test_reset_on_a_loopback_url_drops_migrates_and_seeds_after_typing_the_name(project, empty_db, cli_env, sql):
    proj = _demo(project)
    sql(empty_db, "CREATE TABLE junk (id int); CREATE TYPE junk_kind AS ENUM ('x')")

    done = subprocess.run([sys.executable, "-m", "dbops", "reset", "demo", "--database-url", empty_db],
                          env={**cli_env, **proj.env, "DBOPS_ADMIN_PASSWORD": "correct horse"}, input="demo\n",
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert "dropped and recreated schema public" in done.stdout
    assert sql(empty_db, "SELECT to_regclass('public.junk'), to_regtype('junk_kind')") == [(None, None)]
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert sql(empty_db, "SELECT revision FROM dbops_revision_checksums") == [("0001",)]
    ((stored,),) = sql(empty_db, "SELECT password_hash FROM accounts")
    assert bcrypt.checkpw(b"correct horse", stored.encode())
    assert "correct horse" not in done.stdout + done.stderr


def test_reset_of_the_local_database_recreates_it_and_shows_a_generated_password_once(project, pg_server, dbops,
                                                                                      unique_name, sql):
    if pg_server.data_dir is None:
        pytest.skip("needs the throwaway local cluster (not TEST_DATABASE_URL)")
    database = unique_name("reset_local")
    proj = _demo(project, database=database)
    url = pg_server.create_database(database)
    sql(url, "CREATE TABLE junk (id int)")
    try:
        result = dbops("reset", "demo", "--yes", env=proj.env)

        assert result.exit_code == 0, result.output
        assert f"dropped and recreated database {database} on the local cluster" in result.stdout
        assert sql(url, "SELECT to_regclass('public.junk'), to_regclass('public.a')") == [(None, "a")]
        line = next(x for x in result.stderr.splitlines() if "generated admin password" in x)
        password = line.rsplit(": ", 1)[1].strip()
        ((stored,),) = sql(url, "SELECT password_hash FROM accounts")
        assert bcrypt.checkpw(password.encode(), stored.encode())
        assert result.output.count(password) == 1
    finally:
        pg_server.drop_database(database)


def test_reset_of_the_real_healthcare_schema(healthcare_db, dbops, sql):
    sql(healthcare_db, "CREATE TABLE junk (id int)")

    result = dbops("reset", "healthcare", "--yes", "--database-url", healthcare_db,
                   env={"DBOPS_ADMIN_PASSWORD": "reset-me-please"})

    assert result.exit_code == 0, result.output
    assert sql(healthcare_db, "SELECT to_regclass('public.junk')") == [(None,)]
    assert sql(healthcare_db, "SELECT count(*) > 0 FROM clinics") == [(True,)]
    status = dbops("status", "healthcare", "--database-url", healthcare_db)
    assert status.exit_code == 0, status.output
