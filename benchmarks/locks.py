"""Benchmark of `dbops check locks` against squawk on the PrairieLearn corpus (same files, same run).

Prints: files/statements processed, crashes, the unanalysed share, findings per lock-hazard rule next
to squawk's (rule names mapped), cold throughput (statements/s), and the warm (cached) rerun time
against squawk's time — as ratios measured in this run.

    python benchmarks/locks.py [CORPUS_DIR]

squawk-cli is a bench-only dependency (`pip install squawk-cli`); without it only dbops' figures
print. The corpus runs as one transaction per file on PostgreSQL 16 (PrairieLearn's runner), i.e.
`--assume-in-transaction --pg-version 16` for both tools.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpora" / "prairielearn"

# squawk rule -> dbops rule, for the lock-hazard rules (squawk's style rules are left out).
SQUAWK_TO_DBOPS = {
    "require-concurrent-index-creation": "require-concurrent-index",
    "require-concurrent-index-deletion": "require-concurrent-index-drop",
    "ban-concurrent-index-creation-in-transaction": "concurrently-in-transaction",
    "adding-field-with-default": "add-column-volatile-default",
    "adding-serial-primary-key-field": "unique-without-index",
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
    "drop-not-null", "truncate-cascade", "vacuum-full-or-cluster", "lock-table",
]


def squawk_run(files: list[Path]) -> tuple[list[dict] | None, float]:
    exe = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    if not Path(exe).exists():
        return None, 0.0
    started = time.perf_counter()
    proc = subprocess.run(
        [exe, "--pg-version", "16.0", "--assume-in-transaction", "--reporter", "json", *map(str, files)],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    try:
        return json.loads(proc.stdout or "[]"), elapsed
    except json.JSONDecodeError:
        print(f"squawk output not JSON (exit {proc.returncode}): {proc.stderr[:200]}")
        return None, elapsed


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}")
        return 2
    files = sorted(corpus.glob("*.sql"))

    from dataclasses import replace

    from dbops.config import load_settings
    from dbops.lint import lint_paths
    from dbops.lint.api import collect_files

    with tempfile.TemporaryDirectory() as cache_dir:
        settings = load_settings(ROOT, env={})
        settings = replace(settings, locks=replace(settings.locks, cache_dir=cache_dir))
        # per-file crash accounting: lint each file alone first (an exception would be a crash)
        crashes = 0
        lint_paths(files[:1], settings, assume_in_transaction=True, pg_version=16, cache=False)  # imports, warm-up
        started = time.perf_counter()
        cold = lint_paths([corpus], settings, assume_in_transaction=True, pg_version=16, cache=True)
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        warm = lint_paths([corpus], settings, assume_in_transaction=True, pg_version=16, cache=True)
        warm_seconds = time.perf_counter() - started
        for path in collect_files([corpus]):
            try:
                lint_paths([path], settings, assume_in_transaction=True, pg_version=16, cache=False)
            except Exception as exc:  # a crash: must stay 0
                crashes += 1
                print(f"CRASH {path}: {type(exc).__name__}: {exc}")
        # the warm rerun as a user runs it: a fresh process
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c",
             "import sys; from dataclasses import replace; from dbops.config import load_settings; "
             "from pathlib import Path; from dbops.lint import lint_paths; s = load_settings(Path(sys.argv[1]), env={}); "
             "s = replace(s, locks=replace(s.locks, cache_dir=sys.argv[3])); "
             "r = lint_paths([sys.argv[2]], s, assume_in_transaction=True, pg_version=16); "
             "print(r.summary['cache_hits'])", str(ROOT), str(corpus), cache_dir],
            capture_output=True, text=True,
        )
        warm_process_seconds = time.perf_counter() - started

    statements = cold.summary["statements"]
    print(f"corpus: {corpus.resolve()}")
    print(f"files processed: {cold.summary['files']} of {len(files)}   statements: {statements}   crashes: {crashes}")
    print(f"unanalysed: {cold.summary['unanalysed']} statements = {100 * cold.summary['unanalysed_share']:.2f}% "
          "(goal < 2%)")
    squawk, squawk_seconds = squawk_run(files)

    ours = Counter(f.rule for f in cold.findings)
    theirs = Counter()
    raw_theirs = Counter()
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
    print()
    cold_rate = statements / cold_seconds
    print(f"cold: {cold_seconds:.3f} s = {cold_rate:,.0f} statements/s (goal >= 5,000/s; ratio {cold_rate / 5000:.2f})")
    print(f"warm rerun (cache, in process): {warm_seconds * 1000:.1f} ms, {warm.summary['cache_hits']} of "
          f"{len(files)} files from cache")
    print(f"warm rerun (cache, fresh Python process): {warm_process_seconds * 1000:.1f} ms "
          f"(cache hits: {proc.stdout.strip() or proc.stderr.strip()[:80]})")
    if squawk is not None:
        print(f"squawk (one process, all files): {squawk_seconds * 1000:.1f} ms")
        print(f"ratio squawk / dbops warm: in process {squawk_seconds / warm_seconds:.2f}x, "
              f"fresh process {squawk_seconds / warm_process_seconds:.2f}x  (>1 means dbops is faster)")
        print(f"ratio squawk / dbops cold: {squawk_seconds / cold_seconds:.2f}x")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
