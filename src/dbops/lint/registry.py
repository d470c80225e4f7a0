"""The rule registry: one module per rule under ``dbops.lint.rules``.

A rule module holds a docstring in fixed sections (*What it does*, *Why is this bad?*,
*Example*, *Use instead*) — ``dbops rules ID`` prints it — and its check, registered with one
of two decorators:

* ``@rule(id, kinds=(Kind.CREATE_INDEX, …))`` — called once per statement of those kinds
  (every statement when ``kinds`` is empty) as ``check(stmt, ctx)``;
* ``@action_rule(id, actions=(ActionKind.ADD_COLUMN, …))`` — called once per ALTER TABLE action
  of those kinds as ``check(stmt, action, ctx)``, only on tables that existed before the
  migration unless ``new_tables=True``.

Both yield ``Violation``s. Kinds are checked when the rule registers: a typo fails at import.
A module may register both forms under one id (the second registration adds its check).
The engine knows no rule by name.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from dbops.findings import Severity
from dbops.findings.catalog import RuleMeta, first_line
from dbops.lint.facts.model import ActionKind, Kind

if TYPE_CHECKING:
    from dbops.lint.context import Context, Transaction
    from dbops.lint.facts.model import Action, Stmt
    from dbops.lint.fixes import Fix


@dataclass(slots=True)
class Violation:
    """What a rule reports: a message, the safe alternative, optional details.

    ``fix`` is a ``dbops.lint.fixes.Fix`` (written in the file's syntax) or plain text. ``stmt``
    points the finding at another statement than the one checked (rarely needed). ``when``
    makes the violation depend on the rest of its transaction: it is reported when ``when(tx)``
    holds — now, or else at the end of the transaction (e.g. "the transaction also takes a
    write-blocking lock", which a later statement may do).
    """

    message: str
    fix: Fix | str | None = None
    stmt: Stmt | None = None
    details: dict[str, Any] = field(default_factory=dict)
    when: Callable[[Transaction], bool] | None = None


class StatementCheck(Protocol):
    def __call__(self, stmt: Stmt, ctx: Context, /) -> Iterable[Violation] | None: ...


class ActionCheck(Protocol):
    def __call__(self, stmt: Stmt, action: Action, ctx: Context, /) -> Iterable[Violation] | None: ...


@dataclass(frozen=True)
class Rule:
    """A registered rule: its catalog entry and its checks.

    ``check`` runs on statements of ``kinds`` (all when empty); ``action_check`` on ALTER TABLE
    actions of ``actions`` (on existing tables only unless ``new_tables``). Engine rules
    (``unanalysed``, ``invalid-suppression``) have neither.
    """

    meta: RuleMeta
    module: str
    id: str = ""  # meta.id, as a field: read for every finding
    kinds: frozenset[Kind] = frozenset()
    check: StatementCheck | None = None
    actions: frozenset[ActionKind] = frozenset()
    action_check: ActionCheck | None = None
    new_tables: bool = False

    @property
    def severity(self) -> Severity:
        return self.meta.severity

    @property
    def summary(self) -> str:
        return self.meta.title

    @property
    def doc(self) -> str:
        return self.meta.documentation

    def alias_names(self) -> tuple[str, ...]:
        """``squawk:name`` / ``strong_migrations:name`` strings for findings."""
        return self.meta.aliases


RULES: dict[str, Rule] = {}

F = TypeVar("F", bound=Callable[..., Any])


def _meta(id: str, module: str, severity: Severity, squawk: tuple[str, ...], strong_migrations: tuple[str, ...],
          fix: str | None) -> RuleMeta:
    doc = (sys.modules[module].__doc__ or "").strip()
    title, _, body = doc.partition("\n")
    aliases = tuple(f"squawk:{n}" for n in squawk) + tuple(f"strong_migrations:{n}" for n in strong_migrations)
    return RuleMeta(id, first_line(title) or id, severity, body.strip(), check="locks", aliases=aliases, fix=fix)


def _kinds(id: str, kinds: Iterable[Kind | str]) -> frozenset[Kind]:
    try:
        return frozenset(Kind(k) for k in kinds)
    except ValueError as exc:
        raise ValueError(f"rule {id}: {exc}; statement kinds are {', '.join(k.value for k in Kind)}") from None


def _actions(id: str, actions: Iterable[ActionKind | str]) -> frozenset[ActionKind]:
    try:
        found = frozenset(ActionKind(a) for a in actions)
    except ValueError as exc:
        raise ValueError(f"rule {id}: {exc}; action kinds are {', '.join(a.value for a in ActionKind)}") from None
    if not found:
        raise ValueError(f"rule {id}: an action rule names the ALTER TABLE actions it reads")
    return found


def _register(id: str, module: str, meta: RuleMeta | None, **checks: Any) -> None:
    """Add a rule, or add a check to the rule its module registered already under ``id``."""
    existing = RULES.get(id)
    if existing is None:
        assert meta is not None
        RULES[id] = Rule(meta, module, meta.id, **checks)
        return
    if existing.module != module:
        raise ValueError(f"rule {id} is registered by {existing.module} and {module}")
    clash = [name for name, value in checks.items() if getattr(existing, name) not in (None, frozenset(), False)
             and value not in (None, frozenset(), False)]
    if clash:
        raise ValueError(f"rule {id}: {', '.join(clash)} registered twice")
    RULES[id] = replace(existing, **{k: v for k, v in checks.items() if v not in (None, frozenset(), False)})


def rule(
    id: str,
    *,
    severity: Severity = Severity.ERROR,
    squawk: tuple[str, ...] = (),
    strong_migrations: tuple[str, ...] = (),
    kinds: tuple[Kind | str, ...] = (),
    fix: str | None = None,
) -> Callable[[F], F]:
    """Register the decorated ``check(stmt, ctx)`` as rule ``id`` (documentation: its module's docstring).

    ``kinds``: the statement kinds it reads (default: every statement).
    """
    checked = _kinds(id, kinds)

    def decorate(func: F) -> F:
        meta = None if id in RULES else _meta(id, func.__module__, severity, squawk, strong_migrations, fix)
        _register(id, func.__module__, meta, kinds=checked, check=func)
        return func

    return decorate


def action_rule(
    id: str,
    *,
    actions: tuple[ActionKind | str, ...],
    severity: Severity = Severity.ERROR,
    squawk: tuple[str, ...] = (),
    strong_migrations: tuple[str, ...] = (),
    new_tables: bool = False,
    fix: str | None = None,
) -> Callable[[F], F]:
    """Register the decorated ``check(stmt, action, ctx)`` as rule ``id``, called per ALTER TABLE action.

    ``actions``: the action kinds it reads; ``new_tables``: also on tables created in this migration.
    """
    checked = _actions(id, actions)

    def decorate(func: F) -> F:
        meta = None if id in RULES else _meta(id, func.__module__, severity, squawk, strong_migrations, fix)
        _register(id, func.__module__, meta, actions=checked, action_check=func, new_tables=new_tables)
        return func

    return decorate


def engine_rule(id: str, *, module: str, severity: Severity = Severity.WARNING) -> None:
    """Register a rule the engine itself reports (``unanalysed``, ``invalid-suppression``)."""
    RULES[id] = Rule(_meta(id, module, severity, (), (), None), module, id)


_LOADED = False


def load_rules() -> dict[str, Rule]:
    """Import every module of ``dbops.lint.rules`` once; return the registry."""
    global _LOADED
    if not _LOADED:
        import dbops.lint.rules as package

        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{info.name}")
        _LOADED = True
    return RULES


def catalog_entries() -> list[RuleMeta]:
    """The catalog entries of every lint rule."""
    return [r.meta for r in load_rules().values()]


def rule_doc(rule_id: str) -> str:
    """The documentation of one rule (its module docstring), for ``dbops rules ID``."""
    found = find_rule(rule_id)
    if found is None:
        from dbops.errors import UsageError

        raise UsageError(f"unknown rule {rule_id!r}", hint="`dbops rules` lists the rule ids")
    return found.meta.render()


def find_rule(name: str) -> Rule | None:
    """The rule named ``name``: its id or an alias (``squawk:…`` or bare)."""
    rules = load_rules()
    if name in rules:
        return rules[name]
    return next((r for r in rules.values() if r.meta.matches(name)), None)


def resolve_rule_id(name: str) -> str | None:
    """A rule id from an id or an alias (``squawk:…`` or bare), else None."""
    found = find_rule(name)
    return found.id if found else None
