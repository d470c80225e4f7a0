"""Startup cost: median wall time of `dbops --help` next to `alembic --help`, same run.

Goal (issue 2): dbops --help at most 0.3x of alembic --help.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def median_seconds(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the page cache once
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    dbops = [str(bindir / "dbops")] if (bindir / "dbops").exists() else [sys.executable, "-m", "dbops"]
    alembic = [str(bindir / "alembic")] if (bindir / "alembic").exists() else [shutil.which("alembic") or "alembic"]
    rows = []
    for label, cmd in [
        ("dbops --help", [*dbops, "--help"]),
        ("dbops check locks --help", [*dbops, "check", "locks", "--help"]),
        ("alembic --help (reference)", [*alembic, "--help"]),
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
    ]:
        rows.append((label, median_seconds(cmd, args.runs)))
    reference = rows[2][1]
    print(f"{'command':32} {'median ms':>10} {'vs alembic':>11}")
    for label, seconds in rows:
        print(f"{label:32} {seconds * 1000:10.1f} {seconds / reference:10.2f}x")
    ratio = rows[0][1] / reference
    verdict = "OK" if ratio <= 0.3 else "ABOVE GOAL"
    print(f"\ndbops --help / alembic --help = {ratio:.2f}x (goal <= 0.30x): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
