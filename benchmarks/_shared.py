"""Helpers the benchmark scripts share (run them from the repo: `python benchmarks/X.py`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def server(admin_url: str | None = None) -> Iterator[str]:
    """An admin URL: the one given, TEST_DATABASE_URL, or a throwaway cluster's (the code of `dbops db start`)."""
    admin_url = admin_url or os.environ.get("TEST_DATABASE_URL")
    if admin_url:
        yield admin_url
        return
    from dbops.localdb import temporary_cluster

    with temporary_cluster("dbops-bench-") as cluster:
        yield cluster.url("postgres")
