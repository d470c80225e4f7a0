"""Data at scale: seed throughput vs `pg_restore -j 2` of the same data (and `pgbench -i`), online backfill.

    python benchmarks/scale.py [--scale N] [--pgbench-scale S] [--rounds R] [--backfill-rows B]

Starts a throwaway PostgreSQL cluster with the developer configuration of
`dbops db start` (fsync on, `wal_level = minimal`) unless BENCH_ADMIN_URL
points at a server, prints the settings it runs with, then:

1. R rounds of, for healthcare and fashion with N users/clients:
   `seed_at_scale` on a copy of a migrated template (migrations are not timed;
   everything else is: partitions for the history, generation, binary COPY,
   key/index builds, ANALYZE), then the **headline reference**: what a user
   would otherwise do to get the same rows into the same schema, restore a
   dump of that seeded database, `pg_restore -j 2` (directory format, made
   untimed right after the seed) into a new database + `ANALYZE`, timed. The
   ratio is restore seconds / seed seconds for the same rows (> 1: the seed
   is faster). A secondary reference, `pgbench -i -s S` (client-side COPY
   with FREEZE, VACUUM ANALYZE, primary keys), gives rows/s against rows/s.
   Each round compares with its own references (the machine's speed drifts);
   the median round is reported, with the range;
2. what each side does per row (average width, columns, index entries built,
   CPU seconds of client and server when the server is local), so the ratio can
   be read for what it is;
3. the phase breakdown of the median round's seeds (the parallel load's steps
   overlap: their sum exceeds the wall time);
4. `backfill` of B narrow rows at batch sizes 1k and 10k while a writer thread
   updates random rows, timing each of its statements.

Goals: seed >= 1.3x faster than `pg_restore -j 2` + ANALYZE of the same data,
rows/s >= 0.7x pgbench -i's, and >= 1,000,000 rows in < 60 s. Nothing is
asserted: it is a measurement.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

SETTINGS_SHOWN = ("server_version", "wal_level", "max_wal_senders", "fsync", "synchronous_commit", "shared_buffers",
                  "maintenance_work_mem", "max_parallel_maintenance_workers", "lc_collate")


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def server_tool(name: str) -> str:
    """``pgbench``, ``pg_dump``, ``pg_restore`` of the server's version (its bindir), else from PATH."""
    from dbops.localdb import find_server_binaries

    candidate = Path(find_server_binaries().path("postgres")).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def pgbench_binary() -> str:
    return server_tool("pgbench")


class ServerCpu:
    """CPU seconds used by a local server's processes (the postmaster's children, reaped ones included)."""

    def __init__(self, admin: str) -> None:
        import psycopg

        self.postmaster = None
        with psycopg.connect(admin) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            self.postmaster = int(self._stat(backend)[1])
        except OSError:  # not on this machine
            self.postmaster = None
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _stat(pid: int | str) -> list[str]:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    def seconds(self) -> float | None:
        if self.postmaster is None:
            return None
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                stat = self._stat(pid)
            except OSError:
                continue
            if int(pid) == self.postmaster:
                total += sum(int(x) for x in stat[11:15])  # utime stime cutime cstime
            elif int(stat[1]) == self.postmaster:
                total += int(stat[11]) + int(stat[12])
        return total / self.tick


@contextmanager
def cpu_meter(server_cpu: ServerCpu):
    """Yields a dict that gets client and server CPU seconds of the block (client: this process and
    its children, i.e. pgbench)."""
    result: dict[str, float | None] = {}
    before = os.times()
    server_before = server_cpu.seconds()
    try:
        yield result
    finally:
        after = os.times()
        time.sleep(0.3)  # closed connections' backends exit and are reaped into the postmaster's total
        server_after = server_cpu.seconds()
        result["client"] = sum(after[:4]) - sum(before[:4])
        result["server"] = None if server_before is None else server_after - server_before


@dataclass
class Run:
    """One timed load: rows, seconds, and what was done per row."""

    rows: int
    seconds: float
    width: float  # average row bytes (pg_column_size)
    columns: float  # average columns per row
    index_entries: float  # index entries built per row
    cpu: dict = field(default_factory=dict)
    phases: dict = field(default_factory=dict)
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def table_profile(url: str, counts: dict[str, int]) -> tuple[float, float, float]:
    """(average row bytes, columns per row, index entries per row) over ``counts``' tables."""
    import psycopg

    rows = sum(counts.values())
    width = columns = entries = 0.0
    with psycopg.connect(url) as conn:
        for table, count in counts.items():
            if not count:
                continue
            width += float(conn.execute(f'SELECT avg(pg_column_size(t.*)) FROM "{table}" t').fetchone()[0]) * count
            columns += conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                                    "AND NOT attisdropped", (f'"{table}"',)).fetchone()[0] * count
            indexes = conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass",
                                   (f'"{table}"',)).fetchone()[0]
            entries += indexes * count  # partial indexes count as full: an upper bound
    return width / rows, columns / rows, entries / rows


def run_pgbench(admin: str, scale: int, server_cpu: ServerCpu) -> Run:
    import psycopg

    name = f"bench_pgbench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_db(admin, name)
    with cpu_meter(server_cpu) as cpu:
        started = time.perf_counter()
        proc = subprocess.run([pgbench_binary(), "-i", "-q", "-s", str(scale), url], capture_output=True, text=True,
                              env={**os.environ, "PGOPTIONS": ""})
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pgbench failed: {proc.stderr.strip()}")
    counts = {"pgbench_accounts": 100_000 * scale, "pgbench_tellers": 10 * scale, "pgbench_branches": scale}
    width, columns, entries = table_profile(url, counts)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
    detail = re.search(r"done in .*", proc.stderr)
    return Run(sum(counts.values()), seconds, width, columns, entries, cpu, detail=detail.group(0) if detail else "")


def make_template(admin: str, settings, schema_name: str) -> str:
    import psycopg

    from dbops.revisions import upgrade

    name = f"bench_tpl_{schema_name}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(settings, settings.schema(schema_name), with_db(admin, name))
    return name


def run_seed(admin: str, settings, schema_name: str, template: str, scale: int, server_cpu: ServerCpu,
             keep: bool = False) -> tuple[Run, str]:
    """Seed a copy of the migrated template; (the run, the database's name — dropped unless ``keep``)."""
    import psycopg

    from dbops.scale import seed_at_scale

    name = f"bench_{schema_name}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = with_db(admin, name)
    phases: dict[str, float] = {}
    with cpu_meter(server_cpu) as cpu:
        started = time.perf_counter()
        counts = seed_at_scale(settings, settings.schema(schema_name), url, scale=scale, seed=1,
                               today=datetime.now(UTC).date(), timings=phases)
        seconds = time.perf_counter() - started
    width, columns, entries = table_profile(url, counts)
    if not keep:
        drop_databases(admin, [name])
    biggest = ", ".join(f"{t} {c:,}" for t, c in sorted(counts.items(), key=lambda x: -x[1])[:3])
    return Run(sum(counts.values()), seconds, width, columns, entries, cpu, phases, detail=biggest), name


def run_restore(admin: str, seeded: str, rows: int, server_cpu: ServerCpu, jobs: int = 2) -> Run:
    """`pg_dump -Fd` of the seeded database (untimed), then `pg_restore -j JOBS` into a new database + ANALYZE (timed)."""
    import psycopg

    dump = Path(tempfile.mkdtemp(prefix="dbops-bench-dump-")) / "dump"
    target = f"bench_restore_{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "PGOPTIONS": ""}
    try:
        proc = subprocess.run([server_tool("pg_dump"), "-Fd", "-j", str(jobs), "-f", str(dump), with_db(admin, seeded)],
                              capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"pg_dump failed: {proc.stderr.strip()}")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            conn.execute(f'CREATE DATABASE "{target}" TEMPLATE template0')
        url = with_db(admin, target)
        with cpu_meter(server_cpu) as cpu:
            started = time.perf_counter()
            proc = subprocess.run([server_tool("pg_restore"), "-j", str(jobs), "--no-owner", "-d", url, str(dump)],
                                  capture_output=True, text=True, env=env)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("ANALYZE")
            seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"pg_restore failed: {proc.stderr.strip()}")
        restored = 0
        with psycopg.connect(url) as conn:
            tables = conn.execute("SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'r' "
                                  "AND c.relnamespace = 'public'::regnamespace").fetchall()
            for (table,) in tables:
                restored += conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if restored < rows:
            raise SystemExit(f"pg_restore restored {restored:,} rows, the seed wrote {rows:,}")
        return Run(rows, seconds, 0.0, 0.0, 0.0, cpu, detail=f"pg_restore -j {jobs} + ANALYZE")
    finally:
        drop_databases(admin, [target])
        shutil.rmtree(dump.parent, ignore_errors=True)


def print_phases(name: str, run: Run) -> None:
    """The seed's steps: global ones, then per table (copy, builds, commit, analyze)."""
    phases = dict(run.phases)
    total = phases.pop("total", run.seconds)
    head = [(key, phases.pop(key)) for key in ("setup", "partitions", "generate + pack (client CPU)",
                                                "cleanup after failure") if key in phases]
    print(f"  {name}: {run.rows:,} rows in {total:.2f}s wall; " + ", ".join(f"{k} {v:.2f}s" for k, v in head))
    tables: dict[str, dict[str, float]] = {}
    builds: dict[str, list[tuple[str, float]]] = {}
    for key, seconds in phases.items():
        step, _, what = key.partition(" ")
        table = what.split(".", 1)[0] if step == "build" else what
        tables.setdefault(table, {})
        tables[table][step] = tables[table].get(step, 0.0) + seconds
        if step == "build":
            builds.setdefault(table, []).append((what.split(".", 1)[-1], seconds))
    print(f"    {'table':28s} {'prepare':>8s} {'copy':>7s} {'builds':>7s} {'commit':>7s} {'analyze':>8s}   index builds")
    for table, steps in tables.items():
        detail = ", ".join(f"{index} {s:.2f}" for index, s in builds.get(table, []))
        print(f"    {table:28s} {steps.get('prepare', 0):8.2f} {steps.get('copy', 0):7.2f} {steps.get('build', 0):7.2f} "
              f"{steps.get('commit', 0):7.2f} {steps.get('analyze', 0):8.2f}   {detail}")
    sums = {step: sum(s.get(step, 0.0) for s in tables.values()) for step in ("prepare", "copy", "build", "commit", "analyze")}
    print(f"    {'sum (steps overlap)':28s} {sums['prepare']:8.2f} {sums['copy']:7.2f} {sums['build']:7.2f} "
          f"{sums['commit']:7.2f} {sums['analyze']:8.2f}")


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


def show_settings(admin: str) -> None:
    import psycopg

    with psycopg.connect(admin) as conn:
        values = dict(conn.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                                   (list(SETTINGS_SHOWN),)).fetchall())
        values["lc_collate"] = conn.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()"
                                            ).fetchone()[0]
    print("server: " + ", ".join(f"{k}={values.get(k)}" for k in SETTINGS_SHOWN) + f"; {os.cpu_count()} CPUs")
    if values.get("wal_level") != "minimal":
        print("  note: wal_level is not minimal: COPY into new storage is WAL-logged (for pgbench as for the seed)")


def run_rounds(admin: str, settings, templates: dict[str, str], args, server_cpu: ServerCpu) -> list[tuple]:
    """[(ratios, pgbench run, {schema: seed run}, {schema: restore run})] per round.

    ``ratios``: ``restore:<schema>`` = restore seconds / seed seconds (the headline), ``<schema>`` = seed rows/s /
    pgbench rows/s, and ``restore`` / ``overall`` for both schemas together.
    """
    rounds = []
    for index in range(args.rounds):
        pgbench = run_pgbench(admin, args.pgbench_scale, server_cpu)
        seeds, restores = {}, {}
        for name, template in templates.items():
            seeds[name], seeded = run_seed(admin, settings, name, template, args.scale, server_cpu, keep=True)
            try:
                restores[name] = run_restore(admin, seeded, seeds[name].rows, server_cpu)
            finally:
                drop_databases(admin, [seeded])
        rows = sum(s.rows for s in seeds.values())
        seconds = sum(s.seconds for s in seeds.values())
        ratios = {**{name: s.rate / pgbench.rate for name, s in seeds.items()}, "overall": rows / seconds / pgbench.rate,
                  **{f"restore:{name}": restores[name].seconds / s.seconds for name, s in seeds.items()},
                  "restore": sum(r.seconds for r in restores.values()) / seconds}
        rounds.append((ratios, pgbench, seeds, restores))
        print(f"round {index + 1}: "
              + "; ".join(f"{n} {s.rows:,} rows: seed {s.seconds:.2f}s, pg_restore -j 2 + ANALYZE "
                          f"{restores[n].seconds:.2f}s = {ratios['restore:' + n]:.2f}x" for n, s in seeds.items())
              + f"; both {ratios['restore']:.2f}x | pgbench -i {pgbench.rate:,.0f} rows/s, seed "
              f"{ratios['overall']:.2f}x", flush=True)
    return rounds


def drop_databases(admin: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fmt_cpu(run: Run) -> str:
    server = run.cpu.get("server")
    client = run.cpu.get("client") or 0.0
    if server is None:
        return f"client {client:.2f}s"
    return f"client {client:.2f}s + server {server:.2f}s = {(client + server) / run.rows * 1e6:.2f} CPU-µs/row"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000, help="users (healthcare) / clients (fashion)")
    parser.add_argument("--pgbench-scale", type=int, default=10, help="pgbench -i -s (100,000 accounts each)")
    parser.add_argument("--rounds", type=int, default=3, help="pgbench + both seeds, this many times")
    parser.add_argument("--backfill-rows", type=int, default=500_000)
    args = parser.parse_args()

    from dbops.config import load_settings
    from dbops.localdb import temporary_cluster

    settings = load_settings(REPO, env={})
    admin = os.environ.get("BENCH_ADMIN_URL")
    with (temporary_cluster("dbops-bench-scale-", tuned_for_tests=False) if not admin else _given(admin)) as cluster:
        admin = admin or cluster.url("postgres")
        show_settings(admin)
        server_cpu = ServerCpu(admin)
        templates = {name: make_template(admin, settings, name) for name in ("healthcare", "fashion")}
        try:
            rounds = run_rounds(admin, settings, templates, args, server_cpu)
        finally:
            drop_databases(admin, list(templates.values()))
        print("dbops backfill (narrow rows, concurrent writer):")
        lock_timeout = settings.partitions.backfill_lock_timeout
        backfills = run_backfills(admin, args.backfill_rows, lock_timeout)

    ranked = sorted(rounds, key=lambda r: r[0]["restore"])
    median_ratios, pgbench, seeds, restores = ranked[(len(ranked) - 1) // 2]  # the median round (the lower of two)
    print()
    print(f"median of {len(rounds)} rounds (each against the references of its round):")
    print(f"{'':26s} {'rows':>10s} {'seconds':>8s} {'vs seed':>8s} {'range':>11s}   CPU")
    for name, run in seeds.items():
        restore = restores[name]
        spread = [r[0]["restore:" + name] for r in rounds]
        print(f"{'seed ' + name:26s} {run.rows:>10,} {run.seconds:>8.2f} {'1.00x':>8s} {'':>11s}   {fmt_cpu(run)}")
        print(f"{'  pg_restore -j 2 + ANALYZE':26s} {restore.rows:>10,} {restore.seconds:>8.2f} "
              f"{median_ratios['restore:' + name]:>7.2f}x {min(spread):>5.2f}-{max(spread):.2f}x   {fmt_cpu(restore)}")
    rows = sum(s.rows for s in seeds.values())
    seconds = sum(s.seconds for s in seeds.values())
    spread = [r[0]["restore"] for r in rounds]
    print(f"{'both schemas':26s} {rows:>10,} {seconds:>8.2f} {median_ratios['restore']:>7.2f}x "
          f"{min(spread):>5.2f}-{max(spread):.2f}x  (pg_restore {sum(r.seconds for r in restores.values()):.2f}s)")
    print()
    print("secondary reference, pgbench -i (rows/s against rows/s; other rows, other shapes):")
    print(f"{'':22s} {'rows':>10s} {'seconds':>8s} {'rows/s':>9s} {'ratio':>6s} {'range':>11s} {'bytes/row':>9s} "
          f"{'cols/row':>8s} {'idx/row':>7s}   CPU")
    print(f"{'pgbench -i':22s} {pgbench.rows:>10,} {pgbench.seconds:>8.2f} {pgbench.rate:>9,.0f} {'1.00x':>6s} "
          f"{'':>11s} {pgbench.width:>9.0f} {pgbench.columns:>8.1f} {pgbench.index_entries:>7.1f}   {fmt_cpu(pgbench)}")
    for name, run in seeds.items():
        spread = [r[0][name] for r in rounds]
        print(f"{'seed ' + name:22s} {run.rows:>10,} {run.seconds:>8.2f} {run.rate:>9,.0f} {median_ratios[name]:>5.2f}x "
              f"{min(spread):>5.2f}-{max(spread):.2f}x {run.width:>9.0f} {run.columns:>8.1f} {run.index_entries:>7.1f}   "
              f"{fmt_cpu(run)}")
    spread = [r[0]["overall"] for r in rounds]
    print(f"{'seed, both schemas':22s} {rows:>10,} {seconds:>8.2f} {rows / seconds:>9,.0f} "
          f"{median_ratios['overall']:>5.2f}x {min(spread):>5.2f}-{max(spread):.2f}x")
    print()
    print("phases of that round's seeds (seconds):")
    print(f"  pgbench -i: {pgbench.detail}")
    for name, run in seeds.items():
        print_phases(name, run)
    print()
    headline = median_ratios["restore"]
    print(f"seed vs pg_restore -j 2 + ANALYZE of the same data: {headline:.2f}x faster (goal >= 1.3x): "
          f"{'met' if headline >= 1.3 else 'NOT met'}")
    ratio = median_ratios["overall"]
    print(f"seed throughput: {ratio:.2f}x pgbench -i rows/s, end to end (goal >= 0.7x): "
          f"{'met' if ratio >= 0.7 else 'NOT met'}")
    best = max(seeds.values(), key=lambda s: s.rows)
    print(f">= 1,000,000 rows in < 60 s: {best.rows:,} rows in {best.seconds:.1f}s for one schema, "
          f"{rows:,} rows in {seconds:.1f}s for both: {'met' if rows >= 1_000_000 and seconds < 60 else 'NOT met'}")
    for batch, rate, longest, statements in backfills:
        print(f"backfill batch {batch:>6,}: {rate:>10,.0f} rows/s; longest wait of the concurrent writer "
              f"{longest * 1000:.0f} ms over {statements:,} updates (lock_timeout {lock_timeout})")
    return 0


@contextmanager
def _given(admin: str):
    yield None


if __name__ == "__main__":
    sys.exit(main())
