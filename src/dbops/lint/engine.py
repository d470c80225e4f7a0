"""The linter core: split → facts → walk with context → rules → findings.

It knows no rule by name: rules come from the registry, each asks for the
statement kinds it reads. The walk models transactions: an explicit
``BEGIN``/``COMMIT`` (or ``assume_in_transaction``), a DO block (one implicit
transaction), or a statement on its own (autocommit).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dbops.errors import InputError
from dbops.findings import Finding, Severity
from dbops.lint.context import Catalog, Context
from dbops.lint.facts import Stmt, analyse
from dbops.lint.options import DEFAULT_NO_TRANSACTION_MARKERS, Options  # noqa: F401 (re-exported; light module)
from dbops.lint.registry import RULES, Rule, Violation, load_rules, resolve_rule_id
from dbops.lint.sqltext import LineIndex, UnterminatedError, scan_comments, split, tokenize

UNANALYSED = "unanalysed"
INVALID_SUPPRESSION = "invalid-suppression"

_DIRECTIVE = re.compile(r"^\s*dbops:\s*(ignore-file|ignore)\s*(?:\[([^\]]*)\])?\s*(.*?)\s*$", re.S)
_PHASE = re.compile(r"^\s*dbops:\s*phase\s*=\s*([A-Za-z_-]+)")


@dataclass
class Suppression:
    rules: tuple[str, ...]
    reason: str
    line: int
    column: int
    file_level: bool
    used: bool = False


@dataclass
class Directives:
    """What the comments of a migration say: suppressions, phase, no transaction."""

    by_statement: dict[int, list[Suppression]] = field(default_factory=dict)
    file_level: list[Suppression] = field(default_factory=list)
    phase: str | None = None
    no_transaction: bool = False
    problems: list[tuple[int, int, str]] = field(default_factory=list)  # (line, column, message)


@dataclass
class FileResult:
    """Findings of one migration plus its counts (and its catalog changes, for the cache)."""

    findings: list[Finding]
    statements: int = 0
    unanalysed: int = 0
    journal: list[tuple] = field(default_factory=list)


# --- directives ---------------------------------------------------------------------------------


def parse_directive(body: str) -> tuple[str, tuple[str, ...], str] | None:
    """``ignore[rule-a, rule-b] reason`` → (kind, rules, reason).

    >>> parse_directive(" dbops: ignore[require-concurrent-index] small table")
    ('ignore', ('require-concurrent-index',), 'small table')
    """
    match = _DIRECTIVE.match(body)
    if not match:
        return None
    rules = tuple(r.strip() for r in (match.group(2) or "").split(",") if r.strip())
    return match.group(1), rules, match.group(3).strip().strip("-—:").strip()


def read_directives(text: str, statements: list[Any], index: LineIndex, options: Options) -> Directives:
    """Find the ``dbops:`` comments and the no-transaction markers of a SQL text."""
    directives = Directives()
    has_dbops = "dbops:" in text
    markers = [m for m in options.no_transaction_markers if m in text]
    if not has_dbops and not markers:
        return directives
    starts = [s.region_start for s in statements]
    import bisect

    for comment in scan_comments(text):
        body = comment.body
        if markers and any(m in body for m in markers):
            directives.no_transaction = True
        if "dbops:" not in body:
            continue
        line, column = index.position(comment.start)
        phase = _PHASE.match(body)
        if phase:
            directives.phase = phase.group(1).lower()
            continue
        parsed = parse_directive(body)
        if parsed is None:
            if re.match(r"^\s*dbops:\s*(ignore|ignore-file)\b", body):
                directives.problems.append((line, column, "malformed suppression: use `dbops: ignore[rule-id] reason`"))
            continue
        kind, rules, reason = parsed
        sup = Suppression(rules, reason, line, column, kind == "ignore-file")
        if sup.file_level:
            directives.file_level.append(sup)
            continue
        pos = bisect.bisect_right(starts, comment.start) - 1
        if pos >= 0 and comment.start <= statements[pos].stop_line_end:
            directives.by_statement.setdefault(pos, []).append(sup)
    return directives


# --- walking ------------------------------------------------------------------------------------


_DML = ("update", "delete")


def _dispatch_table() -> dict[str, list[Rule]]:
    """Statement kind → the rules to run on it (rules without kinds run on every statement)."""
    table: dict[str, list[Rule]] = {}
    rules = [r for r in load_rules().values() if r.check is not None]
    generic = [r for r in rules if not r.kinds]
    for rule in rules:
        for kind in rule.kinds:
            table.setdefault(kind, []).append(rule)
    for kind in table:
        table[kind].extend(generic)
    table["*"] = generic
    return table


_DISPATCH: dict[str, list[Rule]] | None = None
_BY_SHAPE: dict[Any, tuple[Rule, ...]] = {}


def dispatch() -> dict[str, list[Rule]]:
    global _DISPATCH
    if _DISPATCH is None:
        _DISPATCH = _dispatch_table()
        _BY_SHAPE.clear()
    return _DISPATCH


def rules_for(stmt: Stmt) -> tuple[Rule, ...]:
    """The rules to run on ``stmt``, cached by its shape (kind and ALTER TABLE action kinds).

    A rule that names the ``actions`` it reads is skipped for an ALTER TABLE none of whose
    actions is one of them (it could not report anything there); order is registration order.
    """
    actions = stmt.actions
    shape = (stmt.kind, *[a.kind for a in actions]) if actions else stmt.kind
    found = _BY_SHAPE.get(shape)
    if found is None:
        table = dispatch()
        candidates = table.get(stmt.kind, table["*"])
        kinds = {a.kind for a in actions}
        found = _BY_SHAPE[shape] = tuple(
            r for r in candidates if not (kinds and r.actions) or not kinds.isdisjoint(r.actions)
        )
    return found


def walk(stmts: list[Stmt], ctx: Context, visit: Callable[[Stmt, Context], None] | None, *,
         assume_in_transaction: bool, on_end: Callable[[Any], None] | None = None) -> None:
    """Run statements through the transaction model, calling ``visit`` before each one's effects."""

    def finish() -> None:
        if ctx.tx is not None:
            if on_end is not None:
                on_end(ctx.tx)
            ctx.end()

    def run(stmt: Stmt) -> None:
        if visit is not None:
            visit(stmt, ctx)
        ctx.apply(stmt)

    if assume_in_transaction:
        ctx.begin("explicit")
    for stmt in stmts:
        kind = stmt.kind
        if kind == "begin":
            finish()
            ctx.begin("explicit")
            if visit is not None:
                visit(stmt, ctx)
        elif kind in ("commit", "rollback"):
            if visit is not None:
                visit(stmt, ctx)
            finish()
        elif kind == "do":
            own = ctx.tx is None
            if own:
                ctx.begin("do")
            if visit is not None:
                visit(stmt, ctx)
            for inner in stmt.inner:
                run(inner)
            if own:
                finish()
        else:
            own = ctx.tx is None
            if own:
                ctx.begin("single")
            run(stmt)
            if own:
                finish()
    finish()


def check_statements(stmts: list[Stmt], ctx: Context, *, assume_in_transaction: bool) -> list[tuple[Rule, Stmt, Violation]]:
    """Run every rule over the statements of one migration; returns raw violations."""
    # First pass (only when a backfill could be involved): which transactions take a write-blocking
    # lock on an existing table, for rules that need to know what comes later in the transaction.
    if any(s.kind in _DML or any(i.kind in _DML for i in s.inner) for s in stmts):
        probe = Context(pg_version=ctx.pg_version, phase=ctx.phase, catalog=Catalog(),
                        created_tables=set(ctx.created_tables), partitioned_tables=ctx.partitioned_tables)
        ddl: set[int] = set()
        walk(stmts, probe, None, assume_in_transaction=assume_in_transaction,
             on_end=lambda tx: ddl.add(tx.id) if tx.ddl else None)
        ctx.ddl_transactions = ddl

    out: list[tuple[Rule, Stmt, Violation]] = []

    def visit(stmt: Stmt, context: Context) -> None:
        if stmt.kind == "unknown":
            return
        for rule in rules_for(stmt):
            for violation in rule.check(stmt, context) or ():
                out.append((rule, violation.stmt or stmt, violation))

    walk(stmts, ctx, visit, assume_in_transaction=assume_in_transaction)
    return out


# --- findings -----------------------------------------------------------------------------------


def _severity(rule: Rule, options: Options) -> Severity | None:
    overrides = dict(options.severity)
    value = overrides.get(rule.id)
    if value == "off" or rule.id in options.ignore:
        return None
    return _parse_severity(value) if value else rule.severity


_parse_severity = lru_cache(maxsize=None)(Severity.parse)


def _line_column(stmt: Stmt) -> tuple[int | None, int | None]:
    return stmt.line, stmt.column


def excerpt(text: str, limit: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def make_findings(
    violations: list[tuple[Rule, Stmt, Violation]],
    stmts: list[Stmt],
    directives: Directives,
    options: Options,
    *,
    filename: str,
    locate: Callable[[Stmt], tuple[int | None, int | None]] | None = None,
) -> list[Finding]:
    """Violations (and unanalysed statements) → findings, minus suppressed ones."""
    load_rules()  # the engine rules (unanalysed, invalid-suppression) even for a file without statements
    findings: list[Finding] = []
    locate = locate or _line_column
    any_suppression = bool(directives.file_level or directives.by_statement)
    severities: dict[str, Severity | None] = {}

    def suppressed(rule_id: str, stmt: Stmt) -> bool:
        if not any_suppression:
            return False
        for sup in (*directives.file_level, *directives.by_statement.get(stmt.index, ())):
            if any(resolve_rule_id(r) == rule_id or r == rule_id for r in sup.rules):
                sup.used = True
                return True
        return False

    def add(rule: Rule, stmt: Stmt, message: str, fix: str | None, severity: Severity, details: dict) -> None:
        line, column = locate(stmt)
        findings.append(Finding(
            rule=rule.id, severity=severity, message=message, file=filename, line=line, column=column,
            fix=fix, aliases=rule.alias_names(), excerpt=excerpt(stmt.text), check="locks", details=details,
        ))

    for rule, stmt, violation in violations:
        if rule.id in severities:
            severity = severities[rule.id]
        else:
            severity = severities[rule.id] = _severity(rule, options)
        if severity is None or suppressed(rule.id, stmt):
            continue
        add(rule, stmt, violation.message, violation.fix, severity, violation.details)

    unanalysed_rule = RULES.get(UNANALYSED)
    if options.unanalysed_severity != "off" and unanalysed_rule is not None and UNANALYSED not in options.ignore:
        severity = _parse_severity(options.unanalysed_severity)
        for stmt in stmts:
            if stmt.unanalysed and not suppressed(UNANALYSED, stmt):
                add(unanalysed_rule, stmt, f"not analysed: {stmt.unanalysed}",
                    "check its locks by hand, or rewrite it in a form dbops understands", severity,
                    {"reason": stmt.unanalysed})

    invalid = RULES.get(INVALID_SUPPRESSION)
    severity = _severity(invalid, options) if invalid else None
    if severity is not None:
        all_sups = [*directives.file_level, *(s for group in directives.by_statement.values() for s in group)]
        for sup in all_sups:
            problem = None
            if not sup.rules:
                problem = "suppression without a rule id: name the rule, e.g. `dbops: ignore[require-concurrent-index] why`"
            elif unknown := [r for r in sup.rules if resolve_rule_id(r) is None]:
                problem = f"suppression names unknown rule(s) {', '.join(unknown)} (see `dbops rules`)"
            elif not sup.reason:
                problem = f"suppression of {', '.join(sup.rules)} without a reason: say why it is safe"
            if problem:
                findings.append(Finding(rule=INVALID_SUPPRESSION, severity=severity, message=problem, file=filename,
                                        line=sup.line, column=sup.column, check="locks"))
        for line, column, message in directives.problems:
            findings.append(Finding(rule=INVALID_SUPPRESSION, severity=severity, message=message, file=filename,
                                    line=line, column=column, check="locks"))
    return findings


# --- one SQL text -------------------------------------------------------------------------------


def tokenize_or_fail(text: str, filename: str) -> list[Any]:
    """Tokens of ``text``; malformed text is an InputError with file:line (exit 2)."""
    try:
        return tokenize(text)
    except Exception as exc:
        line = None
        what = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        try:
            scan_comments(text)
        except UnterminatedError as unterminated:
            line = LineIndex(text).line(unterminated.offset)
            what = unterminated.what
        location = f"{filename}:{line}" if line else filename
        raise InputError(f"cannot read SQL: {what}", location=location,
                         hint="fix the SQL (an unterminated quote, dollar quote or comment?)") from None


def prepare(text: str, filename: str) -> tuple[list[Stmt], LineIndex, list[Any]]:
    """Tokenize, split and analyse a SQL text."""
    tokens = tokenize_or_fail(text, filename)
    index = LineIndex(text)
    raws = split(text, tokens, index=index)
    stmts = []
    for number, raw in enumerate(raws):
        stmt = analyse(raw, text, index=index)
        stmt.index = number
        for inner in stmt.inner:
            inner.index = number
        stmts.append(stmt)
    return stmts, index, raws


def lint_text(text: str, *, filename: str, options: Options, catalog: Catalog | None = None) -> FileResult:
    """Lint one SQL migration (a file, stdin, a rendered revision)."""
    stmts, index, raws = prepare(text, filename)
    directives = read_directives(text, raws, index, options)
    catalog = catalog if catalog is not None else Catalog()
    journal: list[tuple] = []
    catalog.journal = journal
    ctx = Context(pg_version=options.pg_version, phase=options.phase or directives.phase, filename=filename,
                  partitioned_tables=frozenset(options.partitioned_tables), catalog=catalog)
    assume = options.assume_in_transaction and not directives.no_transaction
    try:
        violations = check_statements(stmts, ctx, assume_in_transaction=assume)
    finally:
        catalog.journal = None
    findings = make_findings(violations, stmts, directives, options, filename=filename)
    return FileResult(findings, len(stmts), count_unanalysed(stmts), journal)


def count_unanalysed(stmts: Iterable[Stmt]) -> int:
    return sum(1 for s in stmts if s.unanalysed)
