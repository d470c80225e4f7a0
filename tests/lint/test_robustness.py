"""The lint never crashes on its input: any bytes, any nesting of parentheses, dollar quotes,
comments and quotes — a finding, a clean pass, or a one-line exit-2 error naming the place; never
an internal error (exit 70) and never a traceback. Through ``lint_sql`` and through the CLI.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbops.errors import InputError
from dbops.lint import lint_sql

# Pieces that open and close the lexical contexts a splitter must get right.
_ATOMS = st.sampled_from([
    "SELECT 1", "ALTER TABLE t ADD COLUMN c int", "CREATE INDEX i ON t (a)", "DROP TABLE t", "BEGIN", "COMMIT",
    "DO", "LANGUAGE plpgsql", "BEGIN ATOMIC", "END", "CASE WHEN", ";", ",", "(", ")", "'", "''", '"', "$$", "$a$",
    "$1", "--", "/*", "*/", "\n", " ", "E'\\''", "\\", "\\.", "COPY t FROM stdin", "U&'x'", "-- dbops: ignore[",
    "]", "ä", "\x00", "\t",
])


def _nested(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return _ATOMS
    inner = _nested(depth - 1)
    return st.one_of(
        _ATOMS,
        st.builds(lambda s: f"({s})", inner),
        st.builds(lambda s: f"$$ {s} $$", inner),
        st.builds(lambda s: f"/* {s} */", inner),
        st.builds(lambda s: f"'{s}'", inner),
        st.builds(lambda s: f"DO $body$ BEGIN {s}; END $body$", inner),
        st.builds(lambda a, b: f"{a} {b}", inner, inner),
        st.builds(lambda a, b: f"{a};\n{b}", inner, inner),
    )


SQLISH = st.lists(_nested(3), max_size=12).map(" ".join)
PROFILE = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(SQLISH)
def test_lint_sql_never_crashes_on_nested_sql(text: str) -> None:
    try:
        report = lint_sql(text)
    except InputError as exc:
        assert exc.location and exc.location.startswith("<stdin>:"), exc.location
        assert "\n" not in exc.one_line()
    else:
        assert report.summary["statements"] >= 0


@PROFILE
@given(st.text(max_size=300))
def test_lint_sql_never_crashes_on_any_text(text: str) -> None:
    try:
        lint_sql(text)
    except InputError as exc:
        assert "\n" not in exc.one_line()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.dbops]\n[tool.dbops.locks]\ncache_dir = ""\n')
    monkeypatch.setenv("DBOPS_PROJECT_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, stdin: bytes | None = None, entry: str = "fast") -> tuple[int, str, str]:
        if entry == "fast":
            from dbops.cli.entry import run
        else:
            from dbops.cli.main import run
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def _fine(code: int, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: "), err


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.binary(max_size=200) | SQLISH.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_the_cli_never_crashes_on_any_bytes(cli, tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "m.sql"
    path.write_bytes(data)
    for entry in ("fast", "typer"):
        code, _out, err = cli("check", "locks", "m.sql", "--format", "json", entry=entry)
        _fine(code, err)
        code, _out, err = cli("check", "locks", "-", "--format", "json", stdin=data, entry=entry)
        _fine(code, err)


@pytest.mark.parametrize("entry", ["fast", "typer"])
def test_non_utf8_input_is_a_one_line_error_with_the_place(cli, tmp_path: Path, entry: str) -> None:
    latin = b"SET lock_timeout = '2s';\nSELECT 'caf\xe9';\n"
    (tmp_path / "latin.sql").write_bytes(latin)
    code, out, err = cli("check", "locks", "latin.sql", entry=entry)
    assert (code, out) == (2, "")
    assert err == ("error: latin.sql:2: not UTF-8 text: byte 0xe9 at offset 36 (line 2, column 12) — save the file "
                   "as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)\n")
    code, out, err = cli("check", "locks", "-", stdin=latin, entry=entry)
    assert (code, out) == (2, "")
    assert err.startswith("error: <stdin>:2: not UTF-8 text: byte 0xe9 at offset 36") and "save the input" in err
