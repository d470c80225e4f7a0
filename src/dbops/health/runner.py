"""The generic runner: every check's SQL in ONE read-only transaction per server.

Safe against a busy primary by construction:

- ``BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`` (one consistent
  snapshot of catalog and statistics; any write would fail);
- ``statement_timeout`` and ``lock_timeout`` set with ``SET LOCAL`` semantics
  (``set_config(..., true)``) from ``[tool.dbops.indexes]``; ``search_path`` empty
  (every name printed schema-qualified) and ``jit`` off (catalog queries over
  big catalogs would otherwise cross ``jit_above_cost`` and compile for 100 ms+);
- only catalog and statistics reads: sizes come from ``pg_class.relpages``,
  never ``pg_relation_size()`` (which would lock every relation measured),
  and sequence values from plain ``SELECT last_value`` (AccessShareLock),
  never ``pg_sequences`` (RowExclusiveLock);
- a constant number of statements whatever the catalog size: 3 + one per
  check + ROLLBACK, no per-object round trip; all but the ROLLBACK are sent
  as one pipeline (about one network round trip for the whole audit).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbops.config.urls import mask_url
from dbops.db import connect, unavailable
from dbops.errors import ConfigError, OperationFailed
from dbops.health.model import Check, Row

#: ``SET LOCAL`` of the timeouts (from config), an empty search_path (names print schema-qualified), no JIT.
SETUP_SQL = (
    "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true), "
    "set_config('search_path', '', true), set_config('jit', 'off', true)"
)

#: One statement for everything the mappers and the partition logic need about the server.
CONTEXT_SQL = """
SELECT current_database() AS database,
       pg_backend_pid() AS pid,
       current_setting('server_version_num')::int AS server_version,
       pg_is_in_recovery() AS in_recovery,
       (SELECT d.stats_reset FROM pg_stat_database d WHERE d.datname = current_database()) AS stats_reset,
       pg_postmaster_start_time() AS postmaster_start,
       (SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname), '[]') FROM pg_namespace n
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       ) AS namespaces,
       -- leaves per root partitioned table/index, walking pg_inherits (pg_partition_tree() would lock them all)
       (WITH RECURSIVE tree AS (
            SELECT c.oid AS root, c.oid AS relid, c.relkind
            FROM pg_class c WHERE c.relkind IN ('p', 'I') AND NOT c.relispartition
            UNION ALL
            SELECT t.root, i.inhrelid, k.relkind
            FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid JOIN pg_class k ON k.oid = i.inhrelid)
        SELECT coalesce(json_object_agg(l.root::regclass::text, l.leaves), '{}')
        FROM (SELECT root, count(*) FILTER (WHERE relkind NOT IN ('p', 'I')) AS leaves FROM tree GROUP BY root) l
       ) AS partition_leaves
"""

#: ``on_query(statement_name, backend_pid)``: called for each statement once all results are in, while
#: the transaction (and every lock it took) is still open (tests look at ``pg_locks`` from another connection).
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

    started = time.perf_counter()
    conn = connect(url, autocommit=True, row_factory=dict_row)
    result = ServerResult(url, {})
    statements: list[tuple[str, str, Any]] = [
        ("begin", "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", None),
        ("setup", SETUP_SQL, [statement_timeout, lock_timeout]),
        ("context", CONTEXT_SQL, None),
        *((check.name, check.sql, params) for check in checks),
    ]
    sent: list[tuple[str, psycopg.Cursor[Any]]] = []  # dict rows (row_factory=dict_row)
    current = "setup"
    try:
        try:
            # One pipeline: every statement is sent at once and the results come back together,
            # so the audit costs about one network round trip, not one per check.
            with conn.pipeline() as pipeline:
                for name, sql, args in statements:
                    sent.append((name, conn.execute(sql, args)))
                pipeline.sync()
        except psycopg.Error:
            # the statement that failed is the first one without a result
            current = next((name for name, cursor in sent if cursor.pgresult is None), "setup")
            raise
        result.queries = len(sent)
        for name, cursor in sent:
            rows = cursor.fetchall() if cursor.description else []
            if name == "context":
                result.context = rows[0]
            elif name not in ("begin", "setup"):
                result.rows[name] = rows
        pid = result.context["pid"]
        if on_query is not None:
            for name, _cursor in sent:
                on_query(name, pid)
        current = "rollback"
        conn.execute("ROLLBACK")
        result.queries += 1
    except psycopg.errors.InvalidParameterValue as exc:
        if current != "setup":
            raise OperationFailed(f"check {current} failed on {mask_url(url)}: {exc.diag.message_primary}") from None
        raise ConfigError(
            f"invalid [tool.dbops.indexes] timeout: {exc.diag.message_primary}",
            hint="use a PostgreSQL duration such as '30s' or '500ms'",
        ) from None
    except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable) as exc:
        raise OperationFailed(
            f"check {current} on {mask_url(url)} gave up: {exc.diag.message_primary}",
            hint="raise [tool.dbops.indexes] statement_timeout/lock_timeout, or rerun when the server is quieter",
        ) from None
    except psycopg.OperationalError as exc:
        raise unavailable(url, exc) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise OperationFailed(
            f"check {current} failed on {mask_url(url)}: {exc.diag.message_primary}",
            hint="the role needs to read the catalogs and statistics: GRANT pg_monitor TO <role>",
        ) from None
    except psycopg.Error as exc:
        raise OperationFailed(
            f"check {current} failed on {mask_url(url)}: {exc.diag.message_primary or exc}",
            hint="rerun with --debug and report it: the check's SQL did not run on this server",
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
        found = [server.get(row[key]) for server in by_server]
        others = [other for other in found if other is not None]
        if len(others) == len(found):
            merged = dict(row)
            per_server = [row.get("scans", 0), *(o.get("scans", 0) for o in others)]
            merged["scans"] = sum(per_server)
            merged["scans_per_server"] = per_server
            out.append(merged)
    return out
