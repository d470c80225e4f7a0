"""§4 No internal error (exit 70) on bad input: malformed URLs/DSNs on every command that takes one,
non-UTF-8 and deeply nested configuration, broken seed scripts, and ``--debug`` keeps the exit code.

Every case asserts the exit code, one ``error:`` line saying where and what, no password, no traceback.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
SECRET = "Sekr1tPw9"

#: (form, what the error says) — each one libpq would refuse, misread or only fail on when connecting.
MALFORMED = [
    (f"postgresql://u:{SECRET[:4]}/{SECRET[4:]}@localhost/x", "a '/' comes before the '@'"),
    (f"postgresql://u:{SECRET[:4]}@{SECRET[4:]}@localhost/x", "more than one '@'"),
    (f"postgresql://u:{SECRET}%zz@localhost/x", "'%' not followed by two hex digits"),
    (f"postgresql://u:{SECRET}%4@localhost/x", "'%' not followed by two hex digits"),
    (f"postgresql://u:{SECRET}%00@localhost/x", "'%00'"),
    (f"postgresql://u:{SECRET}%ff@localhost/x", "not UTF-8"),
    (f"postgresql://u:{SECRET}@[::1/x", "never closed by ']'"),
    (f"postgresql://u:{SECRET}@[]/x", "empty IPv6 address"),
    (f"postgresql://u:{SECRET}@[zz::1]/x", "not a valid IPv6 address"),
    (f"postgresql://u:{SECRET}@[::1]x/db", "unexpected character after ']'"),
    (f"postgresql://u:{SECRET}@localhost:abc/x", "the port is not a number"),
    (f"postgresql://u:{SECRET}@localhost:99999/x", "the port is out of range"),
    (f"postgresql://u:{SECRET}@localhost:0/x", "the port is out of range"),
    (f"postgresql://u:{SECRET}@localhost/x?port=12ab", "the port is not a number"),
    (f"postgresql://u:{SECRET}@localhost/x?bogus_param=1", "unknown connection parameter"),
    (f"postgresql://u:{SECRET}@localhost/x?sslmode", "query parameter without '='"),
    (f"postgresql://u:{SECRET}@localhost/x?options=-c%20a=b", "a second '='"),
    (f"postgresql://u:{SECRET}@localhost/x?connect_timeout=soon", "connect_timeout is not a number"),
    (f"postgresql://u:{SECRET}@h1,h2/x?port=1,2,3", "3 ports for 2 host(s)"),
    (f"mysql://u:{SECRET}@localhost/x", "not a PostgreSQL URL"),
    (f"u:{SECRET}@localhost:5432/x", "neither a postgresql:// URL nor key=value pairs"),
    (f"host=localhost password={SECRET} dbname", "expected key=value"),
    (f"host=localhost password='{SECRET}", "unterminated quoted value"),
    (f"host=localhost passwrd={SECRET}", "unknown connection parameter"),
    (f"host=localhost hostaddr=db.example.com password={SECRET}", "hostaddr holds something that is not an IP"),
    (f"host=localhost port=5432x password={SECRET}", "the port is not a number"),
    (f"postgresql://u:{SECRET}@localhost/x\udcff", "not UTF-8 text"),  # undecodable argv/environ byte
    (f"postgresql://u:{SECRET}@local\x00host/x", "a NUL character"),
    (f"postgresql://u:{SECRET}@/x?host=a,b&hostaddr=127.0.0.1", "2 host(s) but 1 hostaddr value(s)"),
]

#: Every command that takes a database URL (healthcare; `check indexes` also without SCHEMA).
COMMANDS = [
    ("migrate", "healthcare", "--no-generate"),
    ("migrate", "create", "healthcare", "add_x"),
    ("deploy", "healthcare"),
    ("deploy", "healthcare", "--dry-run"),
    ("status", "healthcare"),
    ("reset", "healthcare", "--yes"),
    ("seed", "healthcare"),
    ("seed", "healthcare", "--scale", "100"),
    ("studio", "healthcare", "--write"),
    ("check", "indexes", "healthcare"),
    ("check", "indexes"),
    ("check", "budgets", "healthcare"),
    ("partitions", "ensure", "healthcare"),
    ("backfill", "healthcare", "users", "--set", "email = lower(email)"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:3]))
def test_every_malformed_url_on_every_command_is_a_clean_exit_2(dbops, trust, command):
    for url, says in MALFORMED:
        result = dbops(*command, "--database-url", url)
        line = trust.assert_clean_error(result, code=2, secret=SECRET, says=says)
        assert "--database-url" in line and "not a valid database URL" in line, line
        if "character" in line:  # the position is given, never the input
            assert "at character " in line


@pytest.mark.parametrize("variable", ["HEALTHCARE_DATABASE_URL", "DATABASE_URL"])
def test_malformed_urls_from_the_environment_name_the_variable(dbops, trust, variable):
    for url, says in MALFORMED:
        if "\x00" in url or "\udcff" in url:
            continue  # an environment variable cannot hold these
        result = dbops("status", "healthcare", env={variable: url})
        line = trust.assert_clean_error(result, code=2, secret=SECRET, says=says)
        assert line.startswith(f"error: {variable}: not a valid database URL"), line


def test_malformed_url_in_config_names_the_file_and_key(dbops, trust, tmp_path):
    for url, says in MALFORMED[:8]:
        (tmp_path / "pyproject.toml").write_text(
            "[tool.dbops.schemas.healthcare]\nurl = " + repr(url).replace("\\", "\\\\") + "\n"
        )
        result = dbops("status", "healthcare", env={"DBOPS_PROJECT_DIR": str(tmp_path)})
        line = trust.assert_clean_error(result, code=2, secret=SECRET, says=says)
        assert f"{tmp_path / 'pyproject.toml'}:2" in line and "tool.dbops.schemas.healthcare.url" in line


def test_empty_database_url_is_refused_not_ignored(dbops, trust):
    for blank in ("", "   "):
        result = dbops("status", "healthcare", "--database-url", blank)
        trust.assert_clean_error(result, code=2, says="--database-url is empty")
        assert "local database" not in result.stderr
    result = dbops("status", "healthcare", env={"HEALTHCARE_DATABASE_URL": "  "})
    trust.assert_clean_error(result, code=2, says="HEALTHCARE_DATABASE_URL: not a valid database URL: empty")


def test_unreachable_server_in_any_form_is_exit_3_masked(dbops, trust):
    for url in (
        f"postgresql://u:{SECRET}@127.0.0.1:1/x?connect_timeout=3",
        f"host=127.0.0.1 port=1 user=u password={SECRET} connect_timeout=3",
        f"postgresql://u:{SECRET[:3]}%2F{SECRET[3:]}@127.0.0.1:1/x",
    ):
        result = dbops("status", "healthcare", "--database-url", url)
        line = trust.assert_clean_error(result, code=3, secret=SECRET)
        assert "127.0.0.1:1" in line and "***" in line


# -- configuration files ------------------------------------------------------------------------------------


def _project(tmp_path: Path, content: bytes) -> dict[str, str]:
    (tmp_path / "pyproject.toml").write_bytes(content)
    return {"DBOPS_PROJECT_DIR": str(tmp_path)}


def test_non_utf8_pyproject_is_exit_2_at_its_line(dbops, trust, tmp_path):
    env = _project(tmp_path, b"[tool.dbops]\ntarget_pg_version = 15\n# caf\xe9 cr\xe8me\n")
    for args in (("db", "status"), ("status", "healthcare"), ("check", "all")):
        result = dbops(*args, env=env)
        line = trust.assert_clean_error(result, code=2, says="not UTF-8")
        assert f"{tmp_path / 'pyproject.toml'}:3" in line and "0xe9" in line


@pytest.mark.parametrize("nesting", ["[", "{a=", "[{b="], ids=["arrays", "inline-tables", "mixed"])
def test_deeply_nested_toml_is_exit_2(dbops, trust, tmp_path, nesting):
    closing = {"[": "]", "{a=": "}", "[{b=": "}]"}[nesting]
    deep = "[tool.dbops]\n\n[tool.x]\nv = " + nesting * 6000 + "1" + closing * 6000 + "\n"
    result = dbops("db", "status", env=_project(tmp_path, deep.encode()))
    line = trust.assert_clean_error(result, code=2, says="nested too deeply")
    assert f"{tmp_path / 'pyproject.toml'}:4" in line


def test_non_utf8_budgets_file_is_exit_2_at_its_line(dbops, trust, tmp_path):
    bad = tmp_path / "budgets.yaml"
    bad.write_bytes(b"version: 1\nschemas:\n  healthcare:\n    queries: {}\n# \xff\xfe\n")
    result = dbops("check", "budgets", "--static-only", "--file", str(bad))
    line = trust.assert_clean_error(result, code=2, says="not UTF-8")
    assert ":5" in line


def test_broken_seed_scripts_are_exit_2_naming_the_file(dbops, trust, tmp_path, healthcare_db):
    from dbops.errors import InputError
    from dbops.seed import load_seed_script

    project = tmp_path / "proj"
    (project / "seeds").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[tool.dbops.schemas.healthcare]\nmigrations = "{REPO}/migrations/healthcare"\n'
        'seed = "seeds/healthcare.py"\nmodels = "platformdb.healthcare.models"\n'
    )
    script = project / "seeds" / "healthcare.py"
    from dbops.config import load_settings

    for content, says in (
        (b"def run(conn, **_):\n    return {'\xff': 1}\n", "does not compile"),
        (b"import no_such_module_anywhere\n", "raises on import: ModuleNotFoundError"),
    ):
        script.write_bytes(content)
        settings = load_settings(project, env={})
        with pytest.raises(InputError) as err:
            load_seed_script(settings, settings.schema("healthcare"))
        assert says in err.value.message and err.value.location.startswith("seeds/healthcare.py:")
        result = dbops(
            "seed",
            "healthcare",
            "--database-url",
            healthcare_db,
            env={"DBOPS_PROJECT_DIR": str(project), "DBOPS_ADMIN_PASSWORD": "x" * 12},
        )
        trust.assert_clean_error(result, code=2, says=says)


# -- --debug keeps the exit code ----------------------------------------------------------------------------


def test_debug_adds_the_traceback_and_keeps_every_exit_code(dbops, empty_db, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dbops]\ntarget_pg_versio = 15\n")
    (tmp_path / "nokey.sql").write_text("CREATE TABLE t (a int);\n")
    cases = [
        (("status", "healthcare", "--database-url", f"postgresql://u:{SECRET}@localhost:abc/x"), {}, 2, True),
        (("status", "healthcare", "--database-url", f"postgresql://u:{SECRET}@127.0.0.1:1/x"), {}, 3, True),
        (("db", "status"), {"DBOPS_PROJECT_DIR": str(tmp_path)}, 2, True),
        (("reset", "healthcare", "--yes", "--database-url", f"postgresql://u:{SECRET}@db.example.com/x"), {}, 2, True),
        (("migrate", "--no-such-option"), {}, 2, False),  # a usage error: click's own message, no traceback
        (("check", "indexes", "healthcare", "--database-url", empty_db, "--schema-only"), {}, 0, False),
    ]
    for args, env, code, traced in cases:
        plain = dbops(*args, env=env)
        debug = dbops("--debug", *args, env=env)
        assert plain.exit_code == debug.exit_code == code, (args, plain.output, debug.output)
        assert "Traceback" not in plain.output
        assert ("Traceback" in debug.stderr) is traced, (args, debug.stderr[-800:])
        assert SECRET not in debug.output


# -- property: nothing in a pyproject.toml makes the loader crash ---------------------------------------------

_KEYS = [
    "target_pg_version",
    "schemas",
    "locks",
    "indexes",
    "budgets",
    "deploy",
    "partitions",
    "healthcare",
    "url",
    "ignore",
    "severity",
    "migrations",
    "retries",
    "lock_timeout",
    "exclude_schemas",
    "x",
]
_scalars = st.one_of(st.integers(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=20), st.dates())
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)),
    max_leaves=20,
)


def _toml(value, depth: int = 0) -> str:
    """An inline TOML rendering of a generated value (strings JSON-escaped, which TOML accepts)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value).replace("inf", "inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v, depth + 1)}" for k, v in value.items()) + "}"
    return value.isoformat()


def _load(tmp_path: Path, data: bytes) -> None:
    from dbops.config import load_settings
    from dbops.errors import ConfigError

    (tmp_path / "pyproject.toml").write_bytes(data)
    try:
        load_settings(tmp_path, env={})
    except ConfigError as exc:
        assert exc.exit_code == 2 and exc.one_line()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_any_bytes_as_pyproject_load_or_fail_cleanly(tmp_path, data):
    _load(tmp_path, b"[tool.dbops]\n" + data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.dictionaries(st.sampled_from(_KEYS), _values, max_size=5))
def test_any_tool_dbops_table_loads_or_fails_cleanly(tmp_path, table):
    body = "\n".join(f"{key} = {_toml(value)}" for key, value in table.items())
    _load(tmp_path, f"[tool.dbops]\n{body}\n".encode())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    depth=st.integers(min_value=1, max_value=30000),
    opener=st.sampled_from(["[", "{k = "]),
    filler=st.text(alphabet=string.printable, max_size=5),
)
def test_any_nesting_loads_or_fails_cleanly(tmp_path, depth, opener, filler):
    closer = "]" if opener == "[" else "}"
    _load(tmp_path, f"[tool.dbops]\nv = {opener * depth}{filler}{closer * depth}\n".encode())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_the_cli_never_exits_70_on_any_pyproject(dbops, tmp_path, data):
    result = dbops("db", "status", env=_project(tmp_path, b"[tool.dbops]\n" + data))
    assert result.exit_code in (0, 1, 2), result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_a_nul_character_in_a_setting_is_exit_2(dbops, trust, tmp_path):
    env = _project(tmp_path, b'[tool.dbops.schemas.healthcare]\nseed = "seeds/a\\u0000b.py"\n')
    result = dbops("seed", "healthcare", env=env)
    line = trust.assert_clean_error(result, code=2, says="contains a NUL character")
    assert f"{tmp_path / 'pyproject.toml'}:2" in line
