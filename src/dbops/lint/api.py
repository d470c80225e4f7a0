"""The lint's entry points: SQL text, files and directories, rendered Alembic revisions.

This module stays light: the engine (sqlglot, the rule modules) is imported
only when a file has to be linted, so a warm rerun where every file is a
cache hit never loads it.
"""

from __future__ import annotations

import errno
import gc
import os
import stat
import sys
import time
from collections.abc import Container, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbops.errors import InputError
from dbops.findings import Finding, Report
from dbops.lint.cache import CACHE_FILE, Cache, blake2b, decode_finding, decode_journal, engine_fingerprint
from dbops.lint.options import DEFAULT_BOOKKEEPING_TABLES, DEFAULT_NO_TRANSACTION_MARKERS, Options

if TYPE_CHECKING:
    from dbops.lint.inputs import RevisionInput

__all__ = ["CACHE_FILE", "Cache", "collect_files", "engine_fingerprint", "lint_paths", "lint_revisions", "lint_sql",
           "options_from_settings"]


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
    bookkeeping = tuple(getattr(locks, "bookkeeping_tables", None) or DEFAULT_BOOKKEEPING_TABLES)
    return Options(
        pg_version=pg_version or settings.target_pg_version or 15,
        assume_in_transaction=locks.assume_in_transaction if assume_in_transaction is None else assume_in_transaction,
        phase=phase,
        ignore=tuple(locks.ignore),
        severity=tuple(sorted(locks.severity.items())),
        unanalysed_severity=locks.unanalysed_severity,
        partitioned_tables=tuple(partitioned),
        no_transaction_markers=markers,
        bookkeeping_tables=bookkeeping,
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
    from dbops.lint.engine import lint_text

    started = time.perf_counter()
    options = options_from_settings(settings, assume_in_transaction=assume_in_transaction, pg_version=pg_version,
                                    phase=phase)
    with _gc_paused():
        result = lint_text(text, filename=filename, options=options)
    report = Report(result.findings)
    _summary(report, 1, result.statements, result.unanalysed, started)
    return report


# --- files --------------------------------------------------------------------------------------


def collect_files(paths: Iterable[str | Path]) -> list[str | Path]:
    """Expand directories to their ``*.sql`` files (sorted: migration order); keep ``-``.

    Paths come back as given when ``Path`` would not change them (CI passes hundreds of
    files: no Path object per file), else as ``Path`` (normalised, as displayed).

    >>> collect_files(["-"])
    ['-']
    """
    out: list[str | Path] = []
    for raw in paths:
        if str(raw) == "-":
            out.append("-")
            continue
        path = _as_path(raw)
        try:
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)  # one stat per argument
        except OSError as exc:
            if exc.errno not in _MISSING:
                raise
            raise InputError("no such file or directory", location=str(path), hint="check the path") from None
        except ValueError:  # e.g. a NUL byte in the name
            raise InputError("no such file or directory", location=str(path), hint="check the path") from None
        if is_dir:
            found: list[str] = []
            for folder, _dirs, names in os.walk(path):
                found.extend(os.path.join(folder, n) for n in names if n.endswith(".sql"))
            out.extend(_as_path(p) for p in sorted(found))
        else:
            out.append(path)
    return out


def _as_path(raw: str | Path) -> str | Path:
    """``raw`` itself when it is a str ``Path`` would print unchanged, else ``Path(raw)``.

    >>> _as_path("m/001.sql"), _as_path("./m//001.sql")
    ('m/001.sql', PosixPath('m/001.sql'))
    """
    if (
        isinstance(raw, str) and raw and os.sep == "/" and "//" not in raw and "/./" not in raw
        and not raw.startswith("./") and not raw.endswith(("/", "/.")) and raw != "."
    ):
        return raw
    return Path(raw)


# What Path.exists() takes for "no such file" (pathlib's _IGNORED_ERRNOS).
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while linting a batch of files.

    Linting allocates many short-lived objects and hardly any cycles (about 2,000 for the
    565 files of the PrairieLearn corpus), but the collector's full passes would walk every
    object the parser's import created (20–40 ms per pass): pause it, and restore it after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _display(path: str | Path, cwd: str) -> str:
    text = str(path)
    if text.startswith(cwd):
        return text[len(cwd):]
    return text


def _read(path: str | Path) -> bytes:
    """The bytes of a file (plain os calls: half the cost of ``open().read()`` for CI's hundreds of files)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", location=str(path),
                         hint="check the path and its permissions") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode_sql(data: bytes, name: str) -> str:
    """``data`` as UTF-8 text; otherwise an InputError naming the line and the byte offset (exit 2).

    >>> decode_sql(b"SELECT 1;\\nSELECT '\\xe9';", "m.sql")
    Traceback (most recent call last):
    ...
    dbops.errors.InputError: not UTF-8 text: byte 0xe9 at offset 18 (line 2, column 9)
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        what = "the input" if name == "<stdin>" else "the file"
        raise InputError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}, "
                         f"column {column})", location=f"{name}:{line}",
                         hint=f"save {what} as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)") from None


def read_stdin() -> bytes:
    """Standard input as bytes (decoded by ``decode_sql``, so a bad byte is a clear error)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer.read()
    return sys.stdin.read().encode("utf-8", "surrogateescape")  # a text stream (tests): as given


def lint_paths(
    paths: Iterable[str | Path],
    settings: Any,
    *,
    assume_in_transaction: bool | None = None,
    pg_version: int | None = None,
    cache: bool = True,
    known_types: Mapping[str, Mapping[str, Any]] | None = None,
) -> Report:
    """Lint .sql files and directories (``-`` reads stdin), in migration order.

    Files are one migration each; column types learned from earlier files
    carry to later ones (history), on top of ``known_types`` (table → column →
    ``TypeInfo``, e.g. read from the live database). Results are cached by
    content hash in ``[tool.dbops.locks] cache_dir``: a rerun skips every file
    whose content, options and preceding history are unchanged.
    """
    with _gc_paused():
        return _lint_paths(paths, settings, assume_in_transaction=assume_in_transaction, pg_version=pg_version,
                           cache=cache, known_types=known_types)


def _lint_paths(paths: Iterable[str | Path], settings: Any, *, assume_in_transaction: bool | None,
                pg_version: int | None, cache: bool, known_types: Mapping[str, Mapping[str, Any]] | None) -> Report:
    started = time.perf_counter()
    options = options_from_settings(settings, assume_in_transaction=assume_in_transaction, pg_version=pg_version)
    files = collect_files(paths)
    cwd = os.getcwd().rstrip(os.sep) + os.sep
    cache_dir = getattr(settings.locks, "cache_dir", "") if settings is not None else ""
    store = Cache(Path(settings.root) / cache_dir / CACHE_FILE if cache and cache_dir else None)
    known = {t: dict(cols) for t, cols in sorted((known_types or {}).items())}
    option_key = (options.key() + engine_fingerprint() + repr(sorted((t, sorted(c.items())) for t, c in known.items()))
                  ).encode()
    catalog = None  # the history of column types, built on the first file that is not a cache hit
    pending: list[Any] = []  # journals of cached files not yet replayed into the catalog
    chain = blake2b(option_key, digest_size=20).digest()
    findings: list[Finding] = []
    statements = unanalysed = hits = 0
    for item in files:
        if item == "-":
            name, data = "<stdin>", read_stdin()
        else:
            name = _display(item, cwd)
            data = _read(item)
        digest = blake2b(data, digest_size=20).digest()
        chain = blake2b(chain + digest + name.encode(), digest_size=20).digest()
        key = chain if item != "-" else None
        entry = store.get(key) if key is not None else None
        if entry is not None:
            rows, count, missing, journal = entry
            findings.extend(map(decode_finding, rows))
            if journal:
                pending.append(journal)
            hits += 1
        else:
            from dbops.lint.engine import lint_text

            if catalog is None:
                from dbops.lint.context import Catalog

                catalog = Catalog.from_types(known)
            for journal in pending:
                catalog.replay(decode_journal(journal))
            pending = []
            result = lint_text(decode_sql(data, name), filename=name, options=options, catalog=catalog)
            count, missing = result.statements, result.unanalysed
            findings.extend(result.findings)
            if key is not None:
                store.put(key, result.findings, count, missing, result.journal)
        statements += count
        unanalysed += missing
    store.save()
    report = Report(findings)
    _summary(report, len(files), statements, unanalysed, started, cache_hits=hits)
    return report


# --- Alembic revisions --------------------------------------------------------------------------


def lint_revisions(
    revisions: Iterable[RevisionInput],
    settings: Any | None,
    *,
    report: Container[str] | None = None,
    pg_version: int | None = None,
    schema: str | None = None,
) -> Report:
    """Lint a schema's Alembic revisions, rendered to SQL (base to heads); findings for those in ``report``.

    The revisions come rendered (``dbops.workflows.lint_schema_revisions`` renders them through
    ``dbops.revisions``): the lint itself never runs Alembic.
    """
    from dbops.lint.revisions import lint_revision_history

    started = time.perf_counter()
    options = options_from_settings(settings, pg_version=pg_version)
    result = lint_revision_history(revisions, options, report=report)
    extra = {"schema": schema} if schema is not None else {}
    _summary(result, result.summary.get("revisions", 0), result.summary.get("statements", 0),
             result.summary.get("unanalysed", 0), started, **extra)
    return result
