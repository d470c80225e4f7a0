"""Which ALTER COLUMN … TYPE changes rewrite the table: dbops' table checked against PostgreSQL itself
(a rewrite gives the table a new relfilenode), and the current types read from a live database
(``check locks --database-url``).
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dbops.lint.live import parse_type
from dbops.lint.pgtypes import change_cost

CHANGES = [
    ("varchar(20)", "varchar(50)"), ("varchar(20)", "varchar"), ("varchar(20)", "text"), ("text", "varchar"),
    ("text", "varchar(10)"), ("varchar(50)", "varchar(20)"), ("bpchar(10)", "varchar"), ("bpchar(10)", "text"),
    ("numeric(10,2)", "numeric(12,2)"), ("numeric(10,2)", "numeric"), ("numeric(12,2)", "numeric(10,2)"),
    ("numeric(10,2)", "numeric(12,3)"), ("timestamp(3)", "timestamp(6)"), ("timestamp(6)", "timestamp(3)"),
    ("interval(3)", "interval"), ("cidr", "inet"), ("integer", "bigint"), ("xml", "text"), ("varbit(5)", "varbit(10)"),
    ("bit(5)", "bit(10)"), ("text[]", "varchar[]"), ("json", "jsonb"), ("timestamptz", "timestamptz(3)"),
]


def test_rewrite_predictions_match_postgresql(empty_db: str) -> None:
    wrong = []
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for number, (old, new) in enumerate(CHANGES):
            table = f"t{number}"
            conn.execute(f"CREATE TABLE {table} (c {old})")
            before = conn.execute(f"SELECT pg_relation_filenode('{table}')").fetchone()[0]
            conn.execute(f"ALTER TABLE {table} ALTER COLUMN c TYPE {new}")
            rewritten = conn.execute(f"SELECT pg_relation_filenode('{table}')").fetchone()[0] != before
            predicted = change_cost(parse_type(old), parse_type(new))
            if (predicted == "rewrite") != rewritten:
                wrong.append((old, new, predicted, rewritten))
    assert wrong == []


def test_check_locks_reads_current_types_from_database_url(dbops, empty_db: str, tmp_path: Path) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id bigint, body varchar(20), code text)")
    (tmp_path / "pyproject.toml").write_text('[tool.dbops]\n[tool.dbops.locks]\ncache_dir = ".cache"\n')
    sql = tmp_path / "widen.sql"
    sql.write_text("SET lock_timeout = '2s';\nALTER TABLE notes ALTER COLUMN body TYPE varchar(200);\n"
                   "ALTER TABLE notes ALTER COLUMN code TYPE varchar(5);\n")
    env = {"DBOPS_PROJECT_DIR": str(tmp_path)}
    blind = json.loads(dbops("check", "locks", str(sql), "--format", "json", env=env).stdout)["findings"]
    assert [f["line"] for f in blind if f["rule"] == "column-type-rewrite"] == [2, 3]
    for _ in range(2):  # the second run comes from the cache, keyed by the database's types too
        result = dbops("check", "locks", str(sql), "--format", "json", "--database-url", empty_db, env=env)
        found = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "column-type-rewrite"]
        assert [(f["line"], f["details"]["old_type"]) for f in found] == [(3, "text")]


@pytest.mark.parametrize("text", ["character varying(20)", "numeric(12,2)", "timestamp(3) with time zone", "integer[]"])
def test_format_type_strings_parse(text: str) -> None:
    assert parse_type(text) is not None
