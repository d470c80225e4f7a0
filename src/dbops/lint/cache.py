"""The content-hash cache of ``lint_paths``: findings per file, in one file, read fast.

A warm rerun reads one file (``[tool.dbops.locks] cache_dir``/``locks.cache``),
hashes the migrations and rebuilds the cached findings; it never imports the
parser, the rule modules or Alembic. The cache holds plain data only
(``marshal``: tuples, strings, numbers — no classes, and never pickle: loading
a file from the project directory must not run code), each finding as the
tuple of its fields, and a migration's catalog changes (its journal, replayed
only when a later file is linted again) as tuples with column types spelled
``(name, params, array)``.

The cache is keyed by the engine fingerprint (the lint's sources, sqlglot's
version, the Python version, the shape of ``Finding``): any change there makes
every entry a miss, so cached findings are never stale.

>>> row = encode_finding(Finding(rule="r", severity=Severity.ERROR, message="m", file="f.sql", line=2))
>>> decode_finding(row) == Finding(rule="r", severity=Severity.ERROR, message="m", file="f.sql", line=2)
True
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from dbops.findings import Finding, Severity

try:  # hashlib's own blake2b, without hashlib's import of OpenSSL (a few ms of every warm run)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - not CPython
    from hashlib import blake2b

CACHE_FILE = "locks.cache"
_CACHE_VERSION = 3
_FIELDS = tuple(f.name for f in dataclasses.fields(Finding))
_SEVERITY_AT = _FIELDS.index("severity")
_SEVERITIES = {s.value: s for s in Severity}

# One cache entry: (findings as rows, statements, unanalysed, journal as plain tuples).
Entry = tuple[tuple[tuple[Any, ...], ...], int, int, tuple[tuple[Any, ...], ...]]


def encode_finding(finding: Finding) -> tuple[Any, ...]:
    """A finding as a tuple of plain values (marshal-able)."""
    row = [getattr(finding, name) for name in _FIELDS]
    row[_SEVERITY_AT] = finding.severity.value
    return tuple(row)


def decode_finding(row: tuple[Any, ...]) -> Finding:
    """The finding back from ``encode_finding``'s tuple."""
    values = list(row)
    values[_SEVERITY_AT] = _SEVERITIES[values[_SEVERITY_AT]]
    return Finding(*values)


def encode_entry(findings: list[Finding], statements: int, unanalysed: int, journal: list[tuple]) -> Entry:
    return tuple(encode_finding(f) for f in findings), statements, unanalysed, encode_journal(journal)


_TYPE = "\x00type"  # marks a column type in a journal: (_TYPE, name, params, array)


def encode_journal(journal: list[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """A catalog journal as marshal-able tuples (column types become tagged tuples).

    >>> from dbops.lint.pgtypes import TypeInfo
    >>> ops = [("column", "t", "c", TypeInfo("varchar", (20,))), ("table", "u", {"id": TypeInfo("int8")})]
    >>> decode_journal(encode_journal(ops)) == ops
    True
    """
    return tuple(tuple(_plain(arg) for arg in op) for op in journal)


def decode_journal(ops: Any) -> list[tuple[Any, ...]]:
    """The journal back from ``encode_journal``'s tuples."""
    if not ops:
        return []
    return [tuple(_typed(arg) for arg in op) for op in ops]


def _plain(value: Any) -> Any:
    if hasattr(value, "params") and hasattr(value, "array"):  # a TypeInfo (not imported: the warm path stays light)
        return (_TYPE, value.name, tuple(value.params), bool(value.array))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 4 and value[0] == _TYPE:
        from dbops.lint.pgtypes import TypeInfo

        return TypeInfo(value[1], tuple(value[2]), value[3])
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    return value


_ENGINE_FINGERPRINT: str | None = None


def engine_fingerprint() -> str:
    """Changes whenever anything that decides the findings changes (so cached findings are never stale).

    The lint's sources (size, mtime), sqlglot's installed version files, the Python version
    (marshal's format) and the fields of ``Finding`` — found without importing any of them.
    """
    global _ENGINE_FINGERPRINT
    if _ENGINE_FINGERPRINT is None:
        from dbops import __version__

        parts = [__version__, str(_CACHE_VERSION), sys.version, str(marshal.version), ",".join(_FIELDS)]
        here = os.path.dirname(os.path.abspath(__file__))
        for folder, dirs, names in os.walk(here):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if name.endswith(".py"):
                    stat = os.stat(os.path.join(folder, name))
                    parts.append(f"{os.path.relpath(os.path.join(folder, name), here)}:{stat.st_size}:{stat.st_mtime_ns}")
        parts.extend(_sqlglot_version_files())
        _ENGINE_FINGERPRINT = blake2b("|".join(parts).encode(), digest_size=16).hexdigest()
    return _ENGINE_FINGERPRINT


def _sqlglot_version_files() -> list[str]:
    """sqlglot's (and its compiled extras') version files, located without importing sqlglot."""
    import importlib.util

    out = []
    try:
        spec = importlib.util.find_spec("sqlglot")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        folder = os.path.dirname(spec.origin)
        for name in ("_version.py", "tokenizer_core.py", "parser.py"):
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            out.append(f"sqlglot/{name}:{stat.st_size}:{stat.st_mtime_ns}")
        try:
            compiled = sorted(n for n in os.listdir(folder) if n.endswith(".so") or n.endswith(".pyd"))
        except OSError:
            compiled = []
        out.append("compiled:" + ",".join(compiled))
    return out


class Cache:
    """Findings per (file content, options, history, engine) hash, in one marshal file.

    ``get`` returns an ``Entry``; ``put`` takes a linted file's results. ``save`` keeps
    only the entries used in this run (stale ones drop out) and writes nothing when
    nothing changed.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[bytes, Entry] = {}
        self.used: dict[bytes, Entry] = {}
        self.dirty = False
        if path is None:
            return
        try:
            with open(path, "rb") as handle:
                data = marshal.loads(handle.read())  # (marshal.load reads a file object piecemeal: slower)
        except Exception:  # no cache yet, or a corrupt one: just a cold run
            return
        if isinstance(data, dict) and data.get("engine") == engine_fingerprint():
            entries = data.get("entries")
            if isinstance(entries, dict):
                self.entries = entries

    def get(self, key: bytes) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.used[key] = entry
        return entry

    def put(self, key: bytes, findings: list[Finding], statements: int, unanalysed: int,
            journal: list[tuple]) -> None:
        if self.path is None:  # caching off: nothing to keep
            return
        self.used[key] = encode_entry(findings, statements, unanalysed, journal)
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not (self.dirty or len(self.used) != len(self.entries)):
            return
        try:
            payload = marshal.dumps({"engine": engine_fingerprint(), "entries": self.used})
        except ValueError:  # a finding detail marshal cannot store: keep the entries it can
            kept = {}
            for key, entry in self.used.items():
                try:
                    marshal.dumps(entry)
                except ValueError:
                    continue
                kept[key] = entry
            payload = marshal.dumps({"engine": engine_fingerprint(), "entries": kept})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only checkout still lints, just without a warm cache
