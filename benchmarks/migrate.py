"""`dbops migrate` (both schemas, from empty) against plain `alembic upgrade head`, same run, as a ratio.

Both run in this process on a throwaway tuned cluster (or ``TEST_DATABASE_URL``'s
server), on fresh empty databases, for the same Alembic environments
(``migrations/healthcare``, ``migrations/fashion``):

- reference: ``alembic.command.upgrade(Config(script_location=…, sqlalchemy.url=…), "head")``
  for each schema — what a plain Alembic project runs;
- dbops: ``dbops migrate`` through the CLI entry point (advisory lock, checksums
  recorded, edited-revision check, types regenerated into a temp file), and
  ``dbops migrate --no-generate`` to show the share of type generation.

Each variant runs ``--rounds`` times (after one warm-up round each, so imports
are not counted), interleaved; the median is reported. Goal: dbops ≤ 1.2x.

    python benchmarks/migrate.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = ("healthcare", "fashion")


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Admin URL of a server to create databases on."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    from dbops.localdb import LocalCluster, find_server_binaries

    base = Path(tempfile.mkdtemp(prefix="dbops-bench-"))
    cluster = LocalCluster(base, find_server_binaries(), tuned_for_tests=True)
    cluster.start()
    try:
        yield cluster.url("postgres")
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


class Databases:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.names: list[str] = []

    def fresh(self) -> str:
        from dbops.localdb import create_database

        name = f"bench_{uuid.uuid4().hex[:10]}"
        create_database(self.admin_url, name)
        self.names.append(name)
        return urlunsplit(urlsplit(self.admin_url)._replace(path="/" + name))

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic_upgrade(urls: dict[str, str]) -> None:
    from alembic import command
    from alembic.config import Config

    for schema, url in urls.items():
        config = Config()
        config.set_main_option("script_location", str(REPO / "migrations" / schema))
        config.set_main_option("path_separator", "os")
        config.set_main_option("sqlalchemy.url", url.replace("postgresql://", "postgresql+psycopg://", 1)
                               .replace("%", "%%"))
        command.upgrade(config, "head")


def dbops_migrate(project: Path, *extra: str) -> Callable[[dict[str, str]], None]:
    from dbops.cli.main import run

    def go(urls: dict[str, str]) -> None:
        saved = dict(os.environ)
        os.environ.update({f"{s.upper()}_DATABASE_URL": u for s, u in urls.items()})
        os.environ["DBOPS_PROJECT_DIR"] = str(project)
        try:
            with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
                code = run(["--quiet", "migrate", *extra])
            if code != 0:
                raise SystemExit(f"dbops migrate failed ({code}): {out.getvalue()} {err.getvalue()}")
        finally:
            os.environ.clear()
            os.environ.update(saved)

    return go


def bench_project(tmp: Path) -> Path:
    """The repo's configuration, with the types modules written to ``tmp`` (the repo stays untouched)."""
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dbops"]
    lines = ["[tool.dbops]"]
    for name, schema in data["schemas"].items():
        lines.append(f"[tool.dbops.schemas.{name}]")
        for key, value in schema.items():
            if key == "types_module":
                value = str(tmp / f"{name}_db_types.py")
            elif key in ("migrations", "seed"):
                value = str(REPO / value)
            lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value!r}")
    (tmp / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return tmp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))

    tmp = Path(tempfile.mkdtemp(prefix="dbops-bench-project-"))
    project = bench_project(tmp)
    variants: dict[str, Callable[[dict[str, str]], None]] = {
        "alembic upgrade head": alembic_upgrade,
        "dbops migrate": dbops_migrate(project),
        "dbops migrate --no-generate": dbops_migrate(project, "--no-generate"),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    with server() as admin_url:
        dbs = Databases(admin_url)
        try:
            for round_no in range(args.rounds + 1):
                for name, fn in variants.items():
                    urls = {s: dbs.fresh() for s in SCHEMAS}
                    started = time.perf_counter()
                    fn(urls)
                    elapsed = time.perf_counter() - started
                    if round_no > 0:  # round 0 warms up imports and caches
                        times[name].append(elapsed)
        finally:
            dbs.drop_all()
            shutil.rmtree(tmp, ignore_errors=True)

    reference = statistics.median(times["alembic upgrade head"])
    print(f"both schemas from empty, median of {args.rounds} rounds (same run, same cluster)")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:<30} {median * 1000:8.1f} ms   {median / reference:5.2f}x")
    ratio = statistics.median(times["dbops migrate"]) / reference
    print(f"dbops migrate / alembic upgrade head = {ratio:.2f}x (goal <= 1.20x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
