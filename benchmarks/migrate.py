"""`dbops migrate` (both schemas, from empty) against plain `alembic upgrade head`, same run, as ratios.

On a throwaway tuned cluster (or ``TEST_DATABASE_URL``'s server), on fresh empty
databases, for the same Alembic environments (``migrations/healthcare``,
``migrations/fashion``), interleaved rounds, medians (and best runs):

1. as a developer types them (the headline): one ``dbops migrate`` process
   (both schemas: advisory lock, checksums recorded, edited-revision check,
   types regenerated — into a temp file, the repo stays untouched) against
   ``alembic -c <schema>.ini upgrade head`` run for each environment;
2. in-process, the library under each command: ``dbops.workflows.migrate()``
   (with type generation) and with ``generate_types=False``, against
   ``alembic.command.upgrade(config, "head")`` — imports and CLI parsing
   excluded, i.e. the cost of dbops' safety work alone.

Goal: dbops ≤ 1.2x.

    python benchmarks/migrate.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _shared import server

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = ("healthcare", "fashion")


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


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def alembic_api(urls: dict[str, str]) -> None:
    from alembic import command
    from alembic.config import Config

    for schema, url in urls.items():
        config = Config()
        config.set_main_option("script_location", str(REPO / "migrations" / schema))
        config.set_main_option("path_separator", "os")
        config.set_main_option("sqlalchemy.url", _sqlalchemy_url(url).replace("%", "%%"))
        command.upgrade(config, "head")


def dbops_api(project: Path, *, generate_types: bool) -> Callable[[dict[str, str]], None]:
    from dbops.config import load_settings
    from dbops.workflows.migrate import migrate

    def go(urls: dict[str, str]) -> None:
        settings = load_settings(project, env={})
        for schema, url in urls.items():
            migrate(settings, settings.schema(schema), url, generate_types=generate_types)

    return go


def alembic_cli(tmp: Path) -> Callable[[dict[str, str]], None]:
    def go(urls: dict[str, str]) -> None:
        for schema, url in urls.items():
            ini = tmp / f"{schema}.ini"
            ini.write_text("[alembic]\n"
                           f"script_location = {REPO / 'migrations' / schema}\n"
                           "path_separator = os\n"
                           f"sqlalchemy.url = {_sqlalchemy_url(url).replace('%', '%%')}\n")
            _run([sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head"], os.environ)

    return go


def dbops_cli(project: Path) -> Callable[[dict[str, str]], None]:
    def go(urls: dict[str, str]) -> None:
        env = {**os.environ, "DBOPS_PROJECT_DIR": str(project)}
        env.update({f"{s.upper()}_DATABASE_URL": u for s, u in urls.items()})
        _run([sys.executable, "-m", "dbops", "--quiet", "migrate"], env)

    return go


def _run(cmd: list[str], env: Mapping[str, str]) -> None:
    proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:4])} failed ({proc.returncode}): {proc.stderr[-2000:]}")


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
            lines.append(f"{key} = {json.dumps(value)}")
    (tmp / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return tmp


def measure(variants: dict[str, Callable[[dict[str, str]], None]], dbs: Databases, rounds: int) -> dict[str, list[float]]:
    """Interleaved rounds on fresh databases; round 0 is a warm-up (imports, caches) and not counted."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_no in range(rounds + 1):
        for name, fn in variants.items():
            urls = {s: dbs.fresh() for s in SCHEMAS}
            started = time.perf_counter()
            fn(urls)
            if round_no > 0:
                times[name].append(time.perf_counter() - started)
    return times


def show(title: str, times: dict[str, list[float]], reference: str) -> float:
    ref_median, ref_best = statistics.median(times[reference]), min(times[reference])
    print(title)
    print(f"  {'':<44} {'median':>9}  {'ratio':>6}   {'best':>9}  {'ratio':>6}")
    for name, samples in times.items():
        median, best = statistics.median(samples), min(samples)
        print(f"  {name:<44} {median * 1000:6.0f} ms  {median / ref_median:5.2f}x   "
              f"{best * 1000:6.0f} ms  {best / ref_best:5.2f}x")
    return statistics.median(next(v for k, v in times.items() if k != reference)) / ref_median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))

    tmp = Path(tempfile.mkdtemp(prefix="dbops-bench-project-"))
    project = bench_project(tmp)
    with server() as admin_url:
        dbs = Databases(admin_url)
        try:
            cli = measure({"alembic upgrade head (x2 environments)": alembic_cli(tmp),
                           "dbops migrate": dbops_cli(project)}, dbs, args.rounds)
            api = measure({"alembic.command.upgrade": alembic_api,
                           "dbops.workflows.migrate": dbops_api(project, generate_types=True),
                           "dbops.workflows.migrate(generate_types=False)": dbops_api(project, generate_types=False)},
                          dbs, args.rounds)
        finally:
            dbs.drop_all()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"both schemas from empty, {args.rounds} interleaved rounds, same run, same cluster")
    cli_ratio = show("commands, as typed (process start and imports included):", cli,
                     "alembic upgrade head (x2 environments)")
    api_ratio = show("library calls, in-process (warm):", api, "alembic.command.upgrade")
    print(f"dbops migrate / alembic upgrade head = {cli_ratio:.2f}x as commands, {api_ratio:.2f}x in-process "
          "(goal <= 1.20x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
