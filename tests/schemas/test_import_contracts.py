"""The architecture, enforced by import-linter (``.importlinter``).

dbops' layers (cli > workflows > capabilities > revisions/partitions/lint > localdb > db >
config/findings > errors), the lint as a leaf, platformdb independent of dbops, and the
guideline's rule that domain types never import the database types. Each broken-contract
test injects one import into a copy of the sources, the way a change would, and watches
the contract fail: imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _lint_imports(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", str(REPO / ".importlinter"), "--no-cache"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def _copy_with(tmp_path: Path, package: str, module: str, addition: str) -> Path:
    """A copy of ``src/<package>`` with ``addition`` appended to ``module`` (a path inside it)."""
    copy = tmp_path / package
    shutil.copytree(REPO / "src" / package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + "\n" + addition + "\n", encoding="utf-8")
    return tmp_path


def test_contracts_are_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_a_domain_module_importing_db_types_breaks_the_contract(tmp_path):
    path = _copy_with(tmp_path, "platformdb", "fashion/domain.py", "from platformdb.fashion import db_types  # noqa")
    result = _lint_imports(pythonpath=path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Domain types never import the database types" in result.stdout
    assert "platformdb.fashion.domain -> platformdb.fashion.db_types" in result.stdout


LAYER_BREAKS = {
    # a lower layer importing a higher one, hidden in a function body (a "lazy import")
    "revisions calls a workflow": (
        "revisions/history.py",
        "def _later():\n    from dbops.workflows.deploy import deploy  # noqa\n    return deploy",
        "dbops.revisions.history -> dbops.workflows.deploy",
    ),
    # independent siblings: the lint receives rendered SQL, it never asks the Alembic adapter
    "lint calls the Alembic adapter": (
        "lint/api.py",
        "def _later():\n    from dbops.revisions import load_history  # noqa\n    return load_history",
        "dbops.lint.api -> dbops.revisions",
    ),
    "a capability imports the CLI": (
        "health/runner.py",
        "def _later():\n    import dbops.cli.common  # noqa",
        "dbops.health.runner -> dbops.cli.common",
    ),
}


@pytest.mark.parametrize("case", sorted(LAYER_BREAKS))
def test_a_function_level_import_against_the_layers_breaks_the_contract(tmp_path, case):
    module, addition, expected = LAYER_BREAKS[case]
    result = _lint_imports(pythonpath=_copy_with(tmp_path, "dbops", module, addition))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "dbops layers: cli > workflows" in result.stdout and "BROKEN" in result.stdout
    assert expected in result.stdout


def test_the_lint_importing_alembic_breaks_the_leaf_contract(tmp_path):
    path = _copy_with(tmp_path, "dbops", "lint/engine.py", "def _later():\n    import alembic  # noqa")
    result = _lint_imports(pythonpath=path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "The lint imports neither Alembic nor a database library BROKEN" in result.stdout
    assert "dbops.lint.engine -> alembic" in result.stdout


def test_platformdb_importing_dbops_breaks_the_contract(tmp_path):
    path = _copy_with(tmp_path, "platformdb", "database.py" if (REPO / "src/platformdb/database.py").is_file()
                      else "_mapping.py", "def _later():\n    import dbops.config  # noqa")
    result = _lint_imports(pythonpath=path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "platformdb never imports dbops BROKEN" in result.stdout
