"""The guideline's rule, enforced: domain types never import the database types (import-linter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(REPO / ".importlinter"), "--no-cache"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def test_contracts_are_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_a_domain_module_importing_db_types_breaks_the_contract(tmp_path):
    copy = tmp_path / "platformdb"
    shutil.copytree(REPO / "src" / "platformdb", copy, ignore=shutil.ignore_patterns("__pycache__"))
    domain = copy / "fashion" / "domain.py"
    domain.write_text(domain.read_text(encoding="utf-8") + "\nfrom platformdb.fashion import db_types  # noqa\n",
                      encoding="utf-8")
    result = _lint_imports(pythonpath=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Domain types never import the database types" in result.stdout
    assert "platformdb.fashion.domain -> platformdb.fashion.db_types" in result.stdout
