"""Configuration: strict [tool.dbops], URL precedence, masked passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.config import load_settings, mask_url, resolve_url
from dbops.errors import ConfigError, UsageError

REPO = Path(__file__).resolve().parents[2]


def write_project(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + body)
    return tmp_path


def test_repo_config_declares_both_schemas():
    settings = load_settings(REPO, env={})
    assert list(settings.schemas) == ["healthcare", "fashion"]
    assert settings.schema("healthcare").tenant_key == "clinic_id"
    assert settings.schema("fashion").tenant_key == "studio_id"
    assert settings.schema("fashion").migrations == "migrations/fashion"


def test_unknown_key_names_key_and_line(tmp_path: Path):
    root = write_project(tmp_path, "[tool.dbops.locks]\nignor = ['x']\n")
    with pytest.raises(ConfigError) as err:
        load_settings(root, env={})
    assert "tool.dbops.locks.ignor" in err.value.message
    assert err.value.location == f"{root / 'pyproject.toml'}:5"
    assert "did you mean 'ignore'" in err.value.hint


def test_wrong_type_names_key(tmp_path: Path):
    root = write_project(tmp_path, "[tool.dbops.deploy]\nretries = 'five'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(root, env={})
    assert "tool.dbops.deploy.retries" in err.value.message and "an integer" in err.value.message


def test_unknown_schema_key(tmp_path: Path):
    root = write_project(tmp_path, "[tool.dbops.schemas.healthcare]\ntenant = 'clinic_id'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(root, env={})
    assert "tool.dbops.schemas.healthcare.tenant" in err.value.message
    assert "tenant_key" in err.value.hint


def test_invalid_toml_has_line(tmp_path: Path):
    root = write_project(tmp_path, "[tool.dbops\nx=1\n")
    with pytest.raises(ConfigError) as err:
        load_settings(root, env={})
    assert err.value.location.endswith(":4")


def test_cli_reports_config_error_exit_2(dbops, tmp_path: Path):
    root = write_project(tmp_path, "[tool.dbops]\ntarget_pg_versio = 15\n")
    result = dbops("migrate", env={"DBOPS_PROJECT_DIR": str(root)})
    assert result.exit_code == 2
    assert f"{root / 'pyproject.toml'}:5" in result.stderr
    assert "target_pg_version" in result.stderr
    assert "Traceback" not in result.output


def test_url_precedence():
    settings = load_settings(REPO, env={})
    hc = settings.schema("healthcare")
    env = {"HEALTHCARE_DATABASE_URL": "postgresql://a:pw1@envhost/hc", "DATABASE_URL": "postgresql://b:pw2@generic/x"}
    cli = resolve_url(settings, hc, cli_url="postgresql://c@clihost/hc", single_schema=True, env=env)
    assert (cli.url, cli.source) == ("postgresql://c@clihost/hc", "--database-url")
    from_env = resolve_url(settings, hc, single_schema=True, env=env)
    assert from_env.source == "env:HEALTHCARE_DATABASE_URL"
    generic = resolve_url(settings, hc, single_schema=True, env={"DATABASE_URL": env["DATABASE_URL"]})
    assert generic.source == "env:DATABASE_URL"
    # DATABASE_URL only applies when one schema is named; with both it is refused, never ignored
    with pytest.raises(UsageError) as refused:
        resolve_url(settings, hc, single_schema=False, env={"DATABASE_URL": env["DATABASE_URL"]},
                    command="dbops migrate")
    assert "DATABASE_URL" in refused.value.message and "dbops migrate healthcare" in refused.value.hint
    assert "pw1" not in from_env.describe() and "***" in from_env.describe()


def test_url_from_config(tmp_path: Path):
    root = write_project(tmp_path, "[tool.dbops.schemas.healthcare]\nurl = 'postgresql://u:secret@cfg/hc'\n")
    settings = load_settings(root, env={})
    resolved = resolve_url(settings, settings.schema("healthcare"), single_schema=True, env={})
    assert resolved.source == "config" and "secret" not in resolved.describe()


def test_database_url_needs_single_schema(dbops):
    result = dbops("migrate", "--database-url", "postgresql://x@localhost/db")
    assert result.exit_code == 2
    assert "single SCHEMA" in result.stderr


def test_mask_url_variants():
    assert mask_url("postgresql://u:p%40ss@h/db?password=zz&sslmode=require") == (
        "postgresql://u:***@h/db?password=***&sslmode=require"
    )


def test_unreachable_database_exit_3_masked(dbops):
    url = "postgresql://app:TopSecret99@127.0.0.1:1/healthcare?connect_timeout=2"
    result = dbops("migrate", "healthcare", "--no-generate", "--database-url", url)
    assert result.exit_code == 3, result.output
    assert "TopSecret99" not in result.output
    assert "127.0.0.1:1" in result.stderr and "***" in result.stderr
    assert "Traceback" not in result.output


def test_cli_says_which_source_it_used(dbops, healthcare_db):
    env_url = healthcare_db
    result = dbops("migrate", "healthcare", "--no-generate", env={"HEALTHCARE_DATABASE_URL": env_url})
    assert result.exit_code == 0, result.output
    assert "from env:HEALTHCARE_DATABASE_URL" in result.stderr


def test_malformed_url_is_a_config_error(dbops):
    result = dbops("migrate", "healthcare", "--no-generate", "--database-url", "postgresql://u:hush@localhost/x?bogus_param=1")
    assert result.exit_code == 2, result.output
    assert "not a valid database URL" in result.stderr and "hush" not in result.output
