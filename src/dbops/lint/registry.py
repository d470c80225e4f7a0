"""The rule registry: one module per rule under ``dbops.lint.rules``.

A rule module holds a docstring in fixed sections (*What it does*, *Why is
this bad?*, *Example*, *Use instead*) — ``dbops rules ID`` prints it — and one
function decorated with ``@rule(...)`` that receives each statement of the
kinds it asks for, with the context built by the engine, and yields
``Violation``s. The engine knows no rule by name.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dbops.findings import Severity

if TYPE_CHECKING:
    from dbops.lint.context import Context
    from dbops.lint.facts import Stmt


@dataclass(slots=True)
class Violation:
    """What a rule reports: a message, the safe alternative, optional details."""

    message: str
    fix: str | None = None
    stmt: Any = None  # another statement to point at (default: the one checked)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A registered rule: stable id, default severity, aliases, the statement kinds it reads.

    ``actions`` (optional) narrows an ALTER TABLE to the action kinds the rule reads: the engine
    does not call the rule on a statement whose actions include none of them.
    """

    id: str
    severity: Severity
    summary: str
    doc: str
    aliases: dict[str, tuple[str, ...]]
    kinds: tuple[str, ...]
    check: Callable[[Stmt, Context], Iterable[Violation]] | None
    module: str
    actions: tuple[str, ...] = ()

    def alias_names(self) -> tuple[str, ...]:
        """``squawk:name`` / ``strong_migrations:name`` strings for findings."""
        cached = _ALIAS_CACHE.get(self.id)
        if cached is None:
            cached = _ALIAS_CACHE[self.id] = tuple(
                f"{tool}:{name}" for tool, names in self.aliases.items() for name in names
            )
        return cached


_ALIAS_CACHE: dict[str, tuple[str, ...]] = {}


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    severity: Severity = Severity.ERROR,
    squawk: tuple[str, ...] = (),
    strong_migrations: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    actions: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Register the decorated function as the check of rule ``id`` (doc = its module's docstring).

    ``kinds``: the statement kinds it reads (default: every statement); ``actions``: for statements
    with ALTER TABLE actions, the action kinds it reads (default: every action).
    """

    def decorate(func: Callable) -> Callable:
        module = sys.modules[func.__module__]
        doc = (module.__doc__ or "").strip()
        aliases = {k: v for k, v in (("squawk", squawk), ("strong_migrations", strong_migrations)) if v}
        RULES[id] = Rule(id, severity, doc.splitlines()[0] if doc else id, doc, aliases, kinds, func, func.__module__,
                         actions)
        return func

    return decorate


def engine_rule(id: str, *, module: str, severity: Severity = Severity.WARNING) -> None:
    """Register a rule the engine itself reports (``unanalysed``, ``invalid-suppression``)."""
    mod = sys.modules[module]
    doc = (mod.__doc__ or "").strip()
    RULES[id] = Rule(id, severity, doc.splitlines()[0] if doc else id, doc, {}, (), None, module)


_LOADED = False


def load_rules() -> dict[str, Rule]:
    """Import every module of ``dbops.lint.rules`` once; return the registry."""
    global _LOADED
    if not _LOADED:
        import dbops.lint.rules as package

        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _LOADED = True
    return RULES


def rule_doc(rule_id: str) -> str:
    """The documentation of one rule (its module docstring), for ``dbops rules ID``."""
    rules = load_rules()
    found = rules.get(rule_id) or _by_alias(rule_id)
    if found is None:
        from dbops.errors import UsageError

        raise UsageError(f"unknown rule {rule_id!r}", hint="`dbops rules` lists the rule ids")
    header = [f"{found.id}  (default severity: {found.severity.value})"]
    if found.aliases:
        header.append("aliases: " + ", ".join(found.alias_names()))
    return "\n".join(header) + "\n\n" + found.doc + "\n"


def _by_alias(name: str) -> Rule | None:
    for candidate in RULES.values():
        if any(name == alias or name == alias.split(":", 1)[1] for alias in candidate.alias_names()):
            return candidate
    return None


def resolve_rule_id(name: str) -> str | None:
    """A rule id from an id or an alias (``squawk:…`` or bare), else None."""
    rules = load_rules()
    if name in rules:
        return name
    found = _by_alias(name)
    return found.id if found else None
