"""Benchmark of `dbops check budgets` (issue 6).

1. Static: 200 hot queries (variants of budgets.yaml's: the originals, each
   with an extra filter on an unindexed column, with SELECT *, without the
   tenant filter…) written to a budgets file, then loaded (YAML + JSON Schema
   + SQL parse) and checked against the models. Printed next to a bare
   ``sqlglot.parse_one`` of the same 200 statements in the same run (ratio).
2. Dynamic: both schemas seeded at ``--scale`` in a throwaway database; the
   time ``check_dynamic`` spends per query (two EXPLAINs + ``--runs`` timed
   executions, each in a rolled-back transaction, parameters from the data)
   next to one plain ``EXPLAIN`` round trip of the same statement, measured
   in the same run (ratio).

    python benchmarks/budgets.py                    # throwaway local cluster in a temp dir
    python benchmarks/budgets.py --admin-url URL    # an existing server (creates and drops databases)
    python benchmarks/budgets.py --scale 50000 --runs 20 --static-only
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from dataclasses import replace
from pathlib import Path

from _shared import server

from dbops.config import url_with_database

REPO = Path(__file__).resolve().parents[1]


# -- static -------------------------------------------------------------------------------------------


def variants(budget_file, settings, count: int) -> list:
    """``count`` queries: the originals, then variants that add a filter, a SELECT *, or drop the tenant filter."""
    from dbops.budgets.analysis import analyze
    from dbops.budgets.catalog import catalog_for_schema

    catalogs = {name: catalog_for_schema(settings.schema(name)) for name in budget_file.schemas}
    base = list(budget_file.queries)
    out = []
    for i in range(count):
        query = base[i % len(base)]
        kind = (i // len(base)) % 4
        sql = query.sql
        if kind:
            catalog = catalogs[query.schema]
            driver = next(a for a in analyze(query.sql, catalog).accesses if a.driver)
            indexed = {k for index in catalog.tables[driver.table].indexes for k in index.keys}
            free = [c for c in catalog.tables[driver.table].columns if c not in indexed] or ["id"]
            column = free[i % len(free)]
            if kind == 1:  # a new filter on an unindexed column
                sql = sql.replace("WHERE ", f"WHERE {driver.alias}.{column} IS NOT NULL AND {driver.alias}.{column} "
                                  f"= {driver.alias}.{column} AND ", 1)
            elif kind == 2:  # SELECT *
                sql = "SELECT *" + sql[sql.index("\nFROM") if "\nFROM" in sql else sql.index(" FROM"):]
            else:  # a rewritten projection
                sql = sql.replace("SELECT ", f"SELECT {driver.alias}.{column} AS extra_{i}, ", 1)
        out.append(replace(query, name=f"{query.name}_v{i}", sql=sql))
    return out


def budgets_yaml(queries: list) -> str:
    import yaml

    doc: dict = {"version": 1, "schemas": {}}
    for q in queries:
        spec: dict = {"sql": q.sql, "max_rows_examined": q.max_rows_examined, "max_ms": q.max_ms}
        params = []
        for p in q.params:
            values = dict(p.values)
            if p.from_sql:
                values["from_sql"] = p.from_sql
            params.append(values)
        if q.placeholders:
            spec["params"] = params
        for key in ("residual_filters", "ignore"):
            if getattr(q, key):
                spec[key] = list(getattr(q, key))
        if q.allow_sort:
            spec["allow_sort"] = True
        doc["schemas"].setdefault(q.schema, {"queries": {}})["queries"][q.name] = spec
    return yaml.safe_dump(doc, sort_keys=False)


def best_of(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def static_benchmark(settings, count: int, repeat: int) -> None:
    import sqlglot

    from dbops.budgets import check_static, load_budgets, parse_budgets
    from dbops.budgets.catalog import catalog_for_schema

    original = load_budgets(REPO / "budgets.yaml", root=REPO)
    queries = variants(original, settings, count)
    text = budgets_yaml(queries)
    catalogs = {name: catalog_for_schema(settings.schema(name)) for name in original.schemas}
    loaded = parse_budgets(text, path="variants.yaml")
    report = check_static(loaded, settings, catalogs=catalogs)

    parse_only = best_of(lambda: [sqlglot.parse_one(q.sql, dialect="postgres") for q in queries], repeat)
    load = best_of(lambda: parse_budgets(text, path="variants.yaml"), repeat)
    check = best_of(lambda: check_static(loaded, settings, catalogs=catalogs), repeat)
    broken = report.summary["budgets"]["broken"]
    print(f"static: {count} queries ({broken} with findings, {len(report.findings)} findings), best of {repeat}")
    print(f"{'step':44} {'total ms':>9} {'per query':>10} {'vs parse':>9}")
    for label, seconds in [
        ("sqlglot.parse_one of the 200 SQL (reference)", parse_only),
        ("load: YAML + JSON Schema + SQL checks", load),
        ("check_static: qualify, indexes, tenant…", check),
        ("load + check_static", load + check),
    ]:
        print(f"{label:44} {seconds * 1000:9.1f} {seconds * 1000 / count:8.2f}ms {seconds / parse_only:8.1f}x")
    print(f"=> {count / (load + check):,.0f} queries/s end to end\n")


# -- dynamic ------------------------------------------------------------------------------------------


def dynamic_benchmark(settings, admin_url: str, scale: int, runs: int) -> None:
    import psycopg

    from dbops.budgets import check_dynamic, load_budgets
    from dbops.budgets.dynamic import _Session
    from dbops.budgets.params import render
    from dbops.localdb import create_database
    from dbops.revisions import upgrade
    from dbops.scale import seed_at_scale

    budget_file = load_budgets(REPO / "budgets.yaml", root=REPO)
    print(f"dynamic: both schemas seeded at scale {scale:,}, {runs} timed runs per query")
    print(f"{'query':40} {'check ms':>9} {'EXPLAIN ms':>11} {'ratio':>8}  verdict")
    ratios = []
    for name in budget_file.schemas:
        database = f"bench_budgets_{name}_{uuid.uuid4().hex[:6]}"
        create_database(admin_url, database)
        url = url_with_database(admin_url, database)
        try:
            upgrade(settings, settings.schema(name), url)
            seed_at_scale(settings, settings.schema(name), url, scale=scale, seed=1)
            marks: list[tuple[str, float]] = []
            start = time.perf_counter()
            report = check_dynamic(budget_file, settings, name, url, runs=runs,
                                   progress=lambda q, marks=marks: marks.append((q, time.perf_counter())))
            end = time.perf_counter()
            verdicts = {row["query"]: row["verdict"] for row in report.summary["budgets"]["queries"]}
            setup = marks[0][1] - start
            per_query = {q: (marks[i + 1][1] if i + 1 < len(marks) else end) - t for i, (q, t) in enumerate(marks)}
            # the plain EXPLAIN round trip of each statement, same connection settings, same run
            with psycopg.connect(url) as conn:
                session = _Session(conn, settings, budget_file, name, url, None)
                for query in budget_file.for_schema(name):
                    statement = render(conn, query.sql, session._parameter_sets(query)[0])
                    conn.rollback()

                    def explain(statement=statement) -> None:
                        conn.execute(f"EXPLAIN {statement}").fetchall()
                        conn.rollback()

                    explain()
                    reference = statistics.median(best_of(explain, 1) for _ in range(15))
                    seconds = per_query[query.id]
                    ratios.append(seconds / reference)
                    print(f"{query.id:40} {seconds * 1000:9.1f} {reference * 1000:11.2f} {seconds / reference:7.0f}x"
                          f"  {verdicts[query.name]}")
            print(f"{name + ' setup (connect, ANALYZE, catalogs)':40} {setup * 1000:9.1f}")
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(f"=> median check / EXPLAIN = {statistics.median(ratios):.0f}x "
          f"(per query: 2 EXPLAINs, 1 EXPLAIN ANALYZE, {runs} timed runs, each in its own transaction;\n"
          "   plus the first use of each from_sql parameter picker, an aggregate over a table)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--admin-url")
    parser.add_argument("--static-only", action="store_true")
    args = parser.parse_args()
    from dbops.config import load_settings

    settings = load_settings(REPO, env={})
    static_benchmark(settings, args.queries, args.repeat)
    if not args.static_only:
        with server(args.admin_url) as admin_url:
            dynamic_benchmark(settings, admin_url, args.scale, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
