"""Alembic revisions as lint input: each revision's SQL, already rendered, as plain data.

The lint does not run Alembic: ``dbops.revisions`` renders each revision's
``upgrade()`` offline (``BEGIN;`` … ``COMMIT;`` framing, ``autocommit_block()``
boundaries, the revision-file line of each ``op.*`` call) and
``dbops.workflows`` hands the result here. What this module needs of a
revision is the :class:`~dbops.lint.inputs.RevisionInput` protocol.

Suppressions in revisions are Python comments on or above the ``op.*`` line:
``# dbops: ignore[rule-id] reason``, ``# dbops: ignore-file[rule-id] reason``;
``phase = "contract"`` at module level marks a contract-phase revision.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

from dbops.findings import Finding, Report, Severity
from dbops.lint.context import Catalog
from dbops.lint.directives import SQUAWK_NEEDLE, Directives, Suppression, attach_all, parse_directive, read_directives
from dbops.lint.engine import UNANALYSED, Linter, count_unanalysed, new_context, prepare_scanned
from dbops.lint.facts import Stmt
from dbops.lint.fixes import suppression
from dbops.lint.inputs import RevisionInput
from dbops.lint.options import Options


class _PyDirectives:
    """The revision's comment directives, keyed by the code line they apply to."""

    def __init__(self, comments: Sequence[tuple[int, int, str, int]]) -> None:
        self.by_line: dict[int, list[Suppression]] = {}
        self.file_level: list[Suppression] = []
        for line, column, body, target in comments:
            parsed = parse_directive(body)
            if parsed is None:
                continue
            kind, rules, reason = parsed
            suppression = Suppression(rules, reason, line, column, kind == "ignore-file")
            if suppression.file_level:
                self.file_level.append(suppression)
            else:
                self.by_line.setdefault(target, []).append(suppression)


def lint_revision(revision: RevisionInput, *, options: Options, catalog: Catalog,
                  report_findings: bool = True) -> tuple[list[Finding], int, int]:
    """Findings, statement count and unanalysed count of one rendered revision.

    ``catalog`` carries the column types learned from earlier revisions; with
    ``report_findings`` False the revision only feeds it.
    """
    display = revision.file
    markers = tuple(options.no_transaction_markers)
    stmts, index, raws, scanned = prepare_scanned(revision.sql, display, ("dbops:", SQUAWK_NEEDLE, *markers))
    sql_directives = read_directives(scanned.comments, index, markers)
    attach_all(sql_directives, raws)
    py = _PyDirectives(revision.comments)
    op_line = [revision.line_at(s.start) for s in stmts]

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

    def locate(stmt: Stmt) -> int | None:
        """The revision line of the ``op.*`` call that emitted the statement."""
        return op_line[stmt.index] if 0 <= stmt.index < len(op_line) else None

    phase = options.phase or revision.phase or directives.phase
    ctx = new_context(options, filename=display, phase=phase, catalog=catalog, syntax="alembic", locate=locate)
    linter = Linter(ctx, options, directives, assume_in_transaction=False, locate=locate, rules=report_findings)
    for stmt in stmts:
        linter.feed(stmt)
    findings = linter.finish()
    if not report_findings:
        return [], len(stmts), count_unanalysed(stmts)
    if revision.render_error is not None and options.unanalysed_severity != "off":
        message, line = revision.render_error
        findings.append(Finding(
            rule=UNANALYSED, severity=Severity.parse(options.unanalysed_severity), file=display, line=line,
            message=f"the rest of this revision cannot be rendered offline ({message}); its statements were not "
            "analysed", fix="keep data migrations out of schema revisions, or check this one by hand and say so: "
            + suppression(UNANALYSED, "alembic", "<what it does, and why its locks are fine>"),
            check="locks",
        ))
    return findings, len(stmts), count_unanalysed(stmts) + (1 if revision.render_error else 0)


def lint_revision_history(revisions: Iterable[RevisionInput], options: Options, *,
                          report: Container[str] | None = None) -> Report:
    """Lint a schema's revisions given base to heads; findings only for those in ``report`` (None: all).

    Every revision is analysed, so column types carry from earlier revisions to later ones.
    """
    catalog = Catalog()
    findings: list[Finding] = []
    statements = unanalysed = linted = 0
    for revision in revisions:
        wanted = report is None or revision.revision in report
        found, count, missing = lint_revision(revision, options=options, catalog=catalog, report_findings=wanted)
        if wanted:
            findings.extend(found)
            statements += count
            unanalysed += missing
            linted += 1
    return Report(findings, {"revisions": linted, "statements": statements, "unanalysed": unanalysed})
