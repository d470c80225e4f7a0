"""Data at scale: ``seed_at_scale`` bulk-loads realistic synthetic data through binary COPY.

``seed_at_scale(settings, schema_settings, url, *, scale, seed=0, append=False,
force=False, progress=None, today=None, timings=None) -> dict[str, int]`` (rows
per table). ``progress(table, rows_done, rows_expected)`` is called as each table
loads (``rows_expected`` is an estimate until the table's last call, where it
equals ``rows_done``; tables load several at a time, so calls interleave);
``timings``, a dict, receives the seconds of each step.

The data itself comes from the project: each schema names its generator
(``[tool.dbops.schemas.<name>] scale = "seeds/<name>_scale.py:Class"``, a
``SchemaData`` subclass, loaded by ``generators``); ``common`` holds what
generators share (seeded RNGs, skewed draws, pools, the clock), ``binary`` and
``text`` are the vectorised COPY encoder they feed; ``stream`` (spools,
partition routing), ``ddl`` (the statements around a bulk load) and ``load``
(one transaction, or one per table on several connections) do the loading.
"""

from __future__ import annotations

from dbops.scale.common import SchemaData
from dbops.scale.seed import seed_at_scale

__all__ = ["SchemaData", "seed_at_scale"]
