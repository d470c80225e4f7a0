"""The user's project as dbops sees it: paths shown relative to its root, its Python files imported by path.

Seed scripts (``seeds/<schema>.py``) and synthetic-data generators (``scale = "path.py:Class"``)
are files of the project, not installed modules: ``import_project_file`` imports one and turns
whatever goes wrong into an ``InputError`` naming the file and line (exit 2), never a traceback.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from dbops.errors import InputError, first_line


def display_path(path: str | Path, root: str | Path | None) -> str:
    """``path`` relative to the project root when it lies inside it, else as given.

    >>> display_path("/p/migrations/x/versions/0001_a.py", Path("/p"))
    'migrations/x/versions/0001_a.py'
    >>> display_path("/elsewhere/0001_a.py", Path("/p"))
    '/elsewhere/0001_a.py'
    """
    path = Path(path)
    if root is not None:
        try:
            return str(path.resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(path)


def import_project_file(path: Path, module_name: str, *, what: str, root: Path | None = None,
                        missing_hint: str = "check the path in pyproject.toml") -> ModuleType:
    """Import the Python file at ``path`` as ``module_name`` (registered in ``sys.modules``).

    A missing file, a syntax error or an exception raised while importing is an
    InputError (exit 2) saying ``what`` failed, at ``file:line``.
    """
    shown = display_path(path, root)
    if not path.is_file():
        raise InputError(f"{what} {shown} does not exist", location=shown, hint=missing_hint)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"{what} {shown} cannot be imported (not a Python file?)", location=shown,
                         hint="give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look their module up there
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[module_name]
        raise InputError(f"{what} does not compile: {exc.msg}", location=f"{shown}:{exc.lineno or 1}",
                         hint="fix the syntax") from None
    except Exception as exc:
        del sys.modules[module_name]
        line = line_in_traceback(exc, path)
        raise InputError(f"{what} raises on import: {type(exc).__name__}: {first_line(exc)}",
                         location=f"{shown}:{line}" if line else shown, hint=f"fix the {what}") from None
    return module


def line_in_traceback(exc: BaseException, path: Path) -> int | None:
    """The line of ``path`` in the traceback of ``exc`` (the deepest frame in that file)."""
    line = None
    target = str(path.resolve())
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == target or tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
