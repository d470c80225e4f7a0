"""``dbops budgets sync``: the budgeted SQL, regenerated from the repository methods that issue it.

A query in budgets.yaml that names a ``method`` (``package.module.Class.method``)
gets its ``sql`` from the hot statement of the same name the method declares
(``@issues(HotStatement(...))`` in ``platformdb``): the SQLAlchemy statement
the method executes, compiled for PostgreSQL with ``:name`` parameters. Only
the ``sql`` blocks change; names, parameters, budgets and comments stay as
written. ``check=True`` (``--check``, for CI) writes nothing and reports a
stale file, like ``dbops generate --check``.

Why generate rather than compare: the method's statement is the single
source, so the budget measures exactly the SQL the application sends (down
to its casts), with no normalisation heuristics to trust. A runtime test
(``tests/runtime/test_budgets_meet_code.py``) still calls every method and
checks the captured SQL against the file.

Also reported: hot statements a repository module declares that budgets.yaml
does not budget (a new hot query needs a budget before it merges).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.budgets.loader import _load_yaml, _validate_schema, parse_budgets
from dbops.config import Settings
from dbops.errors import InputError
from dbops.findings import Finding, Severity


@dataclass
class SyncResult:
    """What ``sync_budgets`` found and (unless ``check``) wrote."""

    display: str
    updated: list[str] = field(default_factory=list)  # schema.query whose SQL changed
    checked: list[str] = field(default_factory=list)  # schema.query with a method
    unbudgeted: list[str] = field(default_factory=list)  # "schema: method issues 'name'"
    diff: str = ""
    written: bool = False
    lines: dict[str, int] = field(default_factory=dict)  # schema.query (or schema) -> its line in the file

    @property
    def stale(self) -> bool:
        return bool(self.updated)


def sync_budgets(settings: Settings, path: str | Path | None = None, *, check: bool = False) -> SyncResult:
    """Regenerate the ``sql`` of every budget that names a ``method``; ``check`` only reports."""
    from dbops.budgets.api import budgets_path

    path = Path(path) if path else budgets_path(settings)
    display = _display(path, settings.root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"budgets file {display} not found", hint="create it (see README)") from None
    data, marks = _load_yaml(text, display)
    _validate_schema(data, marks, display)
    result = SyncResult(display)
    replacements: list[tuple[int, int, str]] = []
    sql_nodes = dict(_sql_nodes(text))
    budgeted: dict[str, set[str]] = {}
    modules: dict[str, set[str]] = {}
    for schema, body in data["schemas"].items():
        budgeted[schema] = set(body["queries"])
        result.lines[schema] = marks.key_line(("schemas", schema))
        for name, spec in body["queries"].items():
            result.lines[f"{schema}.{name}"] = marks.key_line(("schemas", schema, "queries", name))
            method = spec.get("method")
            if not method:
                continue
            at = f"{display}:{marks.key_line(('schemas', schema, 'queries', name, 'method'))}"
            function, module = _resolve(method, at)
            modules.setdefault(schema, set()).add(module)
            statement = _declared(function, name, method, at)
            result.checked.append(f"{schema}.{name}")
            sql = statement.sql()
            if spec["sql"].strip() != sql.strip():
                result.updated.append(f"{schema}.{name}")
                node = sql_nodes[(schema, name)]
                replacements.append((node[0], node[1], _block(sql, node[2], text[node[0] : node[1]])))
    for schema in modules:  # schemas whose budgets name methods must budget every hot statement of their code
        for module in sorted(modules[schema] | set(_conventional_modules(settings, schema))):
            for method_name, statement_name in _declared_in(module):
                if statement_name not in budgeted[schema]:
                    result.unbudgeted.append(f"{schema}: {method_name} issues {statement_name!r}")
    if replacements:
        new = text
        for start, end, replacement in sorted(replacements, reverse=True):
            new = new[:start] + replacement + new[end:]
        parse_budgets(new, path=path, display=display)  # the regenerated file must itself be valid
        result.diff = "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"{display} (committed)",
                f"{display} (from the methods)",
            )
        )
        if not check:
            path.write_text(new, encoding="utf-8")
            result.written = True
    return result


def sync_findings(settings: Settings, path: str | Path | None = None) -> list[Finding]:
    """``sync_budgets(check=True)`` as findings: stale budgeted SQL, hot statements without a budget."""
    result = sync_budgets(settings, path, check=True)
    findings = [
        Finding(
            "budget-sql-stale",
            Severity.ERROR,
            f"{name}: the budgeted SQL is not what its method sends",
            file=result.display,
            line=result.lines.get(name),
            object=name,
            check="budgets",
            fix="dbops budgets sync",
            details={"diff": result.diff},
        )
        for name in result.updated
    ]
    for problem in result.unbudgeted:
        schema = problem.split(":", 1)[0]
        findings.append(
            Finding(
                "budget-not-budgeted",
                Severity.ERROR,
                f"{problem}, which has no budget",
                file=result.display,
                line=result.lines.get(schema),
                object=schema,
                check="budgets",
                fix=f"add it under schemas.{schema}.queries with its method, params and budget",
            )
        )
    return findings


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _resolve(dotted: str, at: str) -> tuple[Callable[..., Any], str]:
    """The function ``package.module.Class.method`` names, and its module."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue
            raise InputError(f"cannot import {module_name}: {exc}", location=at) from None
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                raise InputError(
                    f"{dotted}: {module_name} has no {'.'.join(parts[cut:])}",
                    location=at,
                    hint="name the repository method as package.module.Class.method",
                )
            target = getattr(target, attribute)
        if not callable(target):
            raise InputError(f"{dotted} is not a method", location=at)
        return target, module_name
    raise InputError(
        f"cannot import any module of {dotted}",
        location=at,
        hint="name the repository method as package.module.Class.method",
    )


def _declared(function: Callable[..., Any], name: str, method: str, at: str) -> Any:
    statements = getattr(function, "__hot_statements__", ())
    for statement in statements:
        if statement.name == name:
            return statement
    declared = ", ".join(repr(s.name) for s in statements) or "none"
    raise InputError(
        f"{method} does not declare the hot statement {name!r} (it declares: {declared})",
        location=at,
        hint="decorate the method with @issues(...) or fix the query's name or method",
    )


def _declared_in(module_name: str) -> Iterator[tuple[str, str]]:
    """(qualified method, statement name) for every ``@issues`` in a module's classes."""
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if not isinstance(value, type) or value.__module__ != module_name:
            continue
        for attribute, member in vars(value).items():
            for statement in getattr(member, "__hot_statements__", ()):
                yield f"{module_name}.{value.__name__}.{attribute}", statement.name


def _conventional_modules(settings: Settings, schema: str) -> list[str]:
    """The schema's repositories module next to its models (``platformdb.healthcare.repositories``), if any."""
    models = settings.schemas[schema].models if schema in settings.schemas else ""
    if not models or "." not in models:
        return []
    candidate = models.rsplit(".", 1)[0] + ".repositories"
    try:
        importlib.import_module(candidate)
    except ModuleNotFoundError:
        return []
    return [candidate]


def _sql_nodes(text: str) -> Iterator[tuple[tuple[str, str], tuple[int, int, int]]]:
    """((schema, query), (start, end, key column)) of each query's ``sql`` value in the text."""
    import yaml

    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schemas = _child(root, "schemas")
    for schema_key, schema_node in schemas.value if schemas is not None else []:
        queries = _child(schema_node, "queries")
        for query_key, query_node in queries.value if queries is not None else []:
            for key, value in query_node.value:
                if key.value == "sql":
                    yield (
                        (schema_key.value, query_key.value),
                        (value.start_mark.index, value.end_mark.index, key.start_mark.column),
                    )


def _child(node: Any, name: str) -> Any:
    for key, value in getattr(node, "value", []):
        if getattr(key, "value", None) == name:
            return value
    return None


def _block(sql: str, key_column: int, original: str) -> str:
    """``sql`` as a literal block scalar indented under its key (replacing the ``original`` value text)."""
    indent = " " * (key_column + 2)
    body = "\n".join(indent + line if line else "" for line in sql.strip("\n").splitlines())
    if original.lstrip().startswith(("|", ">")):
        # A block scalar's node runs through its line breaks (and blank lines after it): keep as many.
        breaks = len(original) - len(original.rstrip("\n"))
        return "|\n" + body + "\n" * max(1, breaks)
    return "|\n" + body
