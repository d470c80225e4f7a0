"""Finding the PostgreSQL server binaries (initdb, pg_ctl, postgres).

Order (docs/design.md "The local (embedded) database"): ``DBOPS_PG_BINDIR``, ``pg_config --bindir``,
``/usr/lib/postgresql/*/bin`` newest first, then PATH.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dbops.errors import LocalDatabaseError

REQUIRED = ("initdb", "pg_ctl", "postgres")

NO_BINARIES_HINT = (
    "set a database URL (--database-url, HEALTHCARE_DATABASE_URL/FASHION_DATABASE_URL or DATABASE_URL), "
    "install the PostgreSQL server (Debian: apt-get install postgresql), "
    "or point DBOPS_PG_BINDIR at the directory holding initdb, pg_ctl and postgres"
)


@dataclass(frozen=True)
class ServerBinaries:
    bindir: Path
    version: int

    def path(self, name: str) -> str:
        return str(self.bindir / name)


def _complete(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED)


def _candidates(env: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    pg_config = shutil.which("pg_config", path=env.get("PATH"))
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False)
            if out.returncode == 0 and out.stdout.strip():
                found.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version_key(path: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/", path)
        return tuple(int(g) for g in match.groups() if g) if match else (0,)

    found.extend(Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/"), key=version_key, reverse=True))
    on_path = shutil.which("initdb", path=env.get("PATH"))
    if on_path:
        found.append(Path(on_path).resolve().parent)
    return found


def server_version(bindir: Path) -> int:
    """Major version reported by ``postgres --version`` (e.g. 15)."""
    try:
        out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10)
    except OSError as exc:
        raise LocalDatabaseError(f"cannot run {bindir / 'postgres'}: {exc}", hint=NO_BINARIES_HINT) from None
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    if not match:
        raise LocalDatabaseError(f"unexpected `postgres --version` output: {out.stdout.strip()!r}", hint=NO_BINARIES_HINT)
    return int(match.group(1))


def find_server_binaries(env: Mapping[str, str] | None = None) -> ServerBinaries:
    """The first complete set of server binaries, or a LocalDatabaseError naming the fixes."""
    env = os.environ if env is None else env
    explicit = env.get("DBOPS_PG_BINDIR")
    if explicit:
        bindir = Path(explicit)
        if not _complete(bindir):
            missing = [n for n in REQUIRED if not os.access(bindir / n, os.X_OK)]
            raise LocalDatabaseError(
                f"DBOPS_PG_BINDIR={bindir} has no {', '.join(missing)}: no PostgreSQL server binaries to run "
                "the local database",
                hint=NO_BINARIES_HINT,
            )
        return ServerBinaries(bindir, server_version(bindir))
    for bindir in _candidates(env):
        if _complete(bindir):
            return ServerBinaries(bindir, server_version(bindir))
    raise LocalDatabaseError("no PostgreSQL server binaries found for the local database", hint=NO_BINARIES_HINT)
