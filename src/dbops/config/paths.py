"""Paths as dbops shows them: relative to the project root when they lie inside it."""

from __future__ import annotations

from pathlib import Path


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
