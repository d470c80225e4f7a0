"""Alembic revisions as lint input: rendered one at a time through offline mode.

Each revision's ``upgrade()`` runs against an offline (``as_sql``)
MigrationContext; its SQL is framed by ``BEGIN;``/``COMMIT;`` as Alembic runs a
revision in a transaction, and ``autocommit_block()`` emits its own
``COMMIT;`` … ``BEGIN;`` — so the engine's transaction model sees exactly the
boundaries production will. While rendering, every write is tagged with the
line of the revision file that caused it (the ``op.*`` call), so findings
point at ``versions/xxxx.py:LINE``.

Suppressions in revisions are Python comments on or above the ``op.*`` line:
``# dbops: ignore[rule-id] reason``, ``# dbops: ignore-file[rule-id] reason``;
``phase = "contract"`` at module level marks a contract-phase revision.
"""

from __future__ import annotations

import bisect
import io
import sys
import tokenize as pytokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.errors import InputError
from dbops.findings import Finding, Report, Severity
from dbops.lint.context import Catalog, Context
from dbops.lint.engine import (
    UNANALYSED,
    Directives,
    Options,
    Suppression,
    check_statements,
    count_unanalysed,
    make_findings,
    parse_directive,
    prepare,
    read_directives,
)


class _Recorder(io.StringIO):
    """An output buffer that remembers which revision line produced each write."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.offsets: list[int] = []
        self.lines: list[int | None] = []

    def write(self, text: str) -> int:
        frame = sys._getframe(1)
        line = None
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                line = frame.f_lineno
                break
            frame = frame.f_back
        self.offsets.append(self.tell())
        self.lines.append(line)
        return super().write(text)

    def line_at(self, offset: int) -> int | None:
        pos = bisect.bisect_right(self.offsets, offset) - 1
        return self.lines[pos] if pos >= 0 else None


@dataclass
class Rendered:
    sql: str
    recorder: _Recorder
    error: tuple[str, int | None] | None = None  # (message, revision line)


def render_revision(module: Any, path: str) -> Rendered:
    """The SQL of one revision's ``upgrade()`` in offline mode, with transaction boundaries."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    recorder = _Recorder(path)
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": recorder, "literal_binds": True, "transactional_ddl": True},
    )
    error = None
    recorder.write("BEGIN;\n\n")
    try:
        with Operations.context(context):
            module.upgrade()
    except Exception as exc:  # e.g. op.get_bind() data migrations: not renderable offline
        line = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == path:
                line = tb.tb_lineno
            tb = tb.tb_next
        error = (f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}", line)
    recorder.write("COMMIT;\n\n")
    return Rendered(recorder.getvalue(), recorder, error)


@dataclass
class _PyDirectives:
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)
    file_level: list[Suppression] = field(default_factory=list)


def python_directives(source: str) -> _PyDirectives:
    """``# dbops: ignore[...]`` comments of a revision, keyed by the code line they apply to."""
    out = _PyDirectives()
    if "dbops:" not in source:
        return out
    pending: list[Suppression] = []
    try:
        tokens = list(pytokenize.generate_tokens(io.StringIO(source).readline))
    except (pytokenize.TokenError, SyntaxError):
        return out
    code_lines: set[int] = set()
    comments = []
    for tok in tokens:
        if tok.type == pytokenize.COMMENT:
            comments.append(tok)
        elif tok.type not in (pytokenize.NL, pytokenize.NEWLINE, pytokenize.INDENT, pytokenize.DEDENT,
                              pytokenize.ENDMARKER):
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
    for tok in comments:
        body = tok.string.lstrip("#")
        parsed = parse_directive(body)
        if parsed is None:
            continue
        kind, rules, reason = parsed
        sup = Suppression(rules, reason, tok.start[0], tok.start[1] + 1, kind == "ignore-file")
        if sup.file_level:
            out.file_level.append(sup)
            continue
        line = tok.start[0]
        if line not in code_lines:  # a comment line: applies to the next code line
            following = [n for n in code_lines if n > line]
            line = min(following) if following else line
        out.by_line.setdefault(line, []).append(sup)
        pending.append(sup)
    return out


def lint_revision(module: Any, path: Path, *, display: str, options: Options, catalog: Catalog,
                  report_findings: bool = True) -> tuple[list[Finding], int, int]:
    """Findings, statement count and unanalysed count of one revision."""
    rendered = render_revision(module, str(path))
    stmts, index, raws = prepare(rendered.sql, display)
    sql_directives = read_directives(rendered.sql, raws, index, options)
    source = path.read_text(encoding="utf-8", errors="replace")
    py = python_directives(source)
    op_line = [rendered.recorder.line_at(s.start) for s in stmts]

    directives = Directives(phase=sql_directives.phase, file_level=[*sql_directives.file_level, *py.file_level],
                            problems=sql_directives.problems)
    for number, _stmt in enumerate(stmts):
        sups = list(sql_directives.by_statement.get(number, ()))
        line = op_line[number]
        if line is not None:
            sups.extend(py.by_line.get(line, ()))
        if sups:
            directives.by_statement[number] = sups
    # Python suppressions that matched no statement still get checked for reasons/ids.
    matched = {id(s) for group in directives.by_statement.values() for s in group}
    leftovers = [s for group in py.by_line.values() for s in group if id(s) not in matched]
    directives.by_statement.setdefault(-1, []).extend(leftovers)

    phase = options.phase or getattr(module, "phase", None) or directives.phase
    ctx = Context(pg_version=options.pg_version, phase=phase, filename=display,
                  partitioned_tables=frozenset(options.partitioned_tables), catalog=catalog)
    violations = check_statements(stmts, ctx, assume_in_transaction=False)
    if not report_findings:
        return [], len(stmts), count_unanalysed(stmts)

    def locate(stmt: Any) -> tuple[int | None, int | None]:
        return (op_line[stmt.index] if 0 <= stmt.index < len(op_line) else None), None

    findings = make_findings(violations, stmts, directives, options, filename=display, locate=locate)
    if rendered.error is not None and options.unanalysed_severity != "off":
        message, line = rendered.error
        findings.append(Finding(
            rule=UNANALYSED, severity=Severity.parse(options.unanalysed_severity), file=display, line=line,
            message=f"the rest of this revision cannot be rendered offline ({message}); its statements were not "
            "analysed", fix="keep data migrations out of schema revisions, or check this one by hand",
            check="locks",
        ))
    return findings, len(stmts), count_unanalysed(stmts) + (1 if rendered.error else 0)


def _script_directory(settings: Any, schema: Any) -> Any:
    from alembic.script import ScriptDirectory

    from dbops.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(settings, schema))


def ordered_revisions(script: Any) -> list[Any]:
    """Revisions from base to heads."""
    try:
        return list(reversed(list(script.walk_revisions("base", "heads"))))
    except SyntaxError as exc:
        raise InputError(f"revision does not compile: {exc.msg}", location=f"{exc.filename}:{exc.lineno}",
                         hint="fix the Python syntax of the revision") from None
    except Exception as exc:
        raise InputError(f"cannot load the revisions: {exc}", hint="check the versions/ folder") from None


def lint_schema_revisions(settings: Any, schema: Any, options: Options, *, since: str | None = None,
                          revisions: Any = None) -> Report:
    """Lint the revisions of one schema (all, those after ``since``, or the given ids)."""
    script = _script_directory(settings, schema)
    ordered = ordered_revisions(script)
    selected: set[str] | None = None
    if revisions is not None:
        selected = set()
        for rev in revisions:
            found = script.get_revision(rev)
            if found is None:
                raise InputError(f"unknown revision {rev!r} in schema {schema.name}")
            selected.add(found.revision)
    elif since:
        try:
            base = script.get_revision(since)
        except Exception:
            base = None
        if base is None:
            raise InputError(f"unknown revision {since!r} in schema {schema.name}",
                             hint="give a revision id from `dbops status`")
        selected = {r.revision for r in script.iterate_revisions("heads", base.revision)} - {base.revision}
    catalog = Catalog()
    findings: list[Finding] = []
    statements = unanalysed = linted = 0
    for script_rev in ordered:
        path = Path(script_rev.path).resolve()
        try:
            display = str(path.relative_to(settings.root.resolve()))
        except ValueError:
            display = str(path)
        wanted = selected is None or script_rev.revision in selected
        found, count, missing = lint_revision(script_rev.module, path, display=display, options=options,
                                              catalog=catalog, report_findings=wanted)
        if wanted:
            findings.extend(found)
            statements += count
            unanalysed += missing
            linted += 1
    return Report(findings, {"revisions": linted, "statements": statements, "unanalysed": unanalysed})
