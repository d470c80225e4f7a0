"""Synthetic dbops projects for the migration workflow tests.

A project is a tmp dir with a pyproject.toml declaring one schema ``demo``
(its own Alembic environment, the shared dbops ``env.py``, a seed script)
and ``[tool.dbops.deploy]`` settings chosen by the test, so the deploy
mechanics are tested without depending on the real schemas' content.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

REVISION = '''"""{doc}

Revision ID: {rev}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

DEFAULT_SEED = '''
def run(conn, *, admin_password_hash):
    conn.execute("CREATE TABLE IF NOT EXISTS accounts (email text PRIMARY KEY, password_hash text NOT NULL)")
    conn.execute(
        "INSERT INTO accounts (email, password_hash) VALUES ('admin@demo.example', %s) ON CONFLICT (email) DO NOTHING",
        (admin_password_hash,),
    )
    return {"accounts": conn.execute("SELECT count(*) FROM accounts").fetchone()[0]}
'''


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Project:
    root: Path
    schema: str = "demo"

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / self.schema / "versions"

    @property
    def env(self) -> dict[str, str]:
        return {"DBOPS_PROJECT_DIR": str(self.root)}

    def revision(self, rev: str, down: str | None, upgrade: str, downgrade: str = "pass", doc: str = "") -> Path:
        """Write ``versions/<rev>_*.py`` with the given upgrade/downgrade bodies (Python, dedented)."""
        body = textwrap.indent(textwrap.dedent(upgrade).strip() or "pass", "    ")
        down_body = textwrap.indent(textwrap.dedent(downgrade).strip() or "pass", "    ")
        path = self.versions / f"{rev}_{(doc or 'step').replace(' ', '_')}.py"
        path.write_text(REVISION.format(doc=doc or f"step {rev}", rev=rev, down=down, upgrade=body,
                                        downgrade=down_body))
        return path

    def settings(self):
        from dbops.config import load_settings

        return load_settings(self.root, env={})


def make_project(root: Path, *, deploy: dict[str, Any] | None = None, database: str = "demo",
                 seed: str | None = DEFAULT_SEED, models: str = "", migrations: str | None = None,
                 schema: str = "demo", extra: dict[str, Any] | None = None) -> Project:
    """Write a dbops project in ``root`` with one schema (``migrations``: an existing env dir to use instead)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[tool.dbops]", "", f"[tool.dbops.schemas.{schema}]"]
    lines.append(f"migrations = {_toml_value(migrations or f'migrations/{schema}')}")
    lines.append(f"database = {_toml_value(database)}")
    lines.append(f"seed = {_toml_value(f'seeds/{schema}.py' if seed is not None else '')}")
    if models:
        lines.append(f"models = {_toml_value(models)}")
    lines += [f"{k} = {_toml_value(v)}" for k, v in (extra or {}).items()]
    if deploy:
        lines += ["", "[tool.dbops.deploy]"] + [f"{k} = {_toml_value(v)}" for k, v in deploy.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    if migrations is None:
        env_dir = root / "migrations" / schema
        (env_dir / "versions").mkdir(parents=True, exist_ok=True)
        (env_dir / "env.py").write_text((REPO / "migrations" / "healthcare" / "env.py").read_text())
        (env_dir / "script.py.mako").write_text((REPO / "migrations" / "healthcare" / "script.py.mako").read_text())
    if seed is not None:
        (root / "seeds").mkdir(exist_ok=True)
        (root / "seeds").mkdir(exist_ok=True)
        (root / "seeds" / f"{schema}.py").write_text(textwrap.dedent(seed))
    return Project(root, schema)


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Project]:
    """Factory: ``project(deploy={...})`` → a synthetic project in tmp_path."""
    counter = iter(range(100))

    def factory(**kwargs: Any) -> Project:
        return make_project(tmp_path / f"p{next(counter)}", **kwargs)

    return factory


@pytest.fixture
def sql(pg_server) -> Callable[..., list[tuple]]:
    """``sql(url, "SELECT …", params)`` → rows (autocommit connection, closed after)."""
    import psycopg

    def run(url: str, query: str, params: Any = None) -> list[tuple]:
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    return run


@pytest.fixture
def spawn(cli_env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``python -m dbops ARGS`` without waiting (for concurrency tests)."""
    procs: list[subprocess.Popen] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "dbops", *args], env={**cli_env, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True, cwd=REPO)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    return lambda prefix: f"{prefix}_{uuid.uuid4().hex[:10]}"

