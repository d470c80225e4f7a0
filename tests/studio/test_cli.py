"""`dbops studio` as a user runs it: a process that prints its URL, serves both schemas, stops on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from urllib.parse import urlsplit

from tests.studio.conftest import Client


class _Server:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token


def test_dbops_studio_serves_both_schemas_and_stops_on_ctrl_c(cli_env, healthcare_db, fashion_db):
    env = {**cli_env, "HEALTHCARE_DATABASE_URL": healthcare_db, "FASHION_DATABASE_URL": fashion_db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbops", "studio", "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(
            r"dbops studio \(healthcare, fashion, read-only\) on (http://127\.0\.0\.1:\d+/\?token=\S+)", line
        )
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        url = urlsplit(match.group(1))
        client = Client(_Server(url.port, url.query.split("=", 1)[1])).login()
        for schema, table in (("healthcare", "appointments"), ("fashion", "orders")):
            page = client.get(f"/{schema}/")
            assert page.status == 200 and f'href="/{schema}/t/public/{table}"' in page.text
            assert 'href="/healthcare/"' in page.text and 'href="/fashion/"' in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "studio stopped" in err and "Traceback" not in err


def test_studio_settings(tmp_path):
    import pytest

    from dbops.config import load_settings
    from dbops.errors import ConfigError

    (tmp_path / "pyproject.toml").write_text(
        '[tool.dbops.studio]\nsecret_columns = ["iban", "users.phone"]\nstatement_timeout = "2s"\n'
    )
    settings = load_settings(tmp_path, env={})
    assert settings.studio.secret_columns == ["iban", "users.phone"] and settings.studio.statement_timeout == "2s"
    (tmp_path / "pyproject.toml").write_text('[tool.dbops.studio]\nsecret_columns = "iban"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path, env={})
    assert "secret_columns" in error.value.message and error.value.location.endswith(":2")
