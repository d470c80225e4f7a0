"""The lint's entry points: SQL text, files and directories, Alembic revisions."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dbops.errors import InputError
from dbops.findings import Finding, Report
from dbops.lint.context import Catalog
from dbops.lint.engine import DEFAULT_NO_TRANSACTION_MARKERS, Options, lint_text

CACHE_FILE = "locks.pickle"
_CACHE_VERSION = 1


def options_from_settings(
    settings: Any | None,
    *,
    assume_in_transaction: bool | None = None,
    pg_version: int | None = None,
    phase: str | None = None,
) -> Options:
    """Lint options from ``[tool.dbops]`` (command-line values win)."""
    if settings is None:
        return Options(
            pg_version=pg_version or 15,
            assume_in_transaction=bool(assume_in_transaction),
            phase=phase,
        )
    locks = settings.locks
    partitioned = sorted({t for s in settings.schemas.values() for t in s.partitioned_tables})
    markers = tuple(getattr(locks, "no_transaction_markers", None) or DEFAULT_NO_TRANSACTION_MARKERS)
    return Options(
        pg_version=pg_version or settings.target_pg_version or 15,
        assume_in_transaction=locks.assume_in_transaction if assume_in_transaction is None else assume_in_transaction,
        phase=phase,
        ignore=tuple(locks.ignore),
        severity=tuple(sorted(locks.severity.items())),
        unanalysed_severity=locks.unanalysed_severity,
        partitioned_tables=tuple(partitioned),
        no_transaction_markers=markers,
    )


def _summary(report: Report, files: int, statements: int, unanalysed: int, started: float, **extra: Any) -> None:
    report.summary.update({
        "files": files,
        "statements": statements,
        "unanalysed": unanalysed,
        "unanalysed_share": round(unanalysed / statements, 4) if statements else 0.0,
        "seconds": round(time.perf_counter() - started, 4),
        **extra,
    })


def lint_sql(
    text: str,
    *,
    filename: str = "<stdin>",
    settings: Any | None = None,
    assume_in_transaction: bool = False,
    pg_version: int = 15,
    phase: str | None = None,
) -> Report:
    """Lint one SQL migration given as text."""
    started = time.perf_counter()
    options = options_from_settings(settings, assume_in_transaction=assume_in_transaction, pg_version=pg_version,
                                    phase=phase)
    result = lint_text(text, filename=filename, options=options)
    report = Report(result.findings)
    _summary(report, 1, result.statements, result.unanalysed, started)
    return report


# --- files --------------------------------------------------------------------------------------


def collect_files(paths: Iterable[str | Path]) -> list[str | Path]:
    """Expand directories to their ``*.sql`` files (sorted: migration order); keep ``-``."""
    out: list[str | Path] = []
    for raw in paths:
        if str(raw) == "-":
            out.append("-")
            continue
        path = Path(raw)
        if path.is_dir():
            found = []
            for folder, _dirs, names in os.walk(path):
                found.extend(os.path.join(folder, n) for n in names if n.endswith(".sql"))
            out.extend(Path(p) for p in sorted(found))
        elif path.exists():
            out.append(path)
        else:
            raise InputError("no such file or directory", location=str(path), hint="check the path")
    return out


def _display(path: Path, cwd: str) -> str:
    text = str(path)
    if text.startswith(cwd):
        return text[len(cwd):]
    return text


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", location=str(path),
                         hint="check the path and its permissions") from None


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError("the file is not UTF-8 text", location=f"{name}:{line}",
                         hint="save it as UTF-8") from None


_ENGINE_FINGERPRINT: str | None = None


def engine_fingerprint() -> str:
    """Changes whenever the lint's code changes (so cached findings are never stale)."""
    global _ENGINE_FINGERPRINT
    if _ENGINE_FINGERPRINT is None:
        from dbops import __version__

        here = Path(__file__).parent
        parts = [__version__, str(_CACHE_VERSION)]
        for source in sorted(here.rglob("*.py")):
            stat = source.stat()
            parts.append(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}")
        _ENGINE_FINGERPRINT = hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()
    return _ENGINE_FINGERPRINT


class Cache:
    """Findings per (file content, options, history, engine) hash, in one pickle file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[bytes, tuple] = {}
        self.used: dict[bytes, tuple] = {}
        self.dirty = False
        if path is not None and path.is_file():
            try:
                with path.open("rb") as handle:
                    data = pickle.load(handle)
                if data.get("engine") == engine_fingerprint():
                    self.entries = data["entries"]
            except Exception:  # a corrupt cache is just a cold run
                self.entries = {}

    def get(self, key: bytes) -> tuple | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.used[key] = entry
        return entry

    def put(self, key: bytes, entry: tuple) -> None:
        self.used[key] = entry
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not (self.dirty or len(self.used) != len(self.entries)):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickle.dump({"engine": engine_fingerprint(), "entries": self.used}, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only checkout still lints, just without a warm cache


def lint_paths(
    paths: Iterable[str | Path],
    settings: Any,
    *,
    assume_in_transaction: bool | None = None,
    pg_version: int | None = None,
    cache: bool = True,
) -> Report:
    """Lint .sql files and directories (``-`` reads stdin), in migration order.

    Files are one migration each; column types learned from earlier files
    carry to later ones (history). Results are cached by content hash in
    ``[tool.dbops.locks] cache_dir``: a rerun skips every file whose content,
    options and preceding history are unchanged.
    """
    started = time.perf_counter()
    options = options_from_settings(settings, assume_in_transaction=assume_in_transaction, pg_version=pg_version)
    files = collect_files(paths)
    cwd = os.getcwd().rstrip(os.sep) + os.sep
    cache_dir = getattr(settings.locks, "cache_dir", "") if settings is not None else ""
    store = Cache(Path(settings.root) / cache_dir / CACHE_FILE if cache and cache_dir else None)
    option_key = (options.key() + engine_fingerprint()).encode()
    catalog = Catalog()
    pending: list[list[tuple]] = []  # journals of cached files not yet replayed into the catalog
    chain = hashlib.blake2b(option_key, digest_size=20).digest()
    findings: list[Finding] = []
    statements = unanalysed = hits = 0
    for item in files:
        if item == "-":
            name, data, key = "<stdin>", sys.stdin.read().encode("utf-8"), None
        else:
            name = _display(item, cwd)
            data = _read(item)
            key = None
        digest = hashlib.blake2b(data, digest_size=20).digest()
        chain = hashlib.blake2b(chain + digest + name.encode(), digest_size=20).digest()
        key = chain if item != "-" else None
        entry = store.get(key) if key is not None else None
        if entry is not None:
            file_findings, count, missing, journal = entry
            pending.append(journal)
            hits += 1
        else:
            for journal in pending:
                catalog.replay(journal)
            pending = []
            result = lint_text(_decode(data, name), filename=name, options=options, catalog=catalog)
            file_findings, count, missing = result.findings, result.statements, result.unanalysed
            if key is not None:
                store.put(key, (file_findings, count, missing, result.journal))
        findings.extend(file_findings)
        statements += count
        unanalysed += missing
    store.save()
    report = Report(findings)
    _summary(report, len(files), statements, unanalysed, started, cache_hits=hits)
    return report


# --- Alembic revisions --------------------------------------------------------------------------


def lint_revisions(
    settings: Any,
    schema_settings: Any,
    *,
    since: str | None = None,
    revisions: Iterable[str] | None = None,
    assume_in_transaction: bool | None = None,
    pg_version: int | None = None,
) -> Report:
    """Lint a schema's Alembic revisions (all, those after ``since``, or the ids in ``revisions``)."""
    from dbops.lint.revisions import lint_schema_revisions

    started = time.perf_counter()
    options = options_from_settings(settings, pg_version=pg_version)
    report = lint_schema_revisions(settings, schema_settings, options, since=since,
                                   revisions=list(revisions) if revisions is not None else None)
    _summary(report, report.summary.get("revisions", 0), report.summary.get("statements", 0),
             report.summary.get("unanalysed", 0), started, schema=schema_settings.name)
    return report
