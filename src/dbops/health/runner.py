"""The generic runner: every check's SQL in ONE read-only transaction per server.

Safe against a busy primary by construction:

- ``BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`` (one consistent
  snapshot of catalog and statistics; any write would fail);
- ``statement_timeout`` and ``lock_timeout`` set with ``SET LOCAL`` semantics
  (``set_config(..., true)``) from ``[tool.dbops.indexes]``;
- only catalog and statistics reads: sizes come from ``pg_class.relpages``,
  never ``pg_relation_size()`` (which would lock every relation measured),
  and sequence values from plain ``SELECT last_value`` (AccessShareLock),
  never ``pg_sequences`` (RowExclusiveLock);
- a constant number of statements whatever the catalog size: 3 + one per
  check + ROLLBACK, no per-object round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbops.config.urls import mask_url
from dbops.errors import ConfigError, OperationFailed
from dbops.health.model import Check, Row

#: One statement for everything the mappers and the partition logic need about the server.
CONTEXT_SQL = """
SELECT current_database() AS database,
       pg_backend_pid() AS pid,
       current_setting('server_version_num')::int AS server_version,
       pg_is_in_recovery() AS in_recovery,
       (SELECT d.stats_reset FROM pg_stat_database d WHERE d.datname = current_database()) AS stats_reset,
       pg_postmaster_start_time() AS postmaster_start,
       (SELECT coalesce(json_object_agg(c.oid::regclass::text,
                                        (SELECT count(*) FROM pg_partition_tree(c.oid) t WHERE t.isleaf)), '{}')
        FROM pg_class c WHERE c.relkind IN ('p', 'I') AND NOT c.relispartition) AS partition_leaves
"""

#: ``on_query(check_name, backend_pid)``: called after each statement while the transaction is open
#: (tests use it to look at ``pg_locks`` from another connection).
QueryHook = Callable[[str, int], None]


@dataclass
class ServerResult:
    """What one server returned: the context row, rows per check, statements sent, seconds spent."""

    url: str
    context: dict[str, Any]
    rows: dict[str, list[Row]] = field(default_factory=dict)
    queries: int = 0
    elapsed: float = 0.0

    @property
    def partition_leaves(self) -> dict[str, int]:
        return dict(self.context.get("partition_leaves") or {})


def run_checks(
    url: str,
    checks: Sequence[Check],
    params: dict[str, Any],
    *,
    statement_timeout: str,
    lock_timeout: str,
    on_query: QueryHook | None = None,
) -> ServerResult:
    """Run ``checks`` on ``url`` in one read-only transaction; the rows of each, by check name."""
    import psycopg
    from psycopg.rows import dict_row

    from dbops.db import connect, unavailable

    started = time.perf_counter()
    conn = connect(url, autocommit=True, row_factory=dict_row)
    result = ServerResult(url, {})
    current = "setup"
    pid = 0

    def execute(sql: str, args: Any = None) -> list[Row]:
        cursor = conn.execute(sql, args)
        result.queries += 1
        rows = cursor.fetchall() if cursor.description else []
        if on_query is not None:
            on_query(current, pid)
        return rows

    try:
        execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true), "
                "set_config('search_path', '', true)",
                [statement_timeout, lock_timeout],
            )
        except psycopg.errors.InvalidParameterValue as exc:
            raise ConfigError(
                f"invalid [tool.dbops.indexes] timeout: {exc.diag.message_primary}",
                hint="use a PostgreSQL duration such as '30s' or '500ms'",
            ) from None
        current = "context"
        result.context = execute(CONTEXT_SQL)[0]
        pid = result.context["pid"]
        for check in checks:
            current = check.name
            result.rows[check.name] = execute(check.sql, params)
        current = "rollback"
        execute("ROLLBACK")
    except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable) as exc:
        raise OperationFailed(
            f"check {current} on {mask_url(url)} gave up: {exc.diag.message_primary}",
            hint="raise [tool.dbops.indexes] statement_timeout/lock_timeout, or rerun when the server is quieter",
        ) from None
    except psycopg.OperationalError as exc:
        raise unavailable(url, exc) from None
    except psycopg.Error as exc:
        raise OperationFailed(
            f"check {current} failed on {mask_url(url)}: {exc.diag.message_primary or exc}",
            hint="the role needs to read the catalogs and statistics (pg_monitor / pg_read_all_stats)",
        ) from None
    finally:
        conn.close()
    result.elapsed = time.perf_counter() - started
    return result


def collapse_partitions(rows: list[Row], leaves: dict[str, int], sum_columns: Sequence[str] = ()) -> list[Row]:
    """Partitioned tables as ONE logical table: rows on partitions become one row on the parent
    when every leaf partition has the same problem (same ``partition_root`` and ``partition_key``).

    Rows carry ``partition_root`` (the root table, or the root index for index rows, which then
    also carry ``partition_root_table``). When some partitions lack the problem, their rows stay
    as they are. ``sum_columns`` are added up in the merged row, which gets ``partitions = n``.

    >>> rows = [{"table_name": "public.p1", "partition_root": "public.p", "partition_key": "", "size": 1},
    ...         {"table_name": "public.p2", "partition_root": "public.p", "partition_key": "", "size": 2},
    ...         {"table_name": "public.t", "partition_root": None, "size": 5}]
    >>> [(r["table_name"], r["size"], r.get("partitions")) for r in collapse_partitions(rows, {"public.p": 2}, ["size"])]
    [('public.p', 3, 2), ('public.t', 5, None)]
    >>> [r["table_name"] for r in collapse_partitions(rows, {"public.p": 3}, ["size"])]
    ['public.p1', 'public.p2', 'public.t']
    """
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        root = row.get("partition_root")
        if root:
            groups.setdefault((root, row.get("partition_key") or ""), []).append(row)
    out: list[Row] = []
    emitted: set[tuple[str, str]] = set()
    for row in rows:
        root = row.get("partition_root")
        if not root:
            out.append(row)
            continue
        key = (root, row.get("partition_key") or "")
        members = groups[key]
        if len(members) < leaves.get(root, 0) or leaves.get(root, 0) == 0:
            out.append(row)
            continue
        if key in emitted:
            continue
        emitted.add(key)
        merged = dict(members[0])
        if "index_name" in merged:
            merged["index_name"] = root
            merged["table_name"] = merged.get("partition_root_table") or merged["table_name"]
        else:
            merged["table_name"] = root
        for column in sum_columns:
            if column in merged:
                merged[column] = sum((m.get(column) or 0) for m in members)
        merged["partitions"] = len(members)
        out.append(merged)
    return out


def agree_across_servers(primary: list[Row], replicas: list[list[Row]], key: str = "index_name") -> list[Row]:
    """Keep the primary's rows whose ``key`` is also reported by every replica (e.g. unused on all servers).

    ``scans`` is summed and ``scans_per_server`` lists each server's count.

    >>> p = [{"index_name": "public.a", "scans": 0}, {"index_name": "public.b", "scans": 0}]
    >>> r = [[{"index_name": "public.a", "scans": 0}]]
    >>> agree_across_servers(p, r)
    [{'index_name': 'public.a', 'scans': 0, 'scans_per_server': [0, 0]}]
    """
    out = []
    by_server = [{row[key]: row for row in rows} for rows in replicas]
    for row in primary:
        others = [server.get(row[key]) for server in by_server]
        if all(other is not None for other in others):
            merged = dict(row)
            per_server = [row.get("scans", 0), *(o.get("scans", 0) for o in others)]
            merged["scans"] = sum(per_server)
            merged["scans_per_server"] = per_server
            out.append(merged)
    return out
