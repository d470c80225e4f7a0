"""§3 No secret in any output: masking by parsing (every URL/DSN shape), parse errors that never echo
the input, exception messages and ``--debug`` tracebacks redacted. Property-based: whatever the
password, it never appears, and the parser agrees with libpq (psycopg's ``conninfo_to_dict``)."""

from __future__ import annotations

import textwrap
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from dbops.config.conninfo import ConnInfoError, mask_conninfo, parse_conninfo, redact, to_url

SECRET = "Hunter2Hunter2"

#: URL/DSN shapes that leaked before: the password never appears in the masked form.
LEAKY = [
    (f"postgresql://app:{SECRET}/x@db.example.com:5432/hc", "postgresql://app:***@db.example.com:5432/hc"),
    (f"postgresql://app:{SECRET}#x@db.example.com:5432/hc", "postgresql://app:***@db.example.com:5432/hc"),
    (f"postgresql://app:{SECRET}?x@db.example.com:5432/hc", "postgresql://app:***@db.example.com:5432/hc"),
    (f"postgresql://app:{SECRET}@x@db.example.com:5432/hc", "postgresql://app:***@db.example.com:5432/hc"),
    (f"postgresql://app:{SECRET}%zz@db.example.com/hc", "postgresql://app:***@db.example.com/hc"),
    (f"host=db.example.com password={SECRET} dbname=hc", "host=db.example.com password=*** dbname=hc"),
    (f"host=db password='{SECRET} x' dbname=hc", "host=db password=*** dbname=hc"),
    (f"host=db password='{SECRET}", "host=db password=***"),
    (f"host=db password={SECRET} and more words dbname=hc", "host=db password=*** dbname=hc"),
    (f"app:{SECRET}@db.example.com:5432/hc", "app:***@db.example.com:5432/hc"),
    (f"postgresql://db/hc?password={SECRET}&sslmode=require", "postgresql://db/hc?password=***&sslmode=require"),
    (f"postgresql://db/hc?password={SECRET}&x&sslmode=require", "postgresql://db/hc?password=***&sslmode=require"),
    (f"postgresql://db/hc?sslpassword={SECRET}", "postgresql://db/hc?sslpassword=***"),
    (f"postgres+asyncpg://app:{SECRET}@db/hc", "postgres+asyncpg://app:***@db/hc"),
]


@pytest.mark.parametrize(("url", "masked"), LEAKY)
def test_every_shape_is_masked(url, masked):
    assert mask_conninfo(url) == masked
    assert SECRET not in redact(f"failed on {url} today")


@pytest.mark.parametrize("url", [u for u, _ in LEAKY])
def test_parse_errors_name_the_position_never_the_input(url):
    try:
        parse_conninfo(url)
    except ConnInfoError as exc:
        assert SECRET not in str(exc) and SECRET not in exc.hint
        assert SECRET[:6] not in str(exc)


def test_the_cli_never_prints_a_password_whatever_the_form(dbops):
    for url, _ in LEAKY:
        for args in (
            ("status", "healthcare", "--database-url", url),
            ("--debug", "check", "indexes", "--database-url", url),
        ):
            result = dbops(*args)
            assert result.exit_code in (2, 3), result.output
            assert SECRET not in result.output, (url, result.output)


def test_the_source_note_masks_what_resolves(dbops):
    """Valid URLs whose passwords hold # and ?, and a keyword DSN: the note on stderr masks them."""
    for url in (
        f"postgresql://app:{SECRET}#?x@127.0.0.1:1/hc?connect_timeout=2",
        f"host=127.0.0.1 port=1 password='{SECRET} !' dbname=hc connect_timeout=2",
    ):
        result = dbops("status", "healthcare", "--database-url", url)
        assert result.exit_code == 3
        assert "(from --database-url)" in result.stderr and "***" in result.stderr
        assert SECRET not in result.output


def test_a_url_given_where_a_schema_goes_is_masked_in_the_error(dbops):
    url = f"postgresql://app:{SECRET}@db.example.com/hc"
    for args in (("status", url), ("check", "indexes", "healthcare", url), ("reset", url, "--yes")):
        result = dbops(*args)
        assert result.exit_code == 2, result.output
        assert SECRET not in result.output and "Traceback" not in result.output
        assert "postgresql://app:***@db.example.com/hc" in result.stderr


def test_exception_messages_are_redacted_in_errors_and_debug_tracebacks(dbops, healthcare_db, tmp_path):
    """A seed script that fails with a connection string in its message: the one-line error and the
    --debug traceback (chained exceptions included) show it masked."""
    project = tmp_path / "proj"
    (project / "seeds").mkdir(parents=True)
    repo = __import__("pathlib").Path(__file__).resolve().parents[2]
    (project / "pyproject.toml").write_text(
        f'[tool.dbops.schemas.healthcare]\nmigrations = "{repo}/migrations/healthcare"\n'
        'seed = "seeds/healthcare.py"\nmodels = "platformdb.healthcare.models"\n'
    )
    (project / "seeds" / "healthcare.py").write_text(
        textwrap.dedent(f"""
        def run(conn, *, admin_password_hash):
            try:
                raise ValueError("replica at postgresql://ops:{SECRET}@10.0.0.9/hc is down")
            except ValueError as exc:
                raise RuntimeError("cannot copy from host=10.0.0.9 password={SECRET} dbname=hc") from exc
    """)
    )
    env = {"DBOPS_PROJECT_DIR": str(project), "DBOPS_ADMIN_PASSWORD": "a-long-admin-password"}
    plain = dbops("seed", "healthcare", "--database-url", healthcare_db, env=env)
    assert plain.exit_code == 1 and "password=***" in plain.stderr and SECRET not in plain.output
    debug = dbops("--debug", "seed", "healthcare", "--database-url", healthcare_db, env=env)
    assert debug.exit_code == 1
    assert (
        "Traceback" in debug.stderr and "ValueError" in debug.stderr and "postgresql://ops:***@10.0.0.9" in debug.stderr
    )
    assert SECRET not in debug.output


def test_an_unexpected_exception_is_redacted_too(dbops, monkeypatch):
    """An internal error (exit 70) whose message holds a URL: masked, with and without --debug."""
    import dbops.cli.common as common

    def boom(self, schema, url=None, *, single):
        raise KeyError(f"postgresql://u:{SECRET}@h/db")

    monkeypatch.setattr(common.State, "url_for", boom)
    for args in (("status", "healthcare"), ("--debug", "status", "healthcare")):
        result = dbops(*args)
        assert result.exit_code == 70 and "internal error" in result.stderr
        assert SECRET not in result.output


def test_the_libpq_error_echo_is_redacted(dbops):
    """libpq quotes host names in its errors; a password misread as a host (if the parser let it through)
    would be there: the registered secret is removed wherever it appears."""
    from dbops.config.conninfo import register_secret

    register_secret("Zq9-unusual-token")
    assert redact('could not translate host name "Zq9-unusual-token" to address') == (
        'could not translate host name "***" to address'
    )


# -- properties -----------------------------------------------------------------------------------------------

_any_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(password=_any_text, other=_any_text)
def test_masked_url_does_not_depend_on_the_password(password, other):
    """Any two passwords (raw, unencoded, whatever they hold) give the same masked URL: nothing leaks."""
    url = "postgresql://app:{}@db.example.com:5432/hc?sslmode=require"
    assert mask_conninfo(url.format(password)) == mask_conninfo(url.format(other)) == url.format("***")


@settings(max_examples=300, deadline=None)
@given(password=_any_text, other=_any_text)
def test_masked_dsn_and_query_do_not_depend_on_the_password(password, other):
    def dsn(pw: str) -> str:
        return "host=db password='" + pw.replace("\\", "\\\\").replace("'", "\\'") + "' dbname=hc"

    assert mask_conninfo(dsn(password)) == mask_conninfo(dsn(other)) == "host=db password=*** dbname=hc"

    def query(pw: str) -> str:
        return f"postgresql://db/hc?password={quote(pw, safe='')}&sslmode=require"

    assert mask_conninfo(query(password)) == mask_conninfo(query(other))
    assert conninfo_to_dict(dsn(password))["password"] == password  # the DSN really carries that password


@settings(max_examples=200, deadline=None)
@given(password=_any_text)
def test_a_registered_password_never_survives_redaction(password):
    assume(len(password) >= 4)
    url = f"postgresql://app:{quote(password, safe='')}@db/hc"
    assert parse_conninfo(url)["password"] == password  # parsing registers it
    for text in (f"boom: {password}", f"x={password}!", repr(password)[1:-1] if "\\" not in repr(password) else ""):
        if password in text:
            assert password not in redact(text)


_keys = st.sampled_from(
    [
        "user",
        "password",
        "dbname",
        "application_name",
        "options",
        "sslmode",
        "connect_timeout",
        "host",
        "hostaddr",
        "port",
        "target_session_attrs",
        "passfile",
    ]
)
_hosts = st.lists(
    st.one_of(
        st.sampled_from(["db.example.com", "127.0.0.1", "::1", "/run/pg", "fe80::1%eth0", ""]),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00,"), min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def _params(draw) -> dict[str, str]:
    params: dict[str, str] = {}
    order = ["host", "hostaddr", "port"]  # the lists first: hostaddr and port follow the hosts
    keys = draw(st.lists(_keys, unique=True, max_size=6))
    for key in sorted(keys, key=lambda k: order.index(k) if k in order else len(order)):
        if key == "host":
            params[key] = ",".join(draw(_hosts))
        elif key == "hostaddr":
            count = len(params.get("host", "x").split(","))
            params[key] = ",".join(draw(st.sampled_from(["127.0.0.1", "10.1.2.3", "::1"])) for _ in range(count))
        elif key == "port":
            count = len(params.get("host", "x").split(","))
            ports = draw(
                st.lists(st.one_of(st.integers(1, 65535).map(str), st.just("")), min_size=count, max_size=count)
            )
            params[key] = ",".join(ports) if draw(st.booleans()) or count == 1 else ports[0] or "5432"
        elif key == "connect_timeout":
            params[key] = str(draw(st.integers(0, 100)))
        else:
            params[key] = draw(
                st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
            )
    return params


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=_params())
def test_the_canonical_url_means_the_same_to_libpq(params):
    """``to_url`` → libpq reads back exactly the parameters (the oracle: psycopg's conninfo_to_dict), and so
    does our parser; masking it hides the password."""
    if "hostaddr" in params and "host" not in params:
        params.pop("hostaddr")
    url = to_url(params)
    assert conninfo_to_dict(url) == params, url
    assert parse_conninfo(url) == params
    if params.get("password"):  # the masked form does not depend on the password
        assert mask_conninfo(url) == mask_conninfo(to_url({**params, "password": "other-password"}))


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60))
def test_the_parser_accepts_only_what_libpq_reads_the_same_way(text):
    """Whatever the input: our parser fails cleanly (ConnInfoError) or agrees with libpq."""
    url = "postgresql://" + text
    try:
        ours = parse_conninfo(url)
    except ConnInfoError as exc:
        assert exc.problem
        return
    assert conninfo_to_dict(url) == ours
