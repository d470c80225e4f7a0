"""``Database``: transactions (timeouts, isolation, read-only, retries), pool limits, health, logging, events, async."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from platformdb import errors
from platformdb.database import AsyncDatabase, Database, mask_url, resolve_url
from platformdb.events import DomainEvent, record_event
from platformdb.testing import assert_statements, count_statements

from .conftest import query


def scalar(session, sql: str, params=None):
    return session.execute(sa.text(sql), params or {}).scalar()


def test_commit_and_rollback(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    db.transaction(
        lambda s: s.execute(sa.text("UPDATE clinics SET phone = '123' WHERE id = :id"), {"id": ids.north}),
        privileged=True,
    )
    assert query(url, "SELECT phone FROM clinics WHERE id = %s", (ids.north,)) == [("123",)]

    def fails(session):
        session.execute(sa.text("UPDATE clinics SET phone = '999' WHERE id = :id"), {"id": ids.north})
        raise errors.InvalidState("nope")

    with pytest.raises(errors.InvalidState):
        db.transaction(fails, privileged=True)
    assert query(url, "SELECT phone FROM clinics WHERE id = %s", (ids.north,)) == [("123",)]


def test_transaction_settings_are_local_and_leave_no_session_state(hc):
    url, ids = hc
    with Database(url, pool_size=1, max_overflow=0) as db:
        inside = db.transaction(
            lambda s: s.execute(
                sa.text(
                    "SELECT pg_backend_pid(), current_user, current_setting('app.tenant_id'), "
                    "current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')"
                )
            ).one(),
            tenant=ids.north,
            timeout=3,
        )
        assert tuple(inside[1:]) == ("platform_app", str(ids.north), "3s", "3s")
        with db.engine.connect() as conn:  # the pool's only connection, outside any platformdb transaction
            after = conn.execute(
                sa.text(
                    "SELECT pg_backend_pid(), current_user, current_setting('app.tenant_id', true), "
                    "current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')"
                )
            ).one()
        # the same connection: nothing of the tenant transaction survived it (PgBouncer-safe)
        assert after[0] == inside[0]
        assert tuple(after[1:]) == ("postgres", "", "0", "0")


def test_isolation_and_read_only(hc_db):
    db, ids = hc_db
    level = db.transaction(
        lambda s: scalar(s, "SHOW transaction_isolation"), isolation="SERIALIZABLE", tenant=ids.north
    )
    assert level == "serializable"
    assert db.transaction(lambda s: scalar(s, "SHOW transaction_isolation"), tenant=ids.north) == "read committed"
    assert db.transaction(lambda s: scalar(s, "SHOW transaction_read_only"), read_only=True, tenant=ids.north) == "on"
    with pytest.raises(errors.DatabaseError, match="read-only"):
        db.transaction(lambda s: s.execute(sa.text("UPDATE users SET name = 'x'")), read_only=True, tenant=ids.north)
    assert db.transaction(lambda s: scalar(s, "SHOW transaction_read_only"), tenant=ids.north) == "off"


def test_statement_timeout_becomes_transaction_timeout(hc_db):
    db, _ = hc_db
    with pytest.raises(errors.TransactionTimeout, match="statement timeout"):
        db.transaction(lambda s: s.execute(sa.text("SELECT pg_sleep(5)")), timeout=0.2, privileged=True)


def test_a_transaction_longer_than_its_timeout_is_rolled_back(hc_db, hc):
    db, ids = hc_db
    url, _ = hc

    def slow(session):
        session.execute(sa.text("UPDATE clinics SET phone = 'late' WHERE id = :id"), {"id": ids.north})
        time.sleep(0.4)  # the client side of the transaction outlives its timeout

    with pytest.raises(errors.TransactionTimeout):
        db.transaction(slow, timeout=0.1, privileged=True)
    assert query(url, "SELECT phone FROM clinics WHERE id = %s", (ids.north,)) == [(None,)]


def test_max_wait_bounds_the_wait_for_a_pooled_connection(hc):
    url, ids = hc
    with Database(url, pool_size=1, max_overflow=0) as db, db.begin(tenant=ids.north):
        started = time.monotonic()
        with pytest.raises(errors.DatabaseBusy, match=r"within 0\.05 s"):
            db.transaction(lambda s: 1, max_wait=0.05, tenant=ids.north)
        assert time.monotonic() - started < 30  # generous: it gave up instead of waiting for the holder


def _probe(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE probe (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO probe (id) VALUES (1), (2)")


def _write_skew(db: Database, retries: int, published: list) -> tuple[collections.Counter, list]:
    """Two SERIALIZABLE transactions each read both rows and update one: PostgreSQL aborts one (40001)."""
    barrier = threading.Barrier(2)
    attempts: collections.Counter = collections.Counter()
    failures: list = []
    db.events.subscribe(published.append)

    def worker(me: int) -> None:
        def body(session):
            attempts[me] += 1
            scalar(session, "SELECT sum(v) FROM probe")
            if attempts[me] == 1:
                barrier.wait(timeout=30)  # both have read before either writes
            session.execute(sa.text("UPDATE probe SET v = v + 1 WHERE id = :id"), {"id": me})
            record_event(session, DomainEvent("probe.bumped", {"id": me}))

        try:
            db.transaction(body, isolation="SERIALIZABLE", privileged=True, retries=retries)
        except errors.PlatformDBError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return attempts, failures


def test_serialization_failures_are_retried_and_events_of_failed_attempts_dropped(hc_db, hc):
    db, _ = hc_db
    url, _ = hc
    _probe(url)
    published: list = []
    attempts, failures = _write_skew(db, retries=3, published=published)
    assert failures == []
    assert sum(attempts.values()) == 3  # one of the two ran twice
    assert query(url, "SELECT id, v FROM probe ORDER BY id") == [(1, 1), (2, 1)]
    assert sorted(e.payload["id"] for e in published) == [1, 2]  # the aborted attempt published nothing


def test_without_retries_the_loser_gets_retries_exhausted(hc_db, hc):
    db, _ = hc_db
    url, _ = hc
    _probe(url)
    attempts, failures = _write_skew(db, retries=0, published=[])
    assert sum(attempts.values()) == 2
    assert len(failures) == 1 and isinstance(failures[0], errors.RetriesExhausted)
    assert isinstance(failures[0], errors.SerializationFailure)
    assert sorted(v for _, v in query(url, "SELECT id, v FROM probe")) == [0, 1]


def test_deadlocks_are_retried(hc_db, hc):
    db, _ = hc_db
    url, _ = hc
    _probe(url)
    barrier = threading.Barrier(2)
    attempts: collections.Counter = collections.Counter()
    failures: list = []

    def worker(first: int, second: int) -> None:
        def body(session):
            attempts[first] += 1
            session.execute(sa.text("SET LOCAL deadlock_timeout = '50ms'"))
            session.execute(sa.text("UPDATE probe SET v = v + 1 WHERE id = :id"), {"id": first})
            if attempts[first] == 1:
                barrier.wait(timeout=30)  # each holds its first row: opposite orders deadlock
            session.execute(sa.text("UPDATE probe SET v = v + 1 WHERE id = :id"), {"id": second})

        try:
            db.transaction(body, privileged=True)
        except errors.PlatformDBError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=pair) for pair in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    assert sum(attempts.values()) == 3
    assert query(url, "SELECT id, v FROM probe ORDER BY id") == [(1, 2), (2, 2)]


def test_health_check_and_report(hc_db):
    db, _ = hc_db
    assert db.health_check(timeout=5) is True
    report = db.health_report(timeout=5)
    assert report.ok and report.latency_ms is not None and report.error is None
    assert report.pool is not None and report.pool.size == 5 and report.pool.checked_out == 0
    assert report.to_dict()["pool"]["size"] == 5


def test_health_check_of_an_unreachable_database_is_false_and_never_raises(tmp_path):
    with Database(f"postgresql://app:s3cret@/nowhere?host={tmp_path}&port=5999") as db:
        assert db.health_check(timeout=5) is False
        report = db.health_report(timeout=5)
        assert not report.ok and report.error and "s3cret" not in report.error


def test_unreachable_database_raises_database_unavailable_without_the_password(tmp_path):
    url = f"postgresql://app:s3cret@/nowhere?host={tmp_path}&port=5999"
    with Database(url) as db, pytest.raises(errors.DatabaseUnavailable) as info:
        db.transaction(lambda s: 1, tenant=1)
    assert "s3cret" not in str(info.value) and "***" in str(info.value)
    assert mask_url(url) == f"postgresql://app:***@/nowhere?host={tmp_path}&port=5999"


def test_closed_database_refuses_work(hc):
    url, ids = hc
    db = Database(url)
    db.close()
    with pytest.raises(errors.DatabaseError, match="closed"):
        db.transaction(lambda s: 1, tenant=ids.north)


def test_query_log_is_structured_masks_secrets_and_flags_slow_queries(hc, caplog):
    from platformdb.healthcare.repositories import UserRepository
    from platformdb.healthcare.services import UserService

    url, ids = hc
    caplog.set_level(logging.DEBUG, logger="platformdb.sql")
    with Database(url, slow_query_ms=10_000) as db:
        UserService(db, ids.north).create_user_with_profile(
            name="Eve Adams", email="eve@north.example", password_hash="$2b$12$do-not-log-me"
        )
        db.transaction(lambda s: s.execute(sa.text("SELECT id FROM users")).all(), tenant=ids.north)
        found = db.transaction(
            lambda s: UserRepository(s, ids.north).find_by_email("eve@north.example"), tenant=ids.north
        )  # a hot statement: the precompiled fast path
        db.transaction(
            lambda s: UserRepository(s, ids.north).bulk_upsert(
                [
                    {
                        "email": "bulk@north.example",
                        "name": "Bulk",
                        "role_type": "PATIENT",
                        "password_hash": "$2b$12$bulk-secret",
                    }
                ],
                key=("clinic_id", "email"),
            ),
            tenant=ids.north,
        )
    records = [r for r in caplog.records if r.name == "platformdb.sql"]
    hot = next(r for r in records if "u.email = %(email)s" in r.db_statement)
    assert found.name == "Eve Adams" and hot.db_rows == 1 and hot.db_parameters["email"] == "eve@north.example"
    bulk = next(r for r in records if r.db_statement.startswith("INSERT INTO users AS t"))
    assert bulk.db_parameters["password_hash"] == "***" and bulk.db_parameters["name"] == ["Bulk"]
    insert = next(r for r in records if r.db_statement.startswith("INSERT INTO users"))
    assert insert.levelno == logging.DEBUG and insert.db_parameters["password_hash"] == "***"
    assert insert.db_duration_ms > 0 and insert.db_rows == 1
    select = next(r for r in records if r.db_statement == "SELECT id FROM users")
    assert select.db_rows == 7  # the North clinic's users, and only them (RLS)
    assert not any("do-not-log-me" in r.getMessage() or "bulk-secret" in r.getMessage() for r in caplog.records)

    caplog.clear()
    with Database(url, slow_query_ms=0) as db:
        db.transaction(lambda s: s.execute(sa.text("SELECT 1")).all(), tenant=ids.north)
    slow = [r for r in caplog.records if r.name == "platformdb.sql" and r.levelno == logging.WARNING]
    assert slow and slow[-1].db_slow and "slow query" in slow[-1].getMessage()


def test_events_are_published_after_commit_only(hc_db, hc):
    db, ids = hc_db
    url, _ = hc
    seen: list[tuple[DomainEvent, list]] = []

    def listener(event: DomainEvent) -> None:
        # called after the commit: another connection already sees the row
        seen.append((event, query(url, "SELECT phone FROM clinics WHERE id = %s", (ids.north,))))

    db.events.subscribe(listener, name="clinic.changed")
    db.events.subscribe(lambda event: (_ for _ in ()).throw(RuntimeError("broken listener")))

    def change(session, phone: str, fail: bool = False):
        session.execute(sa.text("UPDATE clinics SET phone = :p WHERE id = :id"), {"p": phone, "id": ids.north})
        record_event(session, DomainEvent("clinic.changed", {"phone": phone}))
        if fail:
            raise errors.InvalidState("rolled back")

    db.transaction(lambda s: change(s, "555"), privileged=True)
    with pytest.raises(errors.InvalidState):
        db.transaction(lambda s: change(s, "666", fail=True), privileged=True)
    assert [(e.payload["phone"], rows) for e, rows in seen] == [("555", [("555",)])]


def test_statement_counting_helper(hc_db):
    from platformdb.healthcare.repositories import UserRepository

    db, ids = hc_db
    with db.begin(tenant=ids.north) as session, assert_statements(db, 1) as log:
        UserRepository(session, ids.north).find_by_id(ids.u_alice)
    assert log.sql[0].startswith("SELECT users.id") and len(log.internal) == 0  # setup ran before the block
    with (
        pytest.raises(AssertionError, match="expected 2 statement"),
        db.begin(tenant=ids.north) as session,
        assert_statements(db, 2),
    ):
        UserRepository(session, ids.north).find_by_id(ids.u_alice)
    with count_statements(db) as log:
        db.transaction(lambda s: UserRepository(s, ids.north).count(), tenant=ids.north)
    assert log.count == 1 and len(log.internal) == 1 and "set_config" in log.internal[0].sql


def test_resolve_url_follows_the_cli_order(cli_env, hc):
    url, _ = hc
    assert resolve_url("healthcare", env={"HEALTHCARE_DATABASE_URL": url, "DATABASE_URL": "postgresql://x/y"}) == url
    assert resolve_url("healthcare", env={"DATABASE_URL": url}) == url
    with pytest.raises(errors.DatabaseUnavailable, match="HEALTHCARE_DATABASE_URL"):
        resolve_url("healthcare", env={})
    import shutil
    import sys
    from pathlib import Path

    env = {**cli_env, "PATH": f"{Path(sys.executable).parent}:{cli_env.get('PATH', '')}"}
    assert shutil.which("dbops", path=env["PATH"])
    local = resolve_url("healthcare", env=env, local=True)  # `dbops db url healthcare` on the test cluster
    assert local.startswith("postgresql://postgres@/healthcare?host=")
    with Database.from_environment("healthcare", env={"HEALTHCARE_DATABASE_URL": url}) as db:
        assert db.health_check(timeout=5)


def test_async_database_runs_the_same_work(hc):
    from platformdb.healthcare.repositories import UserRepository

    url, ids = hc

    async def main():
        published: list = []
        async with AsyncDatabase(url, pool_size=1, max_overflow=0) as db:
            db.events.subscribe(published.append)
            assert await db.health_check(timeout=5)

            def work(session):
                record_event(session, DomainEvent("counted", {}))
                return UserRepository(session, ids.north).count(), scalar(session, "SELECT current_user")

            with count_statements(db) as log:
                result = await db.transaction(work, tenant=ids.north)
            assert log.count == 2 and len(log.internal) == 1
            async with db.begin(tenant=ids.north):
                with pytest.raises(errors.DatabaseBusy):
                    await db.transaction(work, tenant=ids.north, max_wait=0.05)
            with pytest.raises(errors.TransactionTimeout):
                await db.transaction(lambda s: s.execute(sa.text("SELECT pg_sleep(5)")), timeout=0.2, privileged=True)
            return result, published

    (count, user), published = asyncio.run(main())
    assert (count, user) == (6, "platform_app")
    assert [e.name for e in published] == ["counted"]


def test_a_database_without_the_application_role_says_to_migrate(hc):
    url, ids = hc
    with Database(url, app_role="no_such_role") as db, pytest.raises(errors.DatabaseError, match="run the migrations"):
        db.transaction(lambda s: 1, tenant=ids.north)
