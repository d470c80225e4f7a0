"""The embedded cluster: start/stop/status/url, as root, concurrently, without binaries."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir():
    """A fresh base dir for a cluster of its own (under /tmp, reachable by postgres)."""
    base = Path(tempfile.mkdtemp(prefix="dbops-localdb-"))
    base.chmod(0o755)  # the test's own directory; dbops itself never chmods a parent
    target = base / "cluster"
    yield target
    subprocess.run(
        [sys.executable, "-m", "dbops", "db", "stop"],
        env={**os.environ, "DBOPS_DATA_DIR": str(target), "DBOPS_PROJECT_DIR": str(REPO)},
        capture_output=True,
        check=False,
    )
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_start_status_url_stop(dbops_process, data_dir: Path):
    env = {"DBOPS_DATA_DIR": str(data_dir)}
    assert dbops_process("db", "status", env=env).exit_code == 1  # not initialised → not running

    started = dbops_process("db", "start", env=env)
    assert started.exit_code == 0, started.output
    assert "running" in started.stdout

    status = dbops_process("db", "status", "--format", "json", env=env)
    assert status.exit_code == 0, status.output
    info = json.loads(status.stdout)
    assert info["running"] and info["initialised"] and info["version"] >= 12
    assert Path(info["socket_dir"]) == data_dir / "run"

    url = dbops_process("-q", "db", "url", "healthcare", env=env).stdout.strip()
    assert url.startswith("postgresql://postgres@/healthcare?host=")
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "healthcare"
        # unix socket only: no TCP listener
        assert conn.execute("show listen_addresses").fetchone()[0] == ""
    # no SCHEMA: one VARIABLE='URL' line per schema, for `eval "$(dbops db url)"`
    lines = dbops_process("-q", "db", "url", env=env).stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["HEALTHCARE_DATABASE_URL", "FASHION_DATABASE_URL"]
    exported = subprocess.run(["sh", "-c", f"{lines[1]}; echo \"$FASHION_DATABASE_URL\""], capture_output=True,
                              text=True, check=True).stdout.strip()
    with psycopg.connect(exported) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "fashion"
    # psql accepts the same URL
    if shutil.which("psql"):
        out = subprocess.run(["psql", url, "-Atc", "select 42"], capture_output=True, text=True, check=False)
        assert out.stdout.strip() == "42", out.stderr

    port = info["port"]
    assert dbops_process("db", "stop", env=env).exit_code == 0
    assert dbops_process("db", "status", env=env).exit_code == 1
    # restart keeps the port chosen once
    assert dbops_process("db", "start", env=env).exit_code == 0
    again = json.loads(dbops_process("db", "status", "--format", "json", env=env).stdout)
    assert again["port"] == port and again["running"]


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="root-only behaviour")
def test_as_root_the_server_runs_as_postgres(dbops_process, data_dir: Path):
    assert dbops_process("db", "start", env={"DBOPS_DATA_DIR": str(data_dir)}).exit_code == 0
    postgres = pwd.getpwnam("postgres")
    pid = int((data_dir / "data" / "postmaster.pid").read_text().splitlines()[0])
    assert os.stat(f"/proc/{pid}").st_uid == postgres.pw_uid
    assert (data_dir / "data").stat().st_uid == postgres.pw_uid
    socket_dir = data_dir / "run"
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    # only dbops' own directory was chowned: its parent is untouched
    assert data_dir.parent.stat().st_uid == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="root-only behaviour")
def test_refuses_instead_of_chmod_on_unreachable_parent(dbops_process, tmp_path: Path):
    private = Path(tempfile.mkdtemp(prefix="dbops-private-"))  # mode 0700, root-owned
    try:
        before = stat.S_IMODE(private.stat().st_mode)
        result = dbops_process("db", "start", env={"DBOPS_DATA_DIR": str(private / "cluster")})
        assert result.exit_code == 3
        assert "not reachable by the 'postgres' user" in result.stderr
        assert "DBOPS_DATA_DIR" in result.stderr
        assert "Traceback" not in result.stderr
        assert stat.S_IMODE(private.stat().st_mode) == before
        assert not (private / "cluster").exists()
    finally:
        shutil.rmtree(private, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="root-only behaviour")
def test_unreachable_project_falls_back_to_var_lib(tmp_path: Path):
    from dbops.localdb import default_base

    private = Path(tempfile.mkdtemp(prefix="dbops-project-"))  # 0700 like /root
    notes: list[str] = []
    try:
        base = default_base(private, 15, {}, notes.append)
        assert base.parent.parent == Path("/var/lib/dbops")
        assert notes and str(base) in notes[0]
        # reachable project: stays in the project
        assert default_base(Path("/tmp"), 15, {}, notes.append) == Path("/tmp/.dbops/pg15")
    finally:
        shutil.rmtree(private, ignore_errors=True)


@pytest.mark.slow
def test_two_concurrent_starts(data_dir: Path):
    env = {**os.environ, "DBOPS_DATA_DIR": str(data_dir), "DBOPS_PROJECT_DIR": str(REPO)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "dbops", "db", "start"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    state = json.loads((data_dir / "state.json").read_text())
    url = f"postgresql://postgres@/fashion?host={state['socket_dir']}&port={state['port']}"
    with psycopg.connect(url) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {"healthcare", "fashion"} <= names
    # exactly one initdb happened: no leftover staging directories
    assert not list(data_dir.glob("data.init-*"))


def test_concurrent_create_database_is_tolerated(pg_server):
    from concurrent.futures import ThreadPoolExecutor

    from dbops.localdb import create_database

    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(lambda _: create_database(pg_server.admin_url, "race_db"), range(4)))
    assert created.count(True) == 1
    pg_server.drop_database("race_db")


def test_missing_binaries_lists_the_fixes(dbops_process, tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = dbops_process("migrate", env={"DBOPS_PG_BINDIR": str(empty), "DBOPS_DATA_DIR": str(tmp_path / "c")})
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr  # one line
    err = errors[0]
    for fix in ("--database-url", "apt-get install postgresql", "DBOPS_PG_BINDIR"):
        assert fix in err
    assert "Traceback" not in result.stderr
