"""Data at scale: seed throughput vs `pgbench -i`, and online backfill throughput.

    python benchmarks/scale.py [--scale N] [--pgbench-scale S] [--backfill-rows R]

Starts a throwaway PostgreSQL cluster (dbops' local-cluster machinery, the
developer configuration) unless BENCH_ADMIN_URL points at a server, then in
the same run:

1. `pgbench -i -s S` (client-side COPY, keys built after the load, then
   VACUUM ANALYZE): the practical limit for narrow rows — the reference;
2. `seed_at_scale` for healthcare and fashion with N users/clients on
   freshly migrated databases (migrations not timed; everything else is:
   partitions for the history, binary COPY, key/index builds, FK validation,
   ANALYZE);
3. `backfill` of 500k narrow rows at batch sizes 1k and 10k while a writer
   thread updates random rows, timing each of its statements.

Prints rows/s next to pgbench's, the ratio (goal ≥ 0.7×), the average row
widths (pg_column_size), the ≥ 1,000,000 rows in < 60 s check, and the
longest wait the concurrent writer saw against the backfill's lock_timeout.
Nothing is asserted: it is a measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def pgbench_binary() -> str:
    from dbops.localdb import find_server_binaries

    candidate = Path(find_server_binaries().path("postgres")).parent / "pgbench"
    return str(candidate) if candidate.exists() else (shutil.which("pgbench") or "pgbench")


def run_pgbench(admin: str, scale: int) -> tuple[int, float, float, float]:
    """(rows, seconds, average row bytes, seconds of the COPY phase) of `pgbench -i -s scale` on a fresh database."""
    import psycopg

    name = f"bench_pgbench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_db(admin, name)
    started = time.perf_counter()
    proc = subprocess.run([pgbench_binary(), "-i", "-q", "-s", str(scale), url], capture_output=True, text=True,
                          env={**os.environ, "PGOPTIONS": ""})
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pgbench failed: {proc.stderr.strip()}")
    rows = 100_000 * scale + 10 * scale + scale
    with psycopg.connect(url) as conn:
        width = conn.execute("SELECT avg(pg_column_size(a.*)) FROM pgbench_accounts a").fetchone()[0]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
    detail = re.search(r"done in .*", proc.stderr)
    generate = re.search(r"client-side generate ([0-9.]+) s", proc.stderr)
    print(f"  pgbench -i -s {scale}: {rows:,} rows in {seconds:.2f}s ({detail.group(0) if detail else ''})")
    return rows, seconds, float(width), float(generate.group(1)) if generate else seconds


def run_seed(admin: str, settings, schema_name: str, scale: int) -> tuple[int, float, float, int, float]:
    """(rows, seconds, average row bytes, rows and seconds of the COPY phase) of seed_at_scale on a freshly
    migrated database. The COPY phase runs from the end of the first (tiny tenant) table to the end of the
    last table, as seen by the progress callback; the rest is setup, key/index builds and ANALYZE."""
    import psycopg

    from dbops.migrate import upgrade
    from dbops.scale import seed_at_scale

    name = f"bench_{schema_name}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_db(admin, name)
    schema = settings.schema(schema_name)
    upgrade(settings, schema, url)
    calls: list[tuple[float, str, int, int]] = []

    def progress(table: str, done: int, total: int | None = None) -> None:
        calls.append((time.perf_counter(), table, done, total or done))

    started = time.perf_counter()
    counts = seed_at_scale(settings, schema, url, scale=scale, seed=1, today=datetime.now(UTC).date(),
                           progress=progress)
    seconds = time.perf_counter() - started
    first_table = next(iter(counts))
    copy_rows = sum(c for t, c in counts.items() if t != first_table)
    copy_seconds = calls[-1][0] - max(c[0] for c in calls if c[1] == first_table)
    rows = sum(counts.values())
    with psycopg.connect(url) as conn:
        total_bytes = 0
        for table, count in counts.items():
            if count:
                total_bytes += conn.execute(f'SELECT avg(pg_column_size(t.*)) FROM "{table}" t').fetchone()[0] * count
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
    biggest = ", ".join(f"{t} {c:,}" for t, c in sorted(counts.items(), key=lambda x: -x[1])[:4])
    print(f"  seed {schema_name} --scale {scale:,}: {rows:,} rows in {seconds:.2f}s, of which COPY "
          f"{copy_seconds:.2f}s ({biggest}, …)")
    return rows, seconds, float(total_bytes) / rows, copy_rows, copy_seconds


class Writer(threading.Thread):
    """Updates random rows in its own short transactions and times every statement."""

    def __init__(self, url: str, rows: int) -> None:
        super().__init__(daemon=True)
        self.url, self.rows = url, rows
        self.stop = threading.Event()
        self.durations: list[float] = []

    def run(self) -> None:
        import psycopg

        r = random.Random(0)
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                conn.execute("UPDATE items SET hits = hits + 1 WHERE id = %s", (r.randint(1, self.rows),))
                self.durations.append(time.perf_counter() - started)
                time.sleep(0.001)


def run_backfills(admin: str, rows: int, lock_timeout: str) -> list[tuple[int, float, float, int]]:
    """[(batch size, rows/s, longest writer wait in s, writer statements)] for batch sizes 1k and 10k."""
    import psycopg

    from dbops.backfill import backfill

    name = f"bench_backfill_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_db(admin, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, email text NOT NULL, "
                     "email_lower text, hits int NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO items (email) SELECT 'User' || i || '@Example.ORG' FROM generate_series(1, %s) i",
                     (rows,))
        conn.execute("VACUUM ANALYZE items")
    results = []
    for batch in (1_000, 10_000):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE items SET email_lower = NULL")
            conn.execute("VACUUM items")
        writer = Writer(url, rows)
        writer.start()
        time.sleep(0.2)
        try:
            report = backfill(url, "items", "email_lower = lower(email)", batch_size=batch, lock_timeout=lock_timeout,
                              job_name=f"bench-{batch}")
        finally:
            writer.stop.set()
            writer.join()
        results.append((batch, report.rows_per_second, max(writer.durations), len(writer.durations)))
        print(f"  backfill batch {batch:,}: {report.rows_done:,} rows at {report.rows_per_second:,.0f} rows/s, "
              f"longest batch {report.longest_batch_seconds * 1000:.0f} ms, {report.lock_retries} lock retries; "
              f"writer: {len(writer.durations):,} updates, longest {max(writer.durations) * 1000:.0f} ms")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="users (healthcare) / clients (fashion)")
    parser.add_argument("--pgbench-scale", type=int, default=10, help="pgbench -i -s (100,000 accounts each)")
    parser.add_argument("--backfill-rows", type=int, default=500_000)
    args = parser.parse_args()

    from dbops.config import load_settings

    settings = load_settings(REPO, env={})
    cluster = None
    base = None
    admin = os.environ.get("BENCH_ADMIN_URL")
    if not admin:
        from dbops.localdb import LocalCluster, find_server_binaries

        base = Path(tempfile.mkdtemp(prefix="dbops-bench-scale-"))
        cluster = LocalCluster(base, find_server_binaries())
        cluster.start()
        admin = cluster.url("postgres")
    try:
        print("reference:")
        pgbench = [run_pgbench(admin, args.pgbench_scale) for _ in range(2)]
        print("dbops seed --scale:")
        seeds = {name: run_seed(admin, settings, name, args.scale) for name in ("healthcare", "fashion")}
        print("dbops backfill (500k narrow rows, concurrent writer):")
        lock_timeout = settings.partitions.backfill_lock_timeout
        backfills = run_backfills(admin, args.backfill_rows, lock_timeout)
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(base, ignore_errors=True)

    ref_rows, ref_seconds, ref_width, ref_copy = min(pgbench, key=lambda r: r[1])  # the best run: strict reference
    ref_rate, ref_copy_rate = ref_rows / ref_seconds, ref_rows / ref_copy
    print()
    print(f"{'':24s} {'rows':>11s} {'seconds':>8s} {'rows/s':>10s} {'ratio':>6s} {'bytes/row':>9s}"
          f"   {'COPY phase rows/s':>17s} {'ratio':>6s}")
    print(f"{'pgbench -i (best of 2)':24s} {ref_rows:>11,} {ref_seconds:>8.2f} {ref_rate:>10,.0f} {'1.00x':>6s} "
          f"{ref_width:>9.0f}   {ref_copy_rate:>17,.0f} {'1.00x':>6s}")
    total_rows = total_seconds = copy_rows = copy_seconds = 0.0
    for name, (rows, seconds, width, c_rows, c_seconds) in seeds.items():
        rate, c_rate = rows / seconds, c_rows / c_seconds
        total_rows += rows
        total_seconds += seconds
        copy_rows += c_rows
        copy_seconds += c_seconds
        print(f"{'seed ' + name:24s} {rows:>11,} {seconds:>8.2f} {rate:>10,.0f} {rate / ref_rate:>5.2f}x "
              f"{width:>9.0f}   {c_rate:>17,.0f} {c_rate / ref_copy_rate:>5.2f}x")
    overall, copy_overall = total_rows / total_seconds, copy_rows / copy_seconds
    print(f"{'seed, both schemas':24s} {int(total_rows):>11,} {total_seconds:>8.2f} {overall:>10,.0f} "
          f"{overall / ref_rate:>5.2f}x {'':>9s}   {copy_overall:>17,.0f} {copy_overall / ref_copy_rate:>5.2f}x")
    print()
    ratio = overall / ref_rate
    print(f"seed throughput, end to end (setup, COPY, key/index/FK builds, ANALYZE vs pgbench's generate, keys, "
          f"VACUUM ANALYZE): {ratio:.2f}x pgbench -i rows/s (goal >= 0.7x): {'met' if ratio >= 0.7 else 'NOT met'}")
    print(f"seed throughput, COPY phase only (vs pgbench's client-side generate): "
          f"{copy_overall / ref_copy_rate:.2f}x")
    best = max(seeds.values(), key=lambda s: s[0])
    print(f">= 1,000,000 rows in < 60 s: {int(best[0]):,} rows in {best[1]:.1f}s for one schema, "
          f"{int(total_rows):,} rows in {total_seconds:.1f}s for both: "
          f"{'met' if total_rows >= 1_000_000 and total_seconds < 60 else 'NOT met'}")
    for batch, rate, longest, statements in backfills:
        print(f"backfill batch {batch:>6,}: {rate:>10,.0f} rows/s; longest wait of the concurrent writer "
              f"{longest * 1000:.0f} ms over {statements:,} updates (lock_timeout {lock_timeout})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
