"""§5 Bounded resources: budgets.yaml (the YAML dbops reads) is loaded with bounded alias expansion.

A 1 KB "billion laughs" file is a clean exit-2 error located at file:line, found by counting the
shared node graph (no expansion): measured here in memory allocated, not in wall-clock time."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from dbops.budgets.loader import MAX_YAML_NODES, check_expansion, parse_budgets
from dbops.errors import InputError


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the previous: width**levels values."""
    lines = ["version: 1", "a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_a_1kb_alias_bomb_is_refused_without_expanding_it(tmp_path):
    bomb = alias_bomb(9, 9)
    assert len(bomb.encode()) <= 1024  # 9**9 = 387,420,489 values once expanded
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputError) as refused:
            parse_budgets(bomb, path="budgets.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert "expands to more than 100,000 values through its aliases" in refused.value.message
    assert refused.value.location.startswith("budgets.yaml:")
    assert peak < 20 * 1024 * 1024, peak  # the expansion would take gigabytes
    assert elapsed < 30, elapsed  # generous: it takes milliseconds; the unbounded load never ended


def test_the_cli_refuses_the_bomb_with_exit_2(dbops, trust, tmp_path):
    path = tmp_path / "budgets.yaml"
    path.write_text(alias_bomb(9, 9))
    for args in (("check", "budgets", "--static-only", "--file", str(path)),):
        result = dbops(*args)
        line = trust.assert_clean_error(result, code=2, says="alias bomb")
        assert f"{path}:" in line
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.dbops.budgets]\nfile = "../budgets.yaml"\n')
    result = dbops("check", "budgets", "--static-only", env={"DBOPS_PROJECT_DIR": str(project)})
    trust.assert_clean_error(result, code=2, says="alias bomb")


def test_a_recursive_alias_and_deep_nesting_are_clean_errors():
    with pytest.raises(InputError, match="recursive"):
        parse_budgets("version: 1\nx: &x [1, *x]\n")
    with pytest.raises(InputError, match="recursive"):
        parse_budgets("version: 1\nx: &x {k: *x}\n")
    with pytest.raises(InputError, match="nest"):
        parse_budgets("version: 1\nx: " + "[" * 50_000 + "]" * 50_000 + "\n")


def test_aliases_within_the_bound_still_work():
    """Reasonable reuse (an anchor used a few times) loads; the count is exact on shared nodes."""
    import yaml

    text = "version: 1\nbase: &b {x: 1, y: [1, 2]}\none: *b\ntwo: *b\n"
    node = yaml.SafeLoader(text).get_single_node()
    # root + 4 keys + 4 values; each copy of &b is 1 mapping + x,1 + y,[,1,2] = 7 values
    assert check_expansion(node, "t.yaml") == 1 + 4 + 1 + 3 * 7
    with pytest.raises(InputError, match="expands to more than 20 values"):
        check_expansion(node, "t.yaml", limit=20)
    assert alias_bomb(3, 9).count("*") == 18
    assert check_expansion(yaml.SafeLoader(alias_bomb(3, 9)).get_single_node(), "b.yaml") < MAX_YAML_NODES
