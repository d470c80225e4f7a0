"""Reading ``EXPLAIN (FORMAT JSON)`` documents: scans, rows examined, buffers, a one-line summary.

Rows examined is the sum over the scan nodes (nodes reading a relation) of
(actual rows + rows removed by filter + rows removed by index recheck) ×
loops: what the executor looked at, not what it returned. A full index scan
of the primary key has no Seq Scan node, yet examines every row — this
number catches it.

>>> doc = [{"Plan": {"Node Type": "Limit", "Actual Rows": 10, "Actual Loops": 1, "Shared Hit Blocks": 7,
...   "Shared Read Blocks": 2, "Plans": [{"Node Type": "Index Scan", "Relation Name": "appointments",
...   "Index Name": "appointments_pkey", "Actual Rows": 10, "Actual Loops": 1, "Rows Removed by Filter": 4990}]}}]
>>> rows_examined(doc), buffers(doc), plan_summary(doc)
(5000, 9, ['appointments: Index Scan appointments_pkey'])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Plan = Mapping[str, Any]


def root(document: Any) -> Plan:
    """The top plan node of an EXPLAIN JSON document (the list psycopg returns, or its first item)."""
    if isinstance(document, list):
        document = document[0]
    return document.get("Plan", document)


def walk(document: Any) -> Iterator[Plan]:
    """Every plan node, depth first (InitPlans and SubPlans included)."""
    stack = [root(document)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.get("Plans", [])))


def scan_nodes(document: Any) -> Iterator[Plan]:
    """Nodes that read a table (Seq/Index/Index Only/Bitmap Heap/Tid scans…)."""
    for node in walk(document):
        if "Relation Name" in node and node.get("Node Type") != "ModifyTable":
            yield node


def table_of(node: Plan, parents: Mapping[str, str] | None = None) -> str:
    """The table a scan node reads; a partition maps to its partitioned parent (all levels).

    >>> table_of({"Relation Name": "logs_p202611"}, {"logs_p202611": "logs"})
    'logs'
    """
    name = node["Relation Name"]
    parents = parents or {}
    seen = set()
    while name in parents and name not in seen:
        seen.add(name)
        name = parents[name]
    return name


def rows_examined(document: Any) -> int:
    """Σ over scan nodes of (rows + removed by filter + removed by recheck) × loops (EXPLAIN ANALYZE)."""
    total = 0.0
    for node in scan_nodes(document):
        per_loop = (
            node.get("Actual Rows", 0)
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        total += per_loop * node.get("Actual Loops", 1)
    return round(total)


def buffers(document: Any) -> int:
    """Shared buffers hit + read by the whole plan (the top node's counters include its children)."""
    top = root(document)
    return int(top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0))


def total_cost(document: Any) -> float:
    """The planner's total cost of the plan."""
    return float(root(document).get("Total Cost", 0.0))


def seq_scanned(document: Any, parents: Mapping[str, str] | None = None) -> set[str]:
    """Tables (partitions mapped to their parent) that some Seq Scan node reads.

    >>> seq_scanned([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "users"}}])
    {'users'}
    """
    return {table_of(n, parents) for n in scan_nodes(document) if n.get("Node Type") == "Seq Scan"}


def indexes_used(document: Any) -> set[str]:
    """Names of the indexes the plan scans (bitmap index scans included)."""
    return {n["Index Name"] for n in walk(document) if n.get("Index Name")}


def plan_summary(document: Any, parents: Mapping[str, str] | None = None) -> list[str]:
    """One ``table: Node Type index`` line per table access, in plan order; the partitions of a
    partitioned table read the same way collapse into one line.

    >>> plan_summary([{"Plan": {"Node Type": "Bitmap Heap Scan", "Relation Name": "t", "Plans": [
    ...     {"Node Type": "Bitmap Index Scan", "Index Name": "ix_t"}]}}])
    ['t: Bitmap Heap Scan ix_t']
    >>> plan_summary([{"Plan": {"Node Type": "Append", "Plans": [
    ...     {"Node Type": "Index Scan", "Relation Name": "logs_p1", "Index Name": "logs_p1_idx"},
    ...     {"Node Type": "Index Scan", "Relation Name": "logs_p2", "Index Name": "logs_p2_idx"}]}}],
    ...     {"logs_p1": "logs", "logs_p2": "logs"})
    ['logs: Index Scan on 2 partitions']
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for node in scan_nodes(document):
        index = node.get("Index Name")
        if index is None and node.get("Node Type") == "Bitmap Heap Scan":
            index = ", ".join(sorted(indexes_used({"Plan": node}))) or None
        table = table_of(node, parents)
        group = groups.setdefault((table, node["Node Type"]), {"indexes": [], "relations": set()})
        if index and index not in group["indexes"]:
            group["indexes"].append(index)
        group["relations"].add(node["Relation Name"])
    lines = []
    for (table, node_type), group in groups.items():
        partitions = len(group["relations"] - {table})
        if partitions > 1:
            lines.append(f"{table}: {node_type} on {partitions} partitions")
        else:
            lines.append(f"{table}: {node_type}" + (f" {', '.join(group['indexes'])}" if group["indexes"] else ""))
    return lines
