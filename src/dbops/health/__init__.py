"""Index and schema health audit of a live database (``dbops check indexes``).

A check is one SQL file in ``sql/`` plus a mapper (``checks.py``); one runner
(``runner.py``) executes them all in ONE read-only transaction with
``statement_timeout``/``lock_timeout`` set, a constant number of statements
whatever the catalog size, taking no lock above AccessShareLock.

>>> from dbops.health import CHECKS
>>> CHECKS["invalid-indexes"].severity.value, CHECKS["unused-indexes"].runtime
('error', True)
"""

from dbops.health.audit import audit, excluded, parameters, select_checks
from dbops.health.checks import CHECKS
from dbops.health.model import Check, Context, pretty_size
from dbops.health.runner import CONTEXT_SQL, collapse_partitions, run_checks

__all__ = [
    "CHECKS",
    "CONTEXT_SQL",
    "Check",
    "Context",
    "audit",
    "collapse_partitions",
    "excluded",
    "parameters",
    "pretty_size",
    "run_checks",
    "select_checks",
]
