"""The linter core: split → facts → walk with context → rules → findings.

It knows no rule by name: rules come from the registry, each asks for the statement kinds (or
the ALTER TABLE action kinds) it reads. The walk models transactions: an explicit
``BEGIN``/``COMMIT`` (or ``assume_in_transaction``), a DO block (one implicit transaction), or a
statement on its own (autocommit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dbops.errors import InputError
from dbops.findings import Finding, Severity
from dbops.lint.context import Catalog, Context, JournalOp, Syntax
from dbops.lint.directives import SQUAWK_NEEDLE, Directives, Suppression, read_directives
from dbops.lint.facts import Kind, Stmt, analyse_raw
from dbops.lint.facts.model import ActionKind
from dbops.lint.fixes import render, suppression
from dbops.lint.options import Options
from dbops.lint.registry import RULES, Rule, Violation, load_rules, resolve_rule_id
from dbops.lint.sqltext import LineIndex, RawStatement, Scanned, UnterminatedError, scan, statements

UNANALYSED = "unanalysed"
INVALID_SUPPRESSION = "invalid-suppression"

Locate = Callable[[Stmt], int | None]
Found = tuple[Rule, Stmt, Violation]


@dataclass
class FileResult:
    """Findings of one migration plus its counts (and its catalog changes, for the cache)."""

    findings: list[Finding]
    statements: int = 0
    unanalysed: int = 0
    journal: list[JournalOp] = field(default_factory=list)


# --- dispatch -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dispatch:
    """Which rules run on a statement kind, and on an ALTER TABLE action kind (registration order)."""

    statements: dict[Kind, tuple[Rule, ...]]
    everywhere: tuple[Rule, ...]
    actions: dict[ActionKind, tuple[Rule, ...]]

    def for_statement(self, kind: Kind) -> tuple[Rule, ...]:
        return self.statements.get(kind, self.everywhere)

    def for_action(self, kind: ActionKind) -> tuple[Rule, ...]:
        return self.actions.get(kind, ())


@lru_cache(maxsize=1)
def dispatch() -> Dispatch:
    rules = list(load_rules().values())
    everywhere = tuple(r for r in rules if r.check is not None and not r.kinds)
    statements: dict[Kind, tuple[Rule, ...]] = {}
    for kind in Kind:
        own = tuple(r for r in rules if r.check is not None and kind in r.kinds)
        statements[kind] = own + everywhere
    actions = {kind: tuple(r for r in rules if r.action_check is not None and kind in r.actions)
               for kind in ActionKind}
    return Dispatch(statements, everywhere, actions)


# --- walking ---------------------------------------------------------------------------------

Visit = Callable[[Stmt, Context], None]


_parse_severity = lru_cache(maxsize=None)(Severity.parse)
_UNSET = object()


def _severity(rule: Rule, options: Options) -> Severity | None:
    return options.derived(("severity", rule.id), lambda: _severity_of(rule.id, rule.severity, options))


def _severity_of(rule_id: str, default: Severity, options: Options) -> Severity | None:
    value = dict(options.severity).get(rule_id)
    if value == "off" or rule_id in options.ignore:
        return None
    return _parse_severity(value) if value else default


def excerpt(text: str, limit: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


@dataclass
class _Findings:
    """Builds the findings of one file (location, excerpt, aliases, fix in the file's syntax)."""

    filename: str
    syntax: Syntax
    locate: Locate
    out: list[Finding] = field(default_factory=list)

    def add(self, rule: Rule, stmt: Stmt, message: str, fix: Any, severity: Severity, details: dict) -> None:
        self.out.append(Finding(
            rule=rule.id, severity=severity, message=message, file=self.filename, line=self.locate(stmt),
            column=stmt.column if self.syntax == "sql" else None, fix=render(fix, self.syntax),
            aliases=rule.alias_names(), excerpt=excerpt(stmt.text), check="locks", details=details,
        ))

    def at(self, rule_id: str, severity: Severity, message: str, line: int | None, column: int | None) -> None:
        self.out.append(Finding(rule=rule_id, severity=severity, message=message, file=self.filename, line=line,
                                column=column, check="locks"))


def _line(stmt: Stmt) -> int | None:
    return stmt.line


class Linter:
    """Statements in, one at a time, through the transaction model and the rules; findings out.

    ``feed`` each statement in order (numbered by ``Stmt.index``), then ``finish``. Only the
    current transaction's state is kept: memory does not grow with the number of statements.
    With ``rules=False`` only the context is updated (an earlier revision read for its history).
    """

    def __init__(self, ctx: Context, options: Options, directives: Directives, *, assume_in_transaction: bool,
                 locate: Locate | None = None, rules: bool = True) -> None:
        self.ctx = ctx
        self.options = options
        self.directives = directives
        self.findings = _Findings(ctx.filename, ctx.syntax, locate or _line)
        self.dispatch = dispatch()
        self.statements = self.unanalysed = 0
        self.severities: dict[str, Any] = options.derived("severities", dict)  # shared by the run's files
        self.visit: Visit | None = self._visit if rules else None
        self.report_unanalysed = rules and _unanalysed_severity(options) is not None
        if assume_in_transaction:
            ctx.begin("explicit")

    def feed(self, stmt: Stmt) -> None:
        """One statement, through the transaction model; the rules see it before its effects are recorded."""
        self.statements += 1
        ctx, kind, visit = self.ctx, stmt.kind, self.visit
        if kind is Kind.BEGIN:
            self._end_transaction()
            ctx.begin("explicit")
            if visit is not None:
                visit(stmt, ctx)
        elif kind is Kind.COMMIT or kind is Kind.ROLLBACK:
            if visit is not None:
                visit(stmt, ctx)
            self._end_transaction()
        else:
            self._run(stmt, kind)
        if stmt.unanalysed:
            self.unanalysed += 1
            if self.report_unanalysed:
                self._unanalysed(stmt)

    def _run(self, stmt: Stmt, kind: Kind) -> None:
        """A statement or a DO block, in a transaction of its own (autocommit, the block) when none is open."""
        ctx, visit = self.ctx, self.visit
        own = ctx.tx is None
        if own:
            ctx.begin("do" if kind is Kind.DO else "single")
        if visit is not None:
            visit(stmt, ctx)
        for inner in stmt.inner:
            if visit is not None:
                visit(inner, ctx)
            ctx.apply(inner)
        if kind is not Kind.DO:
            ctx.apply(stmt)
        if own:
            self._end_transaction()

    def finish(self) -> list[Finding]:
        """Close the open transaction; the findings, with the suppressions' own problems."""
        self._end_transaction()
        if self.visit is not None:
            _suppression_problems(self.findings, self.directives, self.options)
        return self.findings.out

    def _end_transaction(self) -> None:
        tx = self.ctx.tx
        if tx is None:
            return
        for rule, stmt, violation in tx.deferred:
            if violation.when is not None and violation.when(tx):
                self._report(rule, violation.stmt or stmt, violation)
        self.ctx.end()

    def suppressed(self, rule_id: str, stmt: Stmt) -> bool:
        """Is ``rule_id`` suppressed on ``stmt`` (by the file or the statement)? Marks the suppression used."""
        directives = self.directives
        if not (directives.file_level or directives.by_statement):
            return False
        rule = RULES.get(rule_id)
        for sup in (*directives.file_level, *directives.by_statement.get(stmt.index, ())):
            if any(r == rule_id or (rule is not None and rule.meta.matches(r)) for r in sup.rules):
                sup.used = True
                return True
        return False

    def _visit(self, stmt: Stmt, ctx: Context) -> None:
        if stmt.kind is Kind.UNKNOWN:
            return
        for rule in self.dispatch.statements[stmt.kind]:  # every Kind has an entry (see ``dispatch``)
            for violation in rule.check(stmt, ctx) or ():  # type: ignore[misc]  # rules in it have a check
                self._found(rule, stmt, violation)
        if stmt.actions:
            self._visit_actions(stmt, ctx)

    def _visit_actions(self, stmt: Stmt, ctx: Context) -> None:
        """Call each action rule once per ALTER TABLE action it reads (existing tables unless it asks)."""
        existing = ctx.existing(stmt.table)
        actions = self.dispatch.actions
        for action in stmt.actions:
            for rule in actions[action.kind]:  # every ActionKind has an entry
                if existing or rule.new_tables:
                    for violation in rule.action_check(stmt, action, ctx) or ():  # type: ignore[misc]
                        self._found(rule, stmt, violation)

    def _found(self, rule: Rule, stmt: Stmt, violation: Violation) -> None:
        """Report now, or — a violation that depends on the rest of the transaction — when it ends."""
        tx = self.ctx.tx
        if violation.when is not None and tx is not None and not violation.when(tx):
            tx.deferred.append((rule, stmt, violation))
            return
        self._report(rule, violation.stmt or stmt, violation)

    def _report(self, rule: Rule, stmt: Stmt, violation: Violation) -> None:
        severity = self.severities.get(rule.id, _UNSET)
        if severity is _UNSET:
            severity = self.severities[rule.id] = _severity(rule, self.options)
        if severity is not None and not self.suppressed(rule.id, stmt):
            self.findings.add(rule, stmt, violation.message, violation.fix, severity, violation.details)

    def _unanalysed(self, stmt: Stmt) -> None:
        rule = RULES.get(UNANALYSED)
        severity = _unanalysed_severity(self.options)
        if rule is None or severity is None or self.suppressed(UNANALYSED, stmt):
            return
        syntax = self.findings.syntax
        fix = ("check its locks by hand, then say why it is safe: "
               + suppression(UNANALYSED, syntax, "<the locks it takes, and why that is fine>"))
        self.findings.add(rule, stmt, f"not analysed: {stmt.unanalysed}", fix, severity,
                          {"reason": stmt.unanalysed})


def _unanalysed_severity(options: Options) -> Severity | None:
    return options.derived("unanalysed", lambda: _unanalysed_severity_of(options))


def _unanalysed_severity_of(options: Options) -> Severity | None:
    load_rules()  # the engine rules (unanalysed, invalid-suppression) even for a file without statements
    if options.unanalysed_severity == "off" or UNANALYSED in options.ignore:
        return None
    return _parse_severity(options.unanalysed_severity)


def _suppression_problems(builder: _Findings, directives: Directives, options: Options) -> None:
    invalid = RULES.get(INVALID_SUPPRESSION)
    severity = _severity(invalid, options) if invalid else None
    if severity is None:
        return
    for sup in directives.all():
        problem = _problem(sup, builder.syntax)
        if problem:
            builder.at(INVALID_SUPPRESSION, severity, problem, sup.line, sup.column)
    for line, column, message in directives.problems:
        builder.at(INVALID_SUPPRESSION, severity, message, line, column)


def _problem(sup: Suppression, syntax: Syntax) -> str | None:
    if sup.foreign:
        return None
    example = suppression("require-concurrent-index", syntax, "why")
    if not sup.rules:
        return f"suppression without a rule id: name the rule, e.g. `{example}`"
    unknown = [r for r in sup.rules if resolve_rule_id(r) is None]
    if unknown:
        return f"suppression names unknown rule(s) {', '.join(unknown)} (see `dbops rules`)"
    if not sup.reason:
        return f"suppression of {', '.join(sup.rules)} without a reason: say why it is safe"
    return None


# --- one SQL text -------------------------------------------------------------------------------


def scan_or_fail(text: str, filename: str, needles: tuple[str, ...]) -> Scanned:
    """The statement spans of ``text``; an unterminated quote/comment is an InputError at its line (exit 2)."""
    try:
        return scan(text, needles)
    except UnterminatedError as exc:
        line = LineIndex(text).line(exc.offset)
        raise InputError(f"cannot read SQL: {exc.what}", location=f"{filename}:{line}",
                         hint="fix the SQL (an unterminated quote, dollar quote or comment?)") from None


def analyse_statements(raws: list[RawStatement], index: LineIndex, text: str) -> Iterator[Stmt]:
    """The facts of each statement, numbered; each statement's tokens are released once analysed."""
    for number, raw in enumerate(raws):
        stmt = analyse_raw(raw, index, text)
        stmt.index = number
        for inner in stmt.inner:
            inner.index = number
        raw.tokens = []
        raw.source = ""
        yield stmt


def prepare(text: str, filename: str) -> tuple[list[Stmt], LineIndex, list[RawStatement]]:
    """Split and analyse a SQL text: (statements, line index, raw statements)."""
    stmts, index, raws, _scanned = prepare_scanned(text, filename)
    return stmts, index, raws


def prepare_scanned(text: str, filename: str, needles: tuple[str, ...] = ("dbops:",)
                    ) -> tuple[list[Stmt], LineIndex, list[RawStatement], Scanned]:
    """``prepare``, plus the scan with the comments that hold one of ``needles``."""
    scanned = scan_or_fail(text, filename, needles)
    index = LineIndex(text)
    raws = list(statements(text, scanned, index=index))
    stmts = list(analyse_statements(raws, index, text))
    return stmts, index, raws, scanned


def lint_text(text: str, *, filename: str, options: Options, catalog: Catalog | None = None,
              syntax: Syntax = "sql") -> FileResult:
    """Lint one SQL migration (a file, stdin), reading its statements one at a time."""
    markers = tuple(options.no_transaction_markers)
    scanned = scan_or_fail(text, filename, ("dbops:", SQUAWK_NEEDLE, *markers))
    index = LineIndex(text)
    directives = read_directives(scanned.comments, index, markers)
    catalog = catalog if catalog is not None else Catalog()
    journal: list[JournalOp] = []
    catalog.journal = journal
    ctx = new_context(options, filename=filename, phase=options.phase or directives.phase, catalog=catalog,
                      syntax=syntax)
    linter = Linter(ctx, options, directives,
                    assume_in_transaction=options.assume_in_transaction and not directives.no_transaction)
    try:
        pending = bool(directives.pending)
        for number, raw in enumerate(statements(text, scanned, index=index)):
            if pending:
                directives.attach(number, raw)
            stmt = analyse_raw(raw, index, text)
            stmt.index = number
            for inner in stmt.inner:
                inner.index = number
            linter.feed(stmt)
        findings = linter.finish()
    finally:
        catalog.journal = None
    return FileResult(findings, linter.statements, linter.unanalysed, journal)


def new_context(options: Options, *, filename: str, phase: str | None, catalog: Catalog, syntax: Syntax = "sql",
                locate: Locate | None = None) -> Context:
    """The context one migration starts from."""
    partitioned, bookkeeping = options.derived("tables", lambda: _table_sets(options))
    return Context(pg_version=options.pg_version, phase=phase, filename=filename, syntax=syntax,
                   partitioned_tables=partitioned, bookkeeping_tables=bookkeeping, catalog=catalog,
                   locate=locate or _line)


def _table_sets(options: Options) -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(options.partitioned_tables), frozenset(options.bookkeeping_tables)


def count_unanalysed(stmts: Iterable[Stmt]) -> int:
    return sum(1 for s in stmts if s.unanalysed)
