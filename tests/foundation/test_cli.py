"""The CLI surface: help lists the commands of docs/design.md, imports stay light, migrate is idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "alembic", "psycopg", "sqlglot", "yaml")


def test_help_lists_the_commands(dbops):
    result = dbops("--help")
    assert result.exit_code == 0
    for command in ("generate", "migrate", "deploy", "status", "reset", "seed", "studio", "check", "rules", "db"):
        assert f"  {command} " in result.stdout or f"  {command}\n" in result.stdout, command
    check = dbops("check", "--help")
    for command in ("locks", "indexes", "budgets", "all"):
        assert f"  {command} " in check.stdout, command


def test_help_imports_nothing_heavy():
    """`dbops --help` and every command's help import none of the heavy libraries."""
    for args in (["--help"], ["check", "--help"], ["migrate", "--help"], ["db", "start", "--help"],
                 ["check", "locks", "--help"], ["check", "indexes", "--help"], ["check", "budgets", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "dbops", *args],
            capture_output=True, text=True, env={**os.environ, "DBOPS_PROJECT_DIR": str(REPO)}, check=False,
        )
        assert proc.returncode == 0, proc.stderr[-500:]
        imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
        assert not imported & set(HEAVY), (args, imported & set(HEAVY))


def test_unknown_option_is_usage_error(dbops):
    result = dbops("migrate", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_migrate_twice_second_is_noop(dbops, empty_db):
    first = dbops("migrate", "healthcare", "--no-generate", "--database-url", empty_db)
    assert first.exit_code == 0, first.output
    with psycopg.connect(empty_db) as conn:
        version = conn.execute("select version_num from alembic_version").fetchone()[0]
        tables = conn.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0]
    second = dbops("migrate", "healthcare", "--no-generate", "--database-url", empty_db)
    assert second.exit_code == 0, second.output
    assert "up to date" in second.stdout
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == version
        assert conn.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0] == tables


@pytest.mark.slow
def test_migrate_both_schemas_on_the_local_database(dbops, pg_server):
    """With no URL configured, migrate starts/uses the local cluster and migrates both databases."""
    result = dbops("migrate", "--no-generate")
    assert result.exit_code == 0, result.output
    assert "using the local database" in result.stderr
    for name in ("healthcare", "fashion"):
        with psycopg.connect(pg_server.url(name)) as conn:
            assert conn.execute("select count(*) from alembic_version").fetchone()[0] == 1


@pytest.mark.slow
def test_debug_shows_traceback_only_when_asked(dbops_process):
    url = "postgresql://u:pw@127.0.0.1:1/x?connect_timeout=1"
    plain = dbops_process("migrate", "healthcare", "--database-url", url)
    assert plain.exit_code == 3 and "Traceback" not in plain.stderr
    debug = dbops_process("--debug", "migrate", "healthcare", "--database-url", url)
    assert "Traceback" in debug.stderr


def test_version_alone_prints_the_version(dbops, dbops_process):
    from dbops import __version__

    for flag in ("--version", "-V"):
        result = dbops(flag)
        assert (result.exit_code, result.stdout) == (0, f"dbops {__version__}\n"), result.output
    console_script = subprocess.run([str(Path(sys.executable).parent / "dbops"), "-V"], capture_output=True,
                                    text=True, check=False)  # the entry point's fast path, without typer
    assert (console_script.returncode, console_script.stdout) == (0, f"dbops {__version__}\n")
    assert dbops_process("--quiet", "--version").stdout == f"dbops {__version__}\n"


def test_shell_completion_completes_commands_and_options(dbops_process):
    script = dbops_process("--show-completion", "bash", env={"SHELL": "/bin/bash"})
    assert script.exit_code == 0 and "_DBOPS_COMPLETE=complete_bash" in script.stdout

    def complete(words: str) -> list[str]:
        result = dbops_process(env={"_DBOPS_COMPLETE": "complete_bash", "COMP_WORDS": words,
                                    "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))})
        return result.stdout.split()

    assert complete("dbops mig") == ["migrate"]
    assert set(complete("dbops check ")) == {"types", "locks", "indexes", "budgets", "all"}
    assert "--dry-run" in complete("dbops partitions ensure --dr")


def test_tables_fold_into_a_list_at_80_columns_in_a_non_tty(dbops):
    """A wide table at 80 columns: a list, every name whole, no box drawing, no line longer than 80."""
    wide = dbops("rules", env={"COLUMNS": "200"})
    narrow = dbops("rules", env={"COLUMNS": "80"})
    assert wide.exit_code == narrow.exit_code == 0
    assert "severity" in wide.stdout.splitlines()[1]  # the table's header row, when it fits
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "require-concurrent-index-drop" in lines  # the rule name whole, on its own line
    assert any(line.startswith("  what it flags  ") for line in lines)
