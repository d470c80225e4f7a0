"""``dbops_seed_runs``: what a killed ``seed --scale`` leaves behind is known the next time.

The parallel load commits table by table, so a client killed with SIGKILL (no chance to
clean up) can leave some tables loaded and the others empty: a partial dataset that
``--append`` must not build on. Before loading, a row is committed here (status
``running``); the run closes it (``done``, or ``rolled back`` when it failed and emptied
what it had loaded). The next run that finds a ``running`` row whose loaders
(``application_name = 'dbops seed'``) are gone knows the earlier run was killed.

Like dbops' other bookkeeping tables (``dbops_`` prefix) it is ignored by the drift
comparison, and ``dbops reset`` drops it with the rest of ``public``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dbops.db import connection, scalar

if TYPE_CHECKING:
    import psycopg

RUNS_TABLE = "dbops_seed_runs"
APPLICATION_NAME = "dbops seed"

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schema_name text NOT NULL,
    scale integer NOT NULL,
    seed bigint NOT NULL,
    status text NOT NULL DEFAULT 'running',
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
)
"""


@dataclass(frozen=True)
class UnfinishedRun:
    """A run still marked ``running``; ``loader_pids``: backends of dbops seed loaders still connected."""

    id: int
    scale: int
    seed: int
    started_at: datetime
    loader_pids: tuple[int, ...]

    @property
    def alive(self) -> bool:
        return bool(self.loader_pids)


def unfinished_run(conn: psycopg.Connection) -> UnfinishedRun | None:
    """The latest run still marked ``running`` (None when there is none or no runs table)."""
    if scalar(conn, "SELECT to_regclass(%s)", (f"public.{RUNS_TABLE}",)) is None:
        return None
    row = conn.execute(
        f"SELECT id, scale, seed, started_at FROM {RUNS_TABLE} WHERE status = 'running' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    pids = [
        pid
        for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s "
            "AND pid <> pg_backend_pid() ORDER BY pid",
            (APPLICATION_NAME,),
        ).fetchall()
    ]
    return UnfinishedRun(row[0], row[1], row[2], row[3], tuple(pids))


def start_run(conn: psycopg.Connection, schema: str, scale: int, seed: int) -> int:
    """Commit a ``running`` row for this run (the caller's transaction is committed with it)."""
    conn.execute(_CREATE)
    run_id = scalar(
        conn,
        f"INSERT INTO {RUNS_TABLE} (schema_name, scale, seed) VALUES (%s, %s, %s) RETURNING id",
        (schema, scale, seed),
    )
    conn.commit()
    return int(run_id)


def close_run(conn: psycopg.Connection, run_id: int, status: str) -> None:
    """Mark a run ``done``, ``rolled back``, ``partial`` or ``abandoned`` (committed)."""
    conn.execute(f"UPDATE {RUNS_TABLE} SET status = %s, finished_at = now() WHERE id = %s", (status, run_id))
    conn.commit()


def close_run_at(url: str, run_id: int, status: str) -> None:
    """``close_run`` on a connection of its own, best effort (after a failure the server may be gone too)."""
    with contextlib.suppress(Exception, KeyboardInterrupt), connection(url) as conn:
        close_run(conn, run_id, status)
