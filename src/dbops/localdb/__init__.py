"""The local (embedded) PostgreSQL: ``dbops db start/stop/status/url``."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from dbops.config import Settings
from dbops.localdb.binaries import ServerBinaries, find_server_binaries
from dbops.localdb.cluster import (
    ClusterStatus,
    LocalCluster,
    create_database,
    default_base,
    drop_database,
    unreachable_ancestor,
)

__all__ = [
    "ClusterStatus",
    "LocalCluster",
    "ServerBinaries",
    "create_database",
    "default_base",
    "drop_database",
    "ensure_database",
    "find_server_binaries",
    "local_cluster",
    "temporary_cluster",
    "unreachable_ancestor",
]


def _silent(_: str) -> None:
    pass


def local_cluster(
    settings: Settings, *, env: Mapping[str, str] | None = None, log: Callable[[str], None] = _silent
) -> LocalCluster:
    """The project's local cluster (not started)."""
    env = os.environ if env is None else env
    binaries = find_server_binaries(env)
    base = default_base(settings.root, binaries.version, env, log)
    return LocalCluster(base, binaries, log=log)


def ensure_database(
    settings: Settings, name: str, *, env: Mapping[str, str] | None = None, log: Callable[[str], None] = _silent
) -> str:
    """URL of database ``name`` on the local cluster, starting it and creating the database if needed."""
    return local_cluster(settings, env=env, log=log).ensure_database(name)


@contextlib.contextmanager
def temporary_cluster(prefix: str = "dbops-tmp-", *, tuned_for_tests: bool = True) -> Iterator[LocalCluster]:
    """A throwaway started cluster in a fresh temp dir (fsync off by default), stopped and removed after.

    The test harness and the benchmarks use it: the same code as ``dbops db start``.
    """
    base = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = LocalCluster(base, find_server_binaries(), tuned_for_tests=tuned_for_tests)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
