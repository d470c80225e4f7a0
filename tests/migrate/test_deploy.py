"""`dbops deploy` mechanics on synthetic Alembic environments (real PostgreSQL)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

LOCK_MESSAGE = "another deploy holds the lock"


def _log_table_revisions(project) -> None:
    """Three revisions; each logs itself in applied_log (duplicates would show), the middle one is slow."""
    project.revision("0001", None, """
        op.execute("CREATE TABLE applied_log (rev text NOT NULL, lock_timeout text, statement_timeout text)")
        op.execute("INSERT INTO applied_log VALUES ('0001', current_setting('lock_timeout'), current_setting('statement_timeout'))")
    """, "op.execute('DROP TABLE applied_log')")
    project.revision("0002", "0001", """
        op.execute("SET lock_timeout = '9s'")  # a revision changing the session: reset before the next one
        op.execute("SELECT pg_sleep(0.4)")
        op.execute("INSERT INTO applied_log VALUES ('0002', current_setting('lock_timeout'), current_setting('statement_timeout'))")
    """)
    project.revision("0003", "0002", """
        op.execute("INSERT INTO applied_log VALUES ('0003', current_setting('lock_timeout'), current_setting('statement_timeout'))")
    """)


def test_deploy_applies_each_revision_in_order_with_configured_timeouts(project, empty_db, dbops, sql):
    proj = project(deploy={"lock_timeout": "750ms", "statement_timeout": "45s"})
    _log_table_revisions(proj)

    result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 0, result.output
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0003",)]
    rows = sql(empty_db, "SELECT rev, lock_timeout, statement_timeout FROM applied_log ORDER BY rev")
    # 0003 runs with the configured lock_timeout again although 0002 changed it for its own session.
    assert rows == [("0001", "750ms", "45s"), ("0002", "9s", "45s"), ("0003", "750ms", "45s")]
    recorded = sql(empty_db, "SELECT revision, file FROM dbops_revision_checksums ORDER BY 1")
    assert [r[0] for r in recorded] == ["0001", "0002", "0003"]
    assert all(r[1].startswith("migrations/demo/versions/") for r in recorded)
    assert "0003" in result.stdout

    again = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)
    assert again.exit_code == 0
    assert "up to date" in again.stdout
    assert sql(empty_db, "SELECT count(*) FROM applied_log") == [(3,)]


@pytest.mark.slow
def test_five_concurrent_deploys_apply_every_revision_exactly_once(project, empty_db, spawn, sql):
    proj = project(deploy={"advisory_lock_wait_seconds": 60})
    _log_table_revisions(proj)

    procs = [spawn("deploy", "demo", "--database-url", empty_db, env=proj.env) for _ in range(5)]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in procs]

    for code, out, err in outcomes:
        assert code == 0 or (code == 1 and LOCK_MESSAGE in err), (code, out, err)
    assert sql(empty_db, "SELECT rev, count(*) FROM applied_log GROUP BY rev ORDER BY rev") == [
        ("0001", 1), ("0002", 1), ("0003", 1)]
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0003",)]
    assert sql(empty_db, "SELECT count(*) FROM dbops_revision_checksums") == [(3,)]
    # Exactly one process did the work; the others found nothing pending once they got the lock.
    assert sum("deployed base (empty) → 0003" in out for _, out, _ in outcomes) == 1


def test_second_deploy_gives_up_with_a_clear_message_while_the_lock_is_held(project, empty_db, dbops, sql):
    from dbops.revisions import advisory_lock_key

    proj = project(deploy={"advisory_lock_wait_seconds": 0.5})
    _log_table_revisions(proj)
    with psycopg.connect(empty_db, autocommit=True, application_name="other deploy") as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (advisory_lock_key("demo"),))
        started = time.monotonic()
        result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)
        waited = time.monotonic() - started

    assert result.exit_code == 1
    assert LOCK_MESSAGE in result.stderr
    assert "other deploy" in result.stderr  # names the holder
    assert waited >= 0.5
    assert sql(empty_db, "SELECT to_regclass('public.applied_log')") == [(None,)]


@pytest.mark.slow
def test_lock_timeout_frees_readers_and_the_revision_is_retried_until_the_blocker_commits(
        project, empty_db, dbops, spawn, sql):
    lock_timeout = 0.3
    proj = project(deploy={"lock_timeout": f"{int(lock_timeout * 1000)}ms", "retries": 20,
                           "retry_backoff_seconds": 0.2, "retry_backoff_max_seconds": 0.4})
    proj.revision("0001", None, """
        op.execute("CREATE TABLE items (id int PRIMARY KEY, v text)")
        op.execute("INSERT INTO items SELECT g, 'x' FROM generate_series(1, 100) g")
    """)
    assert dbops("deploy", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    proj.revision("0002", "0001", 'op.execute("ALTER TABLE items ADD COLUMN note text")')

    blocker = psycopg.connect(empty_db, application_name="blocker")  # a long transaction that read the table
    blocker.execute("SELECT count(*) FROM items").fetchone()
    deploy = spawn("deploy", "demo", "--database-url", empty_db, env=proj.env)
    try:
        monitor = psycopg.connect(empty_db, autocommit=True)
        waits = 0
        deadline = time.monotonic() + 30
        while waits == 0 and time.monotonic() < deadline and deploy.poll() is None:
            waits = monitor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted "
                "AND l.relation = 'items'::regclass AND l.mode = 'AccessExclusiveLock' "
                "AND a.application_name = 'dbops deploy'").fetchone()[0]
            time.sleep(0.02)
        assert waits, ("the deploy's ALTER TABLE never queued behind the blocker", deploy.poll(),
                       deploy.communicate()[1][-3000:] if deploy.poll() is not None else "")

        # A third session reads the table over several lock_timeout/retry cycles of the deploy. Its own
        # lock_timeout is the bound, measured by the server on lock waits alone (not the client's clock on a
        # loaded machine): queued behind a deploy that never gave up, a read would wait until the blocker
        # commits (after this loop) and fail here with LockNotAvailable.
        reads = 0
        reader = psycopg.connect(empty_db, autocommit=True)
        reader.execute("SET lock_timeout = '5s'")
        stop = time.monotonic() + 2.0
        while time.monotonic() < stop:
            assert reader.execute("SELECT count(*) FROM items").fetchone() == (100,)
            reads += 1
            time.sleep(0.02)
        reader.close()
        assert deploy.poll() is None, "the deploy should still be retrying while the blocker holds its lock"
    finally:
        blocker.commit()
        blocker.close()
    code = deploy.wait(timeout=60)
    out, err = deploy.communicate()

    assert code == 0, (out, err)
    assert "hit lock_timeout" in err and "retry 1/20" in err
    assert reads >= 2  # readers kept getting through while the deploy retried
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0002",)]
    assert sql(empty_db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' "
                         "AND column_name = 'note'") == [(1,)]
    monitor.close()


def test_a_revision_failing_midway_leaves_the_database_at_the_previous_revision(project, empty_db, dbops, sql):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int PRIMARY KEY)")')
    proj.revision("0002", "0001", """
        op.execute("CREATE TABLE b (id int PRIMARY KEY)")
        op.execute("INSERT INTO a VALUES (1)")
        op.execute("ALTER TABLE a ADD COLUMN c int")
        op.execute("SELECT 1 / 0")
    """, doc="breaks")
    proj.revision("0003", "0002", 'op.execute("CREATE TABLE c (id int)")')

    result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 1
    assert "revision 0002 failed: division by zero" in result.stderr
    assert "0002_breaks.py" in result.stderr and "stays at 0001" in result.stderr
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert sql(empty_db, "SELECT to_regclass('public.b'), to_regclass('public.c')") == [(None, None)]
    assert sql(empty_db, "SELECT count(*) FROM a") == [(0,)]
    assert sql(empty_db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'a'") == [("id",)]
    assert sql(empty_db, "SELECT revision FROM dbops_revision_checksums") == [("0001",)]


def test_statement_timeout_from_config_stops_a_slow_revision_without_retrying(project, empty_db, dbops, sql):
    proj = project(deploy={"statement_timeout": "200ms"})
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    proj.revision("0002", "0001", 'op.execute("SELECT pg_sleep(3)")')

    result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 1
    assert "57014" in result.stderr and "retry" not in result.stderr
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]


def test_an_applied_revision_edited_afterwards_is_refused_by_name(project, empty_db, dbops, sql):
    proj = project()
    first = proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")', doc="create a")
    assert dbops("deploy", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    first.write_text(first.read_text().replace("CREATE TABLE a (id int)", "CREATE TABLE a (id bigint)"))
    proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")')

    result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 1
    assert "migrations/demo/versions/0001_create_a.py" in result.stderr
    assert "edited after it was applied" in result.stderr
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert sql(empty_db, "SELECT to_regclass('public.b')") == [(None,)]

    status = dbops("status", "demo", "--database-url", empty_db, "--format", "json", env=proj.env)
    assert status.exit_code == 1
    assert '"revision": "0001"' in status.stdout and "0001_create_a.py" in status.stdout


def test_dry_run_prints_the_sql_and_changes_nothing(project, empty_db, dbops, sql):
    proj = project(deploy={"lock_timeout": "1500ms"})
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    assert dbops("deploy", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    proj.revision("0002", "0001", """
        op.add_column("a", sa.Column("note", sa.Text()))
        with op.get_context().autocommit_block():
            op.execute("CREATE INDEX CONCURRENTLY a_note_idx ON a (note)")
    """)

    result = dbops("deploy", "demo", "--dry-run", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "SET lock_timeout = '1500ms';" in out
    assert "ALTER TABLE a ADD COLUMN note TEXT;" in out
    assert "CREATE INDEX CONCURRENTLY a_note_idx ON a (note);" in out
    assert "UPDATE alembic_version SET version_num='0002'" in out
    assert "CREATE INDEX CONCURRENTLY" in out.split("COMMIT;")[1]  # outside the revision's transaction
    assert out.count("-- Running upgrade") == 1 and "-- Running upgrade 0001 -> 0002" in out  # pending only
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert sql(empty_db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'") == [(1,)]


def test_bad_timeout_in_config_is_a_config_error(project, empty_db, dbops):
    proj = project(deploy={"lock_timeout": "soon"})
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')

    result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 2
    assert "tool.dbops.deploy.lock_timeout" in result.stderr and "pyproject.toml" in result.stderr


def test_deploy_lints_pending_revisions_and_refuses_errors(project, empty_db, dbops, sql):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int, v text)")')
    assert dbops("deploy", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    proj.revision("0002", "0001", 'op.execute("CREATE INDEX a_v_idx ON a (v)")')  # blocks writes on an existing table

    result = dbops("deploy", "demo", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 1
    assert "lock-safety lint found" in result.stderr
    assert "CONCURRENTLY" in result.stdout
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]


def test_deploy_python_api_reports_retries_and_attempts(project, empty_db, sql):
    """The function under the CLI: a blocker released from another thread, retries counted per revision."""
    from dbops.workflows.deploy import deploy

    proj = project(deploy={"lock_timeout": "100ms", "retries": 10, "retry_backoff_seconds": 0.05})
    proj.revision("0001", None, 'op.execute("CREATE TABLE items (id int)")')
    settings = proj.settings()
    deploy(settings, settings.schema("demo"), empty_db)
    proj.revision("0002", "0001", 'op.execute("ALTER TABLE items ADD COLUMN v int")')
    settings = proj.settings()

    blocker = psycopg.connect(empty_db)
    blocker.execute("LOCK TABLE items IN ACCESS SHARE MODE")
    timer = threading.Timer(0.5, blocker.commit)
    timer.start()
    try:
        report = deploy(settings, settings.schema("demo"), empty_db)
    finally:
        timer.join()
        blocker.close()

    assert [a.revision for a in report.applied] == ["0002"]
    assert report.applied[0].attempts == len(report.retries) + 1 >= 2
    assert report.before == ("0001",) and report.after == ("0002",)



@pytest.mark.slow
def test_a_killed_deploy_releases_its_locks_within_seconds(project, empty_db, dbops, spawn, sql):
    """SIGKILL during a long statement: the server notices the dead client (client_connection_check_interval)
    and frees ACCESS EXCLUSIVE and the advisory lock long before the statement (or statement_timeout) ends."""
    from dbops.revisions import advisory_lock_key

    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    assert dbops("deploy", "demo", "--database-url", empty_db, env=proj.env).exit_code == 0
    proj.revision("0002", "0001", """
        op.execute("ALTER TABLE a ADD COLUMN b int")  # ACCESS EXCLUSIVE on a, held to the end of the revision
        op.execute("SELECT pg_sleep(600)")  # dbops: ignore[statements-after-exclusive-lock] the test's long statement
    """)
    deploy = spawn("deploy", "demo", "--database-url", empty_db, env=proj.env)
    backend = None
    deadline = time.monotonic() + 60
    while backend is None and time.monotonic() < deadline and deploy.poll() is None:
        rows = sql(empty_db, "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbops deploy' "
                             "AND state = 'active' AND query LIKE '%pg_sleep(600)%'")
        backend = rows[0][0] if rows else None
        time.sleep(0.05)
    assert backend is not None, deploy.communicate()
    held = "SELECT l.locktype, l.mode FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation WHERE l.pid = %s " \
           "AND l.granted AND ((l.locktype = 'relation' AND c.relname = 'a') OR (l.locktype = 'advisory' AND l.objid = %s))"
    key = advisory_lock_key("demo")
    assert sorted(sql(empty_db, held, (backend, key))) == [("advisory", "ExclusiveLock"),
                                                           ("relation", "AccessExclusiveLock")]

    deploy.kill()  # SIGKILL: no chance to cancel the statement or close the connection cleanly
    deploy.wait(timeout=30)
    deadline = time.monotonic() + 20  # generous: the server checks the client socket every 2 s
    while sql(empty_db, held, (backend, key)) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert sql(empty_db, held, (backend, key)) == [], "the killed deploy's backend still holds its locks"
    with psycopg.connect(empty_db, autocommit=True) as reader:
        reader.execute("SET lock_timeout = '5s'")
        assert reader.execute("SELECT count(*) FROM a").fetchone() == (0,)  # a reader of the table gets through
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]  # 0002 rolled back
