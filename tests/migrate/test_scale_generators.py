"""Synthetic-data generators are plug-ins of the project (``scale = "file.py:Class"``), not part of dbops."""

from __future__ import annotations

import textwrap

import pytest

WIDGETS = '''
import numpy as np

from dbops.scale import SchemaData
from dbops.scale.text import Text


class Widgets(SchemaData):
    """One table: a widget per unit of scale."""

    tables = ("widgets",)

    def __init__(self, scale, seed, today, offsets, spill):
        super().__init__(scale, seed, today, offsets, spill)
        self.expected = {"widgets": scale}

    def _widgets(self):
        ids = self.off["widgets"] + 1 + np.arange(self.n, dtype=np.int64)
        yield {"id": ids, "label": Text.digits(ids) + "-w"}
'''


def _widget_project(project, scale: str, generator: str | None = WIDGETS, extra_toml: str = ""):
    proj = project(extra={"scale": scale} if scale else None)
    proj.revision("0001", None, 'op.execute("CREATE TABLE widgets (id bigint PRIMARY KEY, label text NOT NULL)")')
    if generator is not None:
        (proj.root / "seeds" / "widgets_scale.py").write_text(textwrap.dedent(generator))
    if extra_toml:
        pyproject = proj.root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + extra_toml)
    return proj


def test_a_project_generator_named_in_config_loads_through_seed_scale(project, empty_db, dbops, sql):
    proj = _widget_project(project, "seeds/widgets_scale.py:Widgets", extra_toml="\n[tool.dbops.scale]\nworkers = 3\n")
    assert dbops("migrate", "demo", "--no-generate", "--database-url", empty_db, env=proj.env).exit_code == 0
    assert proj.settings().scale.workers == 3

    result = dbops("seed", "demo", "--scale", "40", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 0, result.output
    assert "widgets 40" in result.stdout
    assert sql(empty_db, "SELECT count(*), min(label), max(id) FROM widgets") == [(40, "1-w", 40)]


@pytest.mark.parametrize(("scale", "generator", "expected"), [
    ("", WIDGETS, "no synthetic data generator for schema 'demo' — set tool.dbops.schemas.demo.scale"),
    ("seeds/nowhere.py:Widgets", WIDGETS, "seeds/nowhere.py: synthetic data generator seeds/nowhere.py does not exist"),
    ("seeds/widgets_scale.py:Gadgets", WIDGETS, "'Gadgets' in seeds/widgets_scale.py is not a dbops.scale.SchemaData"),
    ("seeds/widgets_scale.py", WIDGETS, "is not \"path/to/file.py:Class\""),
    ("seeds/widgets_scale.py:Widgets", WIDGETS + "\n1 / 0\n",
     f"seeds/widgets_scale.py:{len(textwrap.dedent(WIDGETS).splitlines()) + 2}: synthetic data generator raises on "
     "import: ZeroDivisionError"),
    ("no_such_package.generators:Widgets", None, "cannot import 'no_such_package.generators'"),
])
def test_a_missing_or_broken_generator_is_a_one_line_error(project, empty_db, dbops, sql, scale, generator, expected):
    proj = _widget_project(project, scale, generator)
    assert dbops("migrate", "demo", "--no-generate", "--database-url", empty_db, env=proj.env).exit_code == 0

    result = dbops("seed", "demo", "--scale", "40", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 2, result.output
    assert expected in result.stderr and "Traceback" not in result.output
    assert sql(empty_db, "SELECT count(*) FROM widgets") == [(0,)]


def test_scale_workers_must_not_be_negative(project, dbops):
    proj = _widget_project(project, "seeds/widgets_scale.py:Widgets", extra_toml="\n[tool.dbops.scale]\nworkers = -1\n")
    result = dbops("status", "demo", env=proj.env)
    assert result.exit_code == 2 and "tool.dbops.scale.workers" in result.stderr and "pyproject.toml:" in result.stderr


def test_a_generator_failing_mid_load_names_its_line_and_leaves_the_tables_empty(project, empty_db, dbops, sql):
    broken = WIDGETS.replace('yield {"id": ids', 'yield {"id": ids + None')
    proj = _widget_project(project, "seeds/widgets_scale.py:Widgets", broken)
    assert dbops("migrate", "demo", "--no-generate", "--database-url", empty_db, env=proj.env).exit_code == 0
    line = next(n for n, text in enumerate(textwrap.dedent(broken).splitlines(), start=1) if "ids + None" in text)

    result = dbops("seed", "demo", "--scale", "40", "--database-url", empty_db, env=proj.env)

    assert result.exit_code == 2, result.output
    assert f"seeds/widgets_scale.py:{line}: demo: the synthetic data generator failed: TypeError" in result.stderr
    assert sql(empty_db, "SELECT count(*) FROM widgets") == [(0,)]
