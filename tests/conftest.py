"""The test harness (docs/design.md "Tests").

A session fixture starts a throwaway tuned PostgreSQL cluster (fsync off) in
a temp dir with the same code as ``dbops db start`` — or uses the server of
``TEST_DATABASE_URL`` — migrates one template database per schema, and hands
each test a fresh copy (``CREATE DATABASE … TEMPLATE``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"


@dataclass
class PgServer:
    """A PostgreSQL server the tests own: make databases, drop them."""

    admin_url: str
    data_dir: Path | None = None  # the local cluster's base dir (None with TEST_DATABASE_URL)
    created: list[str] = field(default_factory=list)

    def url(self, database: str) -> str:
        from dbops.config import url_with_database

        return url_with_database(self.admin_url, database)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        from dbops.localdb import create_database

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        create_database(self.admin_url, name, template=template)
        self.created.append(name)
        return self.url(name)

    def fresh(self, template: str | None = None) -> Iterator[str]:
        """Yield the URL of a new database (a copy of ``template``), dropped afterwards."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        url = self.create_database(name, template=template)
        try:
            yield url
        finally:
            self.drop_database(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (throwaway local cluster unless TEST_DATABASE_URL)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield PgServer(os.environ["TEST_DATABASE_URL"])
        return
    from dbops.localdb import temporary_cluster

    with temporary_cluster("dbops-test-") as cluster:
        yield PgServer(cluster.url("postgres"), data_dir=cluster.base)


@pytest.fixture(scope="session")
def settings():
    """The repository's own settings (pyproject.toml [tool.dbops])."""
    from dbops.config import load_settings

    return load_settings(REPO, env={})


def _template(pg_server: PgServer, settings, schema: str) -> str:
    from dbops.revisions import upgrade

    name = f"tmpl_{schema}_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    upgrade(settings, settings.schema(schema), url)
    return name


@pytest.fixture(scope="session")
def healthcare_template(pg_server: PgServer, settings) -> str:
    return _template(pg_server, settings, "healthcare")


@pytest.fixture(scope="session")
def fashion_template(pg_server: PgServer, settings) -> str:
    return _template(pg_server, settings, "fashion")


@pytest.fixture
def empty_db(pg_server: PgServer) -> Iterator[str]:
    """URL of a fresh, empty database."""
    yield from pg_server.fresh()


@pytest.fixture
def healthcare_db(pg_server: PgServer, healthcare_template: str) -> Iterator[str]:
    """URL of a fresh copy of the migrated healthcare database."""
    yield from pg_server.fresh(healthcare_template)


@pytest.fixture
def fashion_db(pg_server: PgServer, fashion_template: str) -> Iterator[str]:
    """URL of a fresh copy of the migrated fashion database."""
    yield from pg_server.fresh(fashion_template)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli_env(pg_server: PgServer, tmp_path: Path) -> dict[str, str]:
    """Environment for running dbops: no URL variables, the local database = the test cluster."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL") and not k.startswith("DBOPS_")}
    if pg_server.data_dir is not None:
        env["DBOPS_DATA_DIR"] = str(pg_server.data_dir)
    env["DBOPS_PROJECT_DIR"] = str(REPO)
    env["COLUMNS"] = "200"
    return env


@pytest.fixture
def dbops(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """Run the CLI in-process: ``dbops("check", "locks", "x.sql") -> CliResult``.

    ``env=`` adds/overrides variables for that call.
    """
    from dbops.cli.main import run

    def invoke(*args: str, env: dict[str, str] | None = None) -> CliResult:
        merged = {**cli_env, **(env or {})}
        for key in list(os.environ):
            if key not in merged:
                monkeypatch.delenv(key, raising=False)
        for key, value in merged.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return invoke


@pytest.fixture
def dbops_process(cli_env: dict[str, str]):
    """Run the CLI in a subprocess: ``dbops_process("db", "status") -> CliResult``."""

    def invoke(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "dbops", *args],
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or REPO,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return invoke


@pytest.fixture(scope="session")
def validate_sarif():
    """``validate_sarif(text) -> dict``: the SARIF output parsed, validated against the vendored 2.1.0 schema."""
    import json

    import jsonschema

    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)

    def validate(text: str) -> dict:
        data = json.loads(text)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]]
        return data

    return validate
