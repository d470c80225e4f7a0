"""A broken revision history is a one-line exit-2 error naming the file, in every command that loads it.

Issue 10 §4: a ``down_revision`` naming nothing, an applied revision whose file was deleted,
several heads, a revision that raises on import. Each case is crossed with every command that
reads the history; each run asserts exit 2, one line on stderr naming the file (and line where
there is one), no traceback, and that nothing was changed.
"""

from __future__ import annotations

import pytest

from tests.migrate.conftest import Project

# (command arguments, does it need the database at 0001 first?) — URL is replaced by the test database
COMMANDS = {
    "migrate": ("migrate", "demo", "--no-generate", "--database-url", "URL"),
    "migrate create": ("migrate", "create", "demo", "add thing", "--empty"),
    "deploy": ("deploy", "demo", "--database-url", "URL"),
    "deploy --dry-run": ("deploy", "demo", "--dry-run", "--database-url", "URL"),
    "status": ("status", "demo", "--database-url", "URL"),
    "seed": ("seed", "demo", "--database-url", "URL"),
    "reset": ("reset", "demo", "--yes", "--no-seed", "--database-url", "URL"),
    "check locks": ("check", "locks"),
    "check all": ("check", "all"),
}
# the deleted-file case needs a database that recorded the revision: commands that read one
READS_DATABASE = ("migrate", "deploy", "deploy --dry-run", "status", "seed")
# the fast subset (-m "not slow") keeps one command that reads the database and one that does not
FAST = ("deploy", "check locks")


def _commands(names) -> list:
    return [pytest.param(name, marks=() if name in FAST else pytest.mark.slow) for name in sorted(names)]


def _line_of(path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def _missing_parent(proj: Project) -> tuple[str, str]:
    path = proj.revision("0002", "0009", 'op.execute("CREATE TABLE b (id int)")')
    return f"migrations/demo/versions/{path.name}:{_line_of(path, 'down_revision =')}", "'0009'"


def _several_heads(proj: Project) -> tuple[str, str]:
    first = proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")', doc="left")
    second = proj.revision("0003", "0001", 'op.execute("CREATE TABLE c (id int)")', doc="right")
    return f"migrations/demo/versions/{first.name}", f"2 heads: 0002 (migrations/demo/versions/{first.name}), " \
        f"0003 (migrations/demo/versions/{second.name})"


def _raises_on_import(proj: Project) -> tuple[str, str]:
    path = proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")')
    path.write_text(path.read_text() + "\nsettings = load_settings_that_do_not_exist()\n")
    line = _line_of(path, "load_settings_that_do_not_exist")
    return f"migrations/demo/versions/{path.name}:{line}", "raises on import: NameError"


CASES = {"missing parent": _missing_parent, "several heads": _several_heads, "raises on import": _raises_on_import}


def _assert_one_line_error(result, location: str, detail: str) -> None:
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr  # one line (besides progress notes such as "demo: lock safety …")
    assert location in errors[0] and detail in errors[0], errors[0]
    assert "Warning" not in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", _commands(COMMANDS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_history_is_a_one_line_error_naming_the_file(project, empty_db, dbops, sql, case, command):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    assert dbops("migrate", "demo", "--no-generate", "--database-url", empty_db, env=proj.env).exit_code == 0
    sql(empty_db, "INSERT INTO a VALUES (1)")
    location, detail = CASES[case](proj)
    files_before = sorted(p.name for p in proj.versions.iterdir())

    args = [empty_db if a == "URL" else a for a in COMMANDS[command]]
    result = dbops(*args, env={**proj.env, "DBOPS_ADMIN_PASSWORD": "pw-for-the-test"})

    _assert_one_line_error(result, location, detail)
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0001",)]  # nothing ran …
    assert sql(empty_db, "SELECT count(*) FROM a") == [(1,)]  # … nothing was dropped
    assert sorted(p.name for p in proj.versions.iterdir()) == files_before  # no revision was written


@pytest.mark.parametrize("command", _commands(READS_DATABASE))
def test_an_applied_revision_whose_file_was_deleted_is_named(project, empty_db, dbops, sql, command):
    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    gone = proj.revision("0002", "0001", 'op.execute("CREATE TABLE b (id int)")')
    assert dbops("migrate", "demo", "--no-generate", "--database-url", empty_db, env=proj.env).exit_code == 0
    gone.unlink()

    args = [empty_db if a == "URL" else a for a in COMMANDS[command]]
    result = dbops(*args, env={**proj.env, "DBOPS_ADMIN_PASSWORD": "pw-for-the-test"})

    _assert_one_line_error(result, f"migrations/demo/versions/{gone.name}", "the database is at revision 0002")
    assert "is gone" in result.stderr
    assert sql(empty_db, "SELECT version_num FROM alembic_version") == [("0002",)]


def test_the_python_api_raises_input_errors_too(project, empty_db):
    """The functions under the commands (the test harness's upgrade included) raise the same InputError."""
    from dbops.errors import InputError
    from dbops.revisions import load_history, upgrade

    proj = project()
    proj.revision("0001", None, 'op.execute("CREATE TABLE a (id int)")')
    location, _detail = _missing_parent(proj)
    settings = proj.settings()
    for call in (lambda: load_history(settings, settings.schema("demo")),
                 lambda: upgrade(settings, settings.schema("demo"), empty_db)):
        with pytest.raises(InputError) as caught:
            call()
        assert caught.value.exit_code == 2 and caught.value.location == location
