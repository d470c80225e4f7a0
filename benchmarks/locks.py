"""Benchmark of `dbops check locks` against squawk on the PrairieLearn corpus (same files, same run).

Prints: files/statements processed, crashes, the unanalysed share, findings per lock-hazard rule next
to squawk's (rule names mapped), then timings, every one taken in a fresh process next to squawk's
(run as a subprocess in the same run, interleaved, median of --runs; wall and CPU time):

* cold lint throughput: a fresh Python process imports the lint (that one-off import cost is printed
  on its own) and lints the corpus with no cache — statements/s by wall and by CPU time;
  goal >= 5,000 statements/s;
* the cold and the warm (content-hash cache filled, nothing changed) `dbops check locks … --format json`
  command line, next to `squawk --reporter json` on the same files; goal: warm faster than squawk.
  Two reference rows explain the warm figure: the same warm run with `--format github` (no JSON
  rendering), and the floor of any Python command line here — the interpreter plus the standard
  modules dbops' settings and findings are built on (dataclasses, tomllib, pathlib, json);
* one big file: the corpus concatenated to --big-mb megabytes (20 by default), linted by
  `dbops check locks` and by squawk in fresh processes — wall time and peak RSS of each (goal:
  dbops under 10 s and 300 MB, time and memory linear in the input), and, as a floor, sqlglot's
  tokenizer over the same statements one at a time.

    python benchmarks/locks.py [CORPUS_DIR] [--runs 7] [--big-mb 20]

squawk-cli is a bench-only dependency (`pip install squawk-cli`); without it only dbops' figures
print. The corpus runs as one transaction per file on PostgreSQL 16 (PrairieLearn's runner), i.e.
`--assume-in-transaction --pg-version 16` for both tools.

The machine is shared: compare the figures of one run with each other (the ratios), not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpora" / "prairielearn"
GOAL_STATEMENTS_PER_SECOND = 5_000

# squawk rule -> dbops rule, for the lock-hazard rules (squawk's style rules are left out).
SQUAWK_TO_DBOPS = {
    "require-concurrent-index-creation": "require-concurrent-index",
    "require-concurrent-index-deletion": "require-concurrent-index-drop",
    "ban-concurrent-index-creation-in-transaction": "concurrently-in-transaction",
    "adding-field-with-default": "add-column-volatile-default",
    "adding-serial-primary-key-field": "primary-key-without-index",
    "require-enum-value-ordering": "enum-value-ordering",
    "adding-required-field": "add-column-required",
    "adding-not-nullable-field": "set-not-null",
    "adding-foreign-key-constraint": "constraint-missing-not-valid",
    "constraint-missing-not-valid": "constraint-missing-not-valid",
    "disallowed-unique-constraint": "unique-without-index",
    "changing-column-type": "column-type-rewrite",
    "require-lock-timeout": "require-lock-timeout",
    "renaming-column": "rename-object",
    "renaming-table": "rename-object",
    "ban-drop-column": "drop-column",
    "ban-drop-table": "drop-table",
    "ban-drop-not-null": "drop-not-null",
    "ban-truncate-cascade": "truncate-cascade",
}
LOCK_RULES = [
    "require-concurrent-index", "require-concurrent-index-drop", "concurrently-in-transaction",
    "require-concurrent-reindex", "require-concurrent-detach", "add-column-volatile-default", "add-column-rewrite",
    "add-column-required", "set-not-null", "constraint-missing-not-valid", "validate-in-same-transaction",
    "unique-without-index", "exclude-constraint", "column-type-rewrite", "statements-after-exclusive-lock",
    "backfill-in-ddl-transaction", "require-lock-timeout", "rename-object", "drop-column", "drop-table",
    "drop-not-null", "truncate-cascade", "vacuum-full-or-cluster", "lock-table", "primary-key-without-index",
    "enum-add-value-in-transaction", "enum-value-ordering",
]
GOAL_BIG_SECONDS, GOAL_BIG_MB = 10, 300

# Runs a command and prints its peak RSS (kB): the same measure for dbops and squawk.
PEAK_RSS = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)"
)

# A fresh process: import the lint (timed apart), then lint the corpus without cache (timed).
COLD_SCRIPT = """
import json, sys, time
from pathlib import Path
w0, c0 = time.perf_counter(), time.process_time()
from dbops.config import load_settings
from dbops.lint import lint_paths
from dbops.lint import engine, registry, sqltext
registry.load_rules(); sqltext.tokenize("SELECT 1")
w1, c1 = time.perf_counter(), time.process_time()
settings = load_settings(Path(sys.argv[1]), env={})
report = lint_paths([sys.argv[2]], settings, assume_in_transaction=True, pg_version=16, cache=False)
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import_wall": w1 - w0, "import_cpu": c1 - c0, "lint_wall": w2 - w1, "lint_cpu": c2 - c1,
                  "statements": report.summary["statements"]}))
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child, the result) of one subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def squawk_command(files: list[Path]) -> list[str] | None:
    exe = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    if not Path(exe).exists():
        return None
    return [exe, "--pg-version", "16.0", "--assume-in-transaction", "--reporter", "json", *map(str, files)]


def dbops_command(files: list[Path]) -> list[str]:
    exe = Path(sys.executable).parent / "dbops"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "dbops"]
    return [*head, "check", "locks", "--assume-in-transaction", "--pg-version", "16", "--format", "json",
            *map(str, files)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command (median)")
    parser.add_argument("--big-mb", type=int, default=20, help="size of the one-big-file case (0: skip it)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}")
        return 2
    files = sorted(corpus.glob("*.sql"))

    from dataclasses import replace

    from dbops.config import load_settings
    from dbops.lint import lint_paths
    from dbops.lint.api import collect_files

    work = Path(tempfile.mkdtemp(prefix="dbops-locks-bench-"))
    try:
        # A project whose [tool.dbops] is this repository's: the command line's cache lives under it.
        project = work / "project"
        project.mkdir()
        shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
        settings = load_settings(project, env={})
        cli_cache = project / settings.locks.cache_dir if settings.locks.cache_dir else None
        settings = replace(settings, locks=replace(settings.locks, cache_dir=str(work / "cache")))

        # Correctness: every file alone (an exception would be a crash), then the corpus in one run.
        crashes = 0
        for path in collect_files([corpus]):
            try:
                lint_paths([path], settings, assume_in_transaction=True, pg_version=16, cache=False)
            except Exception as exc:  # a crash: must stay 0
                crashes += 1
                print(f"CRASH {path}: {type(exc).__name__}: {exc}")
        cold = lint_paths([corpus], settings, assume_in_transaction=True, pg_version=16, cache=True)
        started = time.perf_counter()
        warm = lint_paths([corpus], settings, assume_in_transaction=True, pg_version=16, cache=True)
        warm_in_process = time.perf_counter() - started

        statements = cold.summary["statements"]
        print(f"corpus: {corpus.resolve()}")
        print(f"files processed: {cold.summary['files']} of {len(files)}   statements: {statements}   "
              f"crashes: {crashes}")
        print(f"unanalysed: {cold.summary['unanalysed']} statements = {100 * cold.summary['unanalysed_share']:.2f}% "
              "(goal < 2%)")

        # Timings: every command in a fresh process, interleaved with squawk's runs.
        env = {**os.environ, "DBOPS_PROJECT_DIR": str(project), "COLUMNS": "200"}
        squawk = squawk_command(files)
        ours = dbops_command(files)
        github = [*ours[:ours.index("--format")], "--format", "github", *map(str, files)]
        floor = [sys.executable, "-c", "import dataclasses, json, pathlib, tomllib"]
        cold_cmd = [sys.executable, "-c", COLD_SCRIPT, str(project), str(corpus)]
        timed(cold_cmd, env)  # first runs: page cache, bytecode
        timed(ours, env)
        squawk_out = timed(squawk, env)[2] if squawk else None
        samples: dict[str, list[tuple[float, float]]] = {
            k: [] for k in ("squawk", "lint", "cli-cold", "cli-warm", "cli-warm-github", "floor")}
        imports: list[tuple[float, float]] = []
        cold_proc = warm_proc = None
        for _ in range(args.runs):
            if squawk:
                wall, cpu, _proc = timed(squawk, env)
                samples["squawk"].append((wall, cpu))
            _wall, _cpu, proc = timed(cold_cmd, env)
            if proc.returncode != 0:
                print(proc.stderr)
                return 2
            data = json.loads(proc.stdout)
            samples["lint"].append((data["lint_wall"], data["lint_cpu"]))
            imports.append((data["import_wall"], data["import_cpu"]))
            if cli_cache is not None:
                shutil.rmtree(cli_cache, ignore_errors=True)
            wall, cpu, cold_proc = timed(ours, env)
            samples["cli-cold"].append((wall, cpu))
            wall, cpu, warm_proc = timed(ours, env)
            samples["cli-warm"].append((wall, cpu))
            samples["cli-warm-github"].append(timed(github, env)[:2])
            samples["floor"].append(timed(floor, env)[:2])
        warm_hits = json.loads(warm_proc.stdout)["summary"]["files"]["cache_hits"]
        same = _findings(cold_proc.stdout) == _findings(warm_proc.stdout) == _as_dicts(cold.findings)
        big = _big_file(files, args.big_mb, project_env=env) if args.big_mb else None
    finally:
        shutil.rmtree(work, ignore_errors=True)

    squawk_findings = json.loads(squawk_out.stdout or "[]") if squawk_out is not None else None
    _comparison(cold, squawk_findings)

    print()
    lint_wall = median([w for w, _ in samples["lint"]])
    lint_cpu = median([c for _, c in samples["lint"]])
    print(f"cold lint, fresh process (median of {args.runs}): {lint_wall * 1000:.0f} ms wall = "
          f"{statements / lint_wall:,.0f} statements/s; {lint_cpu * 1000:.0f} ms CPU = {statements / lint_cpu:,.0f} "
          f"statements/s (goal >= {GOAL_STATEMENTS_PER_SECOND:,}/s: ratio {statements / lint_wall / GOAL_STATEMENTS_PER_SECOND:.2f} "
          f"by wall, {statements / lint_cpu / GOAL_STATEMENTS_PER_SECOND:.2f} by CPU)")
    print(f"  one-off imports before it (sqlglot, rules): {median([w for w, _ in imports]) * 1000:.0f} ms wall, "
          f"{median([c for _, c in imports]) * 1000:.0f} ms CPU")
    print(f"warm rerun in process (cache, {warm.summary['cache_hits']} of {len(files)} files): "
          f"{warm_in_process * 1000:.1f} ms")
    print()
    print(f"fresh-process command lines, median of {args.runs} (wall / CPU):")
    rows = [("squawk --reporter json", "squawk"), ("dbops check locks --format json, cold", "cli-cold"),
            (f"dbops check locks --format json, warm ({warm_hits} cache hits)", "cli-warm"),
            ("  reference: the same warm run, --format github", "cli-warm-github"),
            ("  reference: python -c 'import dataclasses, json, pathlib, tomllib'", "floor")]
    sq_wall = median([w for w, _ in samples["squawk"]])
    sq_cpu = median([c for _, c in samples["squawk"]])
    for label, key in rows:
        if not samples[key]:
            continue
        wall = median([w for w, _ in samples[key]])
        cpu = median([c for _, c in samples[key]])
        ratio = "" if key in ("squawk", "floor") or not samples["squawk"] else \
            f"   squawk/dbops: {sq_wall / wall:.2f}x wall, {sq_cpu / cpu:.2f}x CPU (>1: dbops faster)"
        print(f"  {label:58} {wall * 1000:7.1f} ms / {cpu * 1000:7.1f} ms{ratio}")
    print(f"findings identical cold / warm / in-process: {same}")
    if big:
        print()
        print("\n".join(big))
    return 1 if crashes or not same else 0


def _big_file(files: list[Path], megabytes: int, project_env: dict[str, str]) -> list[str]:
    """One file of ``megabytes`` MB (the corpus, repeated): dbops and squawk, wall time and peak RSS."""
    from dbops.lint.sqltext import LineIndex, scan, statements

    corpus = "".join(f.read_text(encoding="utf-8").rstrip() + "\n;\n" for f in files)
    text = corpus * max(1, megabytes * 1_000_000 // len(corpus))
    work = Path(tempfile.mkdtemp(prefix="dbops-locks-big-"))
    try:
        big = work / "big.sql"
        big.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        count = sum(1 for _ in statements(text, scan(text), index=LineIndex(text)))
        floor = time.perf_counter() - started
        squawk = squawk_command([big])
        rows = [("dbops check locks --format json", dbops_command([big]))]
        if squawk:
            rows.append(("squawk --reporter json", squawk))
        measured = {}
        for label, cmd in rows:
            proc = subprocess.run([sys.executable, "-c", PEAK_RSS, *cmd], capture_output=True, text=True,
                                  env=project_env)
            seconds, rss_kb, _code = proc.stdout.split()
            measured[label] = (float(seconds), int(rss_kb) / 1024)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = [f"one big file: {len(text) / 1e6:.1f} MB, {count:,} statements (the corpus {len(text) // len(corpus)} "
           "times), fresh processes:"]
    for label, (seconds, mb) in measured.items():
        out.append(f"  {label:40} {seconds:6.2f} s   peak RSS {mb:6.0f} MB")
    ours_s, ours_mb = measured["dbops check locks --format json"]
    out.append(f"  reference: sqlglot's tokenizer over the same statements, one at a time, in process: {floor:.2f} s "
               f"(dbops/tokenizer: {ours_s / floor:.2f}x)")
    verdict = "OK" if ours_s < GOAL_BIG_SECONDS and ours_mb < GOAL_BIG_MB else "ABOVE GOAL"
    out.append(f"  dbops: {ours_s:.2f} s (goal < {GOAL_BIG_SECONDS} s), {ours_mb:.0f} MB (goal < {GOAL_BIG_MB} MB): "
               f"{verdict}")
    if "squawk --reporter json" in measured:
        sq_s, sq_mb = measured["squawk --reporter json"]
        out.append(f"  squawk/dbops: {sq_s / ours_s:.2f}x time, {sq_mb / ours_mb:.2f}x peak RSS (>1: dbops faster/lighter)")
    return out


def _findings(stdout: str) -> list[tuple]:
    return [_key(f) for f in json.loads(stdout)["findings"]]


def _as_dicts(findings: list) -> list[tuple]:
    from dbops.findings import Report

    return [_key(f) for f in Report(list(findings)).to_dict()["findings"]]


def _key(finding: dict) -> tuple:
    """A finding without the spelling of its file's directory (the runs name the files differently)."""
    return (Path(finding.get("file", "")).name, *sorted((k, str(v)) for k, v in finding.items() if k != "file"))


def _comparison(cold, squawk: list[dict] | None) -> None:
    ours = Counter(f.rule for f in cold.findings)
    theirs: Counter[str] = Counter()
    raw_theirs: Counter[str] = Counter()
    if squawk is not None:
        for item in squawk:
            raw_theirs[item["rule_name"]] += 1
            mapped = SQUAWK_TO_DBOPS.get(item["rule_name"])
            if mapped:
                theirs[mapped] += 1
    print()
    print(f"{'lock-hazard rule (dbops id)':36} {'dbops':>6} {'squawk':>7}  squawk rules mapped")
    for rule in LOCK_RULES:
        mapped = sorted(k for k, v in SQUAWK_TO_DBOPS.items() if v == rule)
        sq = str(theirs.get(rule, 0)) if squawk is not None else "-"
        print(f"{rule:36} {ours.get(rule, 0):>6} {sq:>7}  {', '.join(f'{m}={raw_theirs.get(m, 0)}' for m in mapped)}")
    others = {k: v for k, v in raw_theirs.items() if k not in SQUAWK_TO_DBOPS}
    if others:
        print(f"squawk style/other rules not compared: {dict(sorted(others.items()))}")


if __name__ == "__main__":
    sys.exit(main())
