"""Data at scale: ``seed_at_scale`` bulk-loads realistic synthetic data through binary COPY.

``seed_at_scale(settings, schema_settings, url, *, scale, seed=0, append=False,
force=False, progress=None, today=None) -> dict[str, int]`` (rows per table).
``progress(table, rows_done, rows_expected)`` is called as each table loads
(``rows_expected`` is an estimate until the table's last call, where it equals
``rows_done``). The generators (``healthcare``, ``fashion``) describe the data's
shape in their docstrings; ``binary`` and ``text`` are the vectorised COPY
encoder they feed.
"""

from __future__ import annotations

from dbops.scale.seed import seed_at_scale

__all__ = ["seed_at_scale"]
