"""§7 Interrupted seeds: Ctrl-C during `seed --scale` says what was loaded, what was rolled back and what
to do, and leaves the tables empty; after a SIGKILLed parallel load the next run refuses the partial
dataset (``--append`` too) and names `dbops reset SCHEMA --no-seed`, which then works."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest

from dbops.errors import Interrupted, RefusedError
from dbops.scale import seed_at_scale

REPO = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 29)
TABLES = ["clinics", "users", "patients", "doctors", "appointments", "appointment_audit_logs", "doctor_availability"]


def _one(url: str, sql: str, *args):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchone()[0]


def _counts(url: str) -> dict[str, int]:
    return {t: _one(url, f"SELECT count(*) FROM {t}") for t in TABLES}


def _interrupt_at(table: str):
    def progress(name: str, done: int, expected: int | None = None) -> None:
        if name == table and done:
            raise KeyboardInterrupt

    return progress


def test_ctrl_c_during_the_parallel_load_says_what_happened_and_leaves_nothing(healthcare_db, settings):
    with pytest.raises(Interrupted) as stopped:
        seed_at_scale(
            settings,
            settings.schema("healthcare"),
            healthcare_db,
            scale=1500,
            seed=3,
            today=TODAY,
            progress=_interrupt_at("appointments"),
        )
    message = stopped.value.message
    assert stopped.value.exit_code == 130
    assert message.startswith("healthcare: seed --scale 1500 stopped after ")
    # The loaded tables are listed in completion order, which depends on the number of loader workers.
    assert re.search(r"loaded [^;]*\bclinics \(\d", message) and "and emptied them again" in message
    assert "rolled back the unfinished load of" in message and "appointments" in message
    assert "every table is empty as before" in message
    assert "dbops seed healthcare --scale 1500" in stopped.value.hint
    assert _counts(healthcare_db) == dict.fromkeys(TABLES, 0)
    assert _one(healthcare_db, "SELECT status FROM dbops_seed_runs ORDER BY id DESC LIMIT 1") == "rolled back"
    again = seed_at_scale(settings, settings.schema("healthcare"), healthcare_db, scale=1500, seed=3, today=TODAY)
    assert _counts(healthcare_db) == again


def test_ctrl_c_during_an_append_rolls_the_one_transaction_back(healthcare_db, settings):
    schema = settings.schema("healthcare")
    seed_at_scale(settings, schema, healthcare_db, scale=300, seed=1, today=TODAY)
    before = _counts(healthcare_db)
    with pytest.raises(Interrupted) as stopped:
        seed_at_scale(
            settings,
            schema,
            healthcare_db,
            scale=300,
            seed=2,
            append=True,
            today=TODAY,
            progress=_interrupt_at("patients"),
        )
    assert "one transaction and was rolled back" in stopped.value.message
    assert _counts(healthcare_db) == before


def test_a_killed_runs_partial_dataset_is_refused_append_too(healthcare_db, settings, dbops, trust):
    """The state a SIGKILL leaves (a run still marked running, some tables loaded, no loader alive): refused,
    naming `dbops reset healthcare --no-seed`, never suggesting --append."""
    schema = settings.schema("healthcare")
    seed_at_scale(settings, schema, healthcare_db, scale=200, seed=1, today=TODAY)
    with psycopg.connect(healthcare_db, autocommit=True) as conn:
        conn.execute("UPDATE dbops_seed_runs SET status = 'running', finished_at = NULL")
        conn.execute("TRUNCATE appointments, appointment_audit_logs, doctor_availability")
    for extra in ((), ("--append",)):
        result = dbops("seed", "healthcare", "--scale", "200", "--database-url", healthcare_db, *extra)
        line = trust.assert_clean_error(result, code=2, says="was killed before it finished and left a partial dataset")
        assert "`dbops reset healthcare --no-seed`" in line and "--append" not in line.split("—", 1)[1]
        assert "appointments" in line and "are empty" in line


def test_a_killed_run_that_left_nothing_is_forgotten(healthcare_db, settings):
    with psycopg.connect(healthcare_db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE dbops_seed_runs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "schema_name text NOT NULL, scale integer NOT NULL, seed bigint NOT NULL, status text NOT NULL "
            "DEFAULT 'running', started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)"
        )
        conn.execute("INSERT INTO dbops_seed_runs (schema_name, scale, seed) VALUES ('healthcare', 99, 1)")
    seed_at_scale(settings, settings.schema("healthcare"), healthcare_db, scale=100, seed=1, today=TODAY)
    with psycopg.connect(healthcare_db) as conn:
        statuses = conn.execute("SELECT scale, status FROM dbops_seed_runs ORDER BY id").fetchall()
    assert statuses == [(99, "abandoned"), (100, "done")]


def test_a_run_whose_loaders_are_still_connected_is_not_taken_for_killed(healthcare_db, settings):
    seed_at_scale(settings, settings.schema("healthcare"), healthcare_db, scale=100, seed=1, today=TODAY)
    with psycopg.connect(healthcare_db, autocommit=True) as conn:
        conn.execute("UPDATE dbops_seed_runs SET status = 'running'")
    with psycopg.connect(healthcare_db, application_name="dbops seed") as loader:
        with pytest.raises(RefusedError, match="is still loading") as refused:
            seed_at_scale(settings, settings.schema("healthcare"), healthcare_db, scale=100, seed=1, today=TODAY)
        assert str(loader.info.backend_pid) in refused.value.message


# -- the real signals (subprocesses) ----------------------------------------------------------------------------


def _start_seed(cli_env: dict[str, str], url: str, scale: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dbops", "seed", "healthcare", "--scale", str(scale), "--database-url", url],
        env=cli_env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _wait_until_a_table_committed(proc: subprocess.Popen, url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if _one(url, "SELECT EXISTS (SELECT 1 FROM clinics)"):
            return
        time.sleep(0.02)
    pytest.fail("no table was committed in time")


def _wait_for_no_loader(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _one(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbops seed' "
            "AND datname = current_database()",
        ):
            return
        time.sleep(0.1)
    pytest.fail("the killed loaders' backends did not end")


@pytest.mark.slow
def test_sigint_prints_what_happened_and_empties_the_tables(healthcare_db, cli_env):
    proc = _start_seed(cli_env, healthcare_db, 150_000)
    _wait_until_a_table_committed(proc, healthcare_db)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    assert "interrupted: healthcare: seed --scale 150000 stopped after" in err
    assert "loaded clinics (" in err and "every table is empty as before" in err
    assert "Traceback" not in err
    assert _counts(healthcare_db) == dict.fromkeys(TABLES, 0)


@pytest.mark.slow
def test_after_sigkill_the_refusal_names_reset_no_seed_which_works(healthcare_db, cli_env, dbops, trust):
    proc = _start_seed(cli_env, healthcare_db, 150_000)
    _wait_until_a_table_committed(proc, healthcare_db)
    proc.kill()
    proc.communicate(timeout=60)
    _wait_for_no_loader(healthcare_db)
    assert _one(healthcare_db, "SELECT count(*) FROM clinics") > 0  # the partial dataset is there
    assert _one(healthcare_db, "SELECT count(*) FROM doctor_availability") == 0
    for extra in ((), ("--append",)):
        refused = dbops("seed", "healthcare", "--scale", "150000", "--database-url", healthcare_db, *extra)
        line = trust.assert_clean_error(refused, code=2, says="was killed before it finished")
        assert "run `dbops reset healthcare --no-seed`" in line and "pass --append" not in line
    reset = dbops("reset", "healthcare", "--no-seed", "--yes", "--database-url", healthcare_db)
    assert reset.exit_code == 0, reset.output
    assert _counts(healthcare_db) == dict.fromkeys(TABLES, 0)
    seeded = dbops("seed", "healthcare", "--scale", "100", "--database-url", healthcare_db)
    assert seeded.exit_code == 0, seeded.output
