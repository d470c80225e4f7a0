"""The one rule catalog: what every rule id a finding can carry means.

Every check contributes ``RuleMeta`` records — the lint rules (``dbops.lint``), the index-health
checks (``dbops.health``), the budget rules (``dbops.budgets``) and the smaller checks of
``dbops check all`` — and one ``Catalog`` serves ``dbops rules``, the rule descriptors of SARIF
output and the generated documentation (``docs/rules.md``).

>>> meta = RuleMeta("require-concurrent-index", "CREATE INDEX without CONCURRENTLY.", Severity.ERROR,
...                 "## What it does\\nFlags …", check="locks", aliases=("squawk:require-concurrent-index-creation",))
>>> catalog = Catalog([meta])
>>> catalog.get("require-concurrent-index-creation") is meta  # a bare alias finds it too
True
>>> catalog.get("squawk:require-concurrent-index-creation").id
'require-concurrent-index'
>>> catalog.get("no-such-rule") is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from dbops.findings.model import Severity

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# Headings of the checks, in the order the catalog lists them.
CHECK_TITLES = {
    "locks": "Lock safety of migrations (`dbops check locks`)",
    "indexes": "Index and schema health (`dbops check indexes`)",
    "budgets": "Query budgets (`dbops check budgets`)",
    "types": "Generated types (`dbops check types`, `dbops check all`)",
    "drift": "Models against migrations (`dbops check all`, `dbops status`)",
    "status": "Revisions of a database (`dbops status`)",
}


@dataclass(frozen=True)
class RuleMeta:
    """What a rule id means: its title, default severity, documentation, aliases and fix.

    ``title`` is one line; ``documentation`` is Markdown (for lint rules: *What it does*, *Why is
    this bad?*, *Example*, *Use instead*); ``aliases`` are ``tool:name`` spellings of the same rule
    in other tools (squawk, strong_migrations); ``fix`` is the fix template (``{table}`` …) when the
    rule has one fixed form; ``url`` is a real help page, when there is one.
    """

    id: str
    title: str
    severity: Severity
    documentation: str
    check: str
    aliases: tuple[str, ...] = ()
    fix: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if "\n" in self.title or not self.title.strip():
            raise ValueError(f"rule {self.id}: the title must be one non-empty line")

    def matches(self, name: str) -> bool:
        """Is ``name`` this rule's id or one of its aliases (``squawk:x`` or bare ``x``)?"""
        return name == self.id or any(name == alias or name == alias.split(":", 1)[-1] for alias in self.aliases)

    def render(self) -> str:
        """The text ``dbops rules ID`` prints."""
        head = [f"{self.id}  (default severity: {self.severity.value}; check: {self.check})", "", self.title]
        if self.aliases:
            head.append("aliases: " + ", ".join(self.aliases))
        body = self.documentation.strip()
        if self.fix and self.fix not in body:
            body += "\n\n## Fix\n" + self.fix
        return "\n".join(head) + ("\n\n" + body if body else "") + "\n"

    def sarif_descriptor(self) -> dict[str, object]:
        """A SARIF 2.1.0 ``reportingDescriptor``."""
        descriptor: dict[str, object] = {
            "id": self.id,
            "shortDescription": {"text": self.title},
            "fullDescription": {"text": self.documentation.strip() or self.title},
            "help": {"text": self.documentation.strip() or self.title,
                     "markdown": self.documentation.strip() or self.title},
            "defaultConfiguration": {"level": _SARIF_LEVEL[self.severity]},
            "properties": {"check": self.check, **({"aliases": list(self.aliases)} if self.aliases else {})},
        }
        if self.url:
            descriptor["helpUri"] = self.url
        return descriptor


class Catalog(Mapping[str, RuleMeta]):
    """Rule id → ``RuleMeta``; ``get`` also resolves aliases. Ids must be unique across checks."""

    def __init__(self, entries: Iterable[RuleMeta]) -> None:
        self._by_id: dict[str, RuleMeta] = {}
        for meta in entries:
            if meta.id in self._by_id:
                raise ValueError(f"rule id {meta.id!r} is defined twice (checks {self._by_id[meta.id].check} "
                                 f"and {meta.check})")
            self._by_id[meta.id] = meta

    def __getitem__(self, rule_id: str) -> RuleMeta:
        return self._by_id[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, name: str, default: RuleMeta | None = None) -> RuleMeta | None:  # type: ignore[override]
        """The rule named ``name`` (an id, ``squawk:x`` or a bare alias), else ``default``."""
        found = self._by_id.get(name)
        if found is not None:
            return found
        return next((m for m in self._by_id.values() if m.matches(name)), default)

    def by_check(self) -> dict[str, list[RuleMeta]]:
        """The rules grouped by check, each group sorted by id, checks in ``CHECK_TITLES`` order."""
        groups: dict[str, list[RuleMeta]] = {}
        for meta in sorted(self._by_id.values(), key=lambda m: (_check_rank(m.check), m.id)):
            groups.setdefault(meta.check, []).append(meta)
        return groups

    def markdown(self) -> str:
        """The catalog as one Markdown document (``docs/rules.md``)."""
        out = ["# dbops rules", "",
               "Every rule id a dbops finding can carry: its default severity, what it flags and the safe "
               "alternative. Generated from the code by `dbops rules --markdown`; `dbops rules ID` prints one "
               "entry.", ""]
        for check, metas in self.by_check().items():
            out += [f"## {CHECK_TITLES.get(check, check)}", ""]
            out += [f"- [`{m.id}`](#{m.id}) ({m.severity.value}) — {m.title}" for m in metas]
            out.append("")
            for meta in metas:
                out += _markdown_entry(meta)
        return "\n".join(out).rstrip() + "\n"


class LazyCatalog(Catalog):
    """A catalog assembled from providers, each loaded on first need (some import heavy modules).

    ``get`` looks in what is loaded, then loads the next provider until the name is found:
    a SARIF report of lint findings never imports the budget checks.
    """

    def __init__(self, providers: Iterable[Callable[[], Iterable[RuleMeta]]]) -> None:
        super().__init__(())
        self._providers = list(providers)

    def _load_next(self) -> bool:
        if not self._providers:
            return False
        for meta in self._providers.pop(0)():
            if meta.id in self._by_id:
                raise ValueError(f"rule id {meta.id!r} is defined twice (checks {self._by_id[meta.id].check} "
                                 f"and {meta.check})")
            self._by_id[meta.id] = meta
        return True

    def _load_all(self) -> None:
        while self._load_next():
            pass

    def __getitem__(self, rule_id: str) -> RuleMeta:
        found = self.get(rule_id)
        if found is None or found.id != rule_id:
            raise KeyError(rule_id)
        return found

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return super().__iter__()

    def __len__(self) -> int:
        self._load_all()
        return super().__len__()

    def get(self, name: str, default: RuleMeta | None = None) -> RuleMeta | None:  # type: ignore[override]
        while True:
            found = Catalog.get(self, name)
            if found is not None or not self._load_next():
                return found if found is not None else default

    def by_check(self) -> dict[str, list[RuleMeta]]:
        self._load_all()
        return super().by_check()


def _check_rank(check: str) -> int:
    order = list(CHECK_TITLES)
    return order.index(check) if check in order else len(order)


def _markdown_entry(meta: RuleMeta) -> list[str]:
    lines = [f"### {meta.id}", "", f"*{meta.severity.value}* — {meta.title}", ""]
    if meta.aliases:
        lines += ["Also known as: " + ", ".join(f"`{a}`" for a in meta.aliases), ""]
    body = meta.documentation.strip()
    if body:
        # The entry's own sections sit one level below its heading.
        lines += [("##" + line) if line.startswith("## ") else line for line in body.splitlines()]
        lines.append("")
    if meta.fix and meta.fix not in body:
        lines += ["Fix:", "", "```", meta.fix, "```", ""]
    return lines


def first_line(doc: str) -> str:
    """The first non-empty line of a docstring (a rule's title).

    >>> first_line("\\n  Flags X.\\n\\nMore.")
    'Flags X.'
    """
    return next((line.strip() for line in doc.splitlines() if line.strip()), "")
