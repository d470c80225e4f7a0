"""Loading budgets.yaml: YAML with line numbers, the published JSON Schema, then the SQL itself.

Every problem is an ``InputError`` located at ``file:line`` (exit 2): YAML
syntax, duplicate keys, schema violations (unknown key, wrong type, missing
budget), SQL that does not parse, parameters the SQL uses but a sample set
lacks (or the reverse), ``use_index``/``residual_filters`` naming a table the
query does not read, unknown rule ids in ``ignore``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from dbops.budgets.model import BudgetFile, HotQuery, ParamSet, RlsContext
from dbops.budgets.rules import RULES
from dbops.config import display_path
from dbops.errors import InputError

Path_ = tuple[str | int, ...]


@cache
def budgets_schema() -> dict[str, Any]:
    """The JSON Schema of budgets.yaml (package data ``dbops/budgets/budgets.schema.json``)."""
    text = resources.files("dbops.budgets").joinpath("budgets.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_budgets(path: str | Path, *, root: Path | None = None) -> BudgetFile:
    """Read and validate a budgets file; ``root`` makes the file name in findings relative."""
    path = Path(path)
    display = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"budgets file {display} not found", hint="create it (see README) or set tool.dbops.budgets.file"
        ) from None
    except UnicodeDecodeError as exc:
        data = path.read_bytes()
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{display} is not UTF-8 text (byte 0x{data[exc.start]:02x})", location=f"{display}:{line}",
                         hint=f"save {path.name} as UTF-8") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise InputError(f"cannot read {display}: {getattr(exc, 'strerror', None) or exc}", location=display) from None
    return parse_budgets(text, path=path, display=display)


def parse_budgets(text: str, *, path: Path | str = "budgets.yaml", display: str | None = None) -> BudgetFile:
    """Validate budgets from YAML text (what ``load_budgets`` does after reading the file)."""
    path = Path(path)
    display = display or str(path)
    data, marks = _load_yaml(text, display)
    _validate_schema(data, marks, display)
    return _build(data, marks, path, display)




# -- YAML with line numbers ---------------------------------------------------------------------------


class _Marks:
    """Lines of every node (value) and mapping key, by path."""

    def __init__(self) -> None:
        self.values: dict[Path_, int] = {}
        self.keys: dict[Path_, int] = {}
        self.block: dict[Path_, bool] = {}

    def line(self, path: Path_) -> int:
        """The line of the value at ``path`` (or of its nearest ancestor)."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, 1)

    def key_line(self, path: Path_) -> int:
        return self.keys.get(path) or self.line(path)


def _loader_class() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same nodes and marks, faster

    class Loader(base):  # type: ignore[misc,valid-type]
        """SafeLoader without implicit timestamps: dates stay strings (JSON-compatible, passed to SQL as text)."""

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def _load_yaml(text: str, display: str) -> tuple[Any, _Marks]:
    import yaml

    loader = _loader_class()(text)
    marks = _Marks()
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError("the budgets file is empty", location=f"{display}:1", hint="start with `version: 1`")
        check_expansion(node, display)
        _walk(node, (), marks, display)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", location=f"{display}:{line}", hint="fix the YAML syntax") from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=display) from None
    except RecursionError:  # the pure-Python loader recurses per nesting level (libyaml stops at its own limit)
        raise InputError("invalid YAML: nested too deeply to read", location=display,
                         hint="flatten the nesting") from None
    finally:
        loader.dispose()
    return data, marks


#: The most values a budgets file may expand to once its aliases (``*name``) are resolved: a real
#: file has a few thousand; a 1 KB "billion laughs" file expands to hundreds of millions.
MAX_YAML_NODES = 100_000


def check_expansion(root: Any, display: str, limit: int = MAX_YAML_NODES) -> int:
    """The number of values ``root`` (a composed YAML node) expands to; InputError past ``limit`` or on a
    recursive alias. Counted over the shared node graph (each distinct node once), so a bomb costs
    nothing to detect; nothing is expanded before the count says it is small."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.MappingNode):
            return [part for pair in node.value for part in pair]
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        return []

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            total = 1 + sum(sizes[id(child)] for child in children(node))
            open_nodes.discard(key)
            if total > limit:
                raise InputError(
                    f"the YAML expands to more than {limit:,} values through its aliases (*name): "
                    "an alias bomb, or a file far bigger than a budgets file",
                    location=f"{display}:{node.start_mark.line + 1}",
                    hint="write the values out instead of repeating aliases",
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise InputError("a YAML alias refers to a value that contains it (a recursive structure)",
                             location=f"{display}:{node.start_mark.line + 1}", hint="remove the recursive alias")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _walk(node: Any, path: Path_, marks: _Marks, display: str) -> None:
    import yaml

    marks.values[path] = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        marks.block[path] = node.style in ("|", ">")
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError("mapping keys must be plain names", location=f"{display}:{key_node.start_mark.line + 1}")
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InputError(
                    f"duplicate key {key!r} (first defined on line {seen[key]})",
                    location=f"{display}:{line}",
                    hint="remove or rename one of them",
                )
            seen[key] = line
            marks.keys[(*path, key)] = line
            _walk(value_node, (*path, key), marks, display)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), marks, display)


# -- JSON Schema ---------------------------------------------------------------------------------------


def _validate_schema(data: Any, marks: _Marks, display: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(budgets_schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    # An unknown key first (a misspelt key also shows up as a missing one), then the earliest line.
    chosen = min(errors, key=lambda e: (e.validator != "additionalProperties", _error_line(e, marks),
                                        jsonschema.exceptions.relevance(e)))
    message, hint = _error_message(chosen)
    raise InputError(message, location=f"{display}:{_error_line(chosen, marks)}", hint=hint)


def _extra_keys(error: Any) -> list[str]:
    allowed = set(error.schema.get("properties", {}))
    return [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []


def _error_line(error: Any, marks: _Marks) -> int:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and error.schema.get("additionalProperties") is False:
        extras = _extra_keys(error)
        if extras:
            return marks.key_line((*path, extras[0]))
    if error.validator == "propertyNames":
        return marks.key_line((*path, error.instance)) if isinstance(error.instance, str) else marks.line(path)
    if path and isinstance(path[-1], str):
        return marks.key_line(path)
    return marks.line(path)


def _where(path: Path_) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[") or "the file"


def _error_message(error: Any) -> tuple[str, str]:
    path = tuple(error.absolute_path)
    where = _where(path)
    if error.validator == "additionalProperties" and error.schema.get("additionalProperties") is False:
        extras = _extra_keys(error)
        known = sorted(error.schema.get("properties", {}))
        close = difflib.get_close_matches(extras[0], known, n=1) if extras else []
        hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(known)}"
        return f"unknown key {extras[0]!r} in {where}", hint
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where} is missing {missing!r}", f"add `{missing}:`"
    if error.validator == "const" and path == ("version",):
        return f"unsupported version {error.instance!r}", "use `version: 1`"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where} must be {_article(expected)}, not {error.instance!r}", "fix the value"
    return f"{where}: {error.message}", "see budgets.schema.json for the format"


def _article(kind: str) -> str:
    return {"integer": "an integer", "object": "a mapping", "array": "a list", "number": "a number",
            "string": "a string", "boolean": "true or false"}.get(kind, kind)


# -- semantics: SQL, parameters, tables ------------------------------------------------------------------


def _build(data: Mapping[str, Any], marks: _Marks, path: Path, display: str) -> BudgetFile:
    queries = []
    schema_lines = {}
    rls = {}
    for schema, body in data["schemas"].items():
        schema_lines[schema] = marks.key_line(("schemas", schema))
        if "rls" in body:
            rls[schema] = RlsContext(body["rls"]["role"], body["rls"].get("tenant_setting", "app.tenant_id"))
        for name, spec in body["queries"].items():
            queries.append(_query(schema, name, spec, ("schemas", schema, "queries", name), marks, display))
    return BudgetFile(path=path, display=display, queries=tuple(queries), schema_lines=schema_lines, rls=rls)


def _query(schema: str, name: str, spec: Mapping[str, Any], at: Path_, marks: _Marks, display: str) -> HotQuery:
    import sqlglot
    from sqlglot import exp

    from dbops.budgets.analysis import parse, tables_read
    from dbops.budgets.params import placeholders

    sql = spec["sql"]
    sql_at = (*at, "sql")
    sql_line = marks.line(sql_at) + (1 if marks.block.get(sql_at) else 0)

    def fail(message: str, line: int, hint: str | None = None) -> InputError:
        return InputError(f"{schema}.{name}: {message}", location=f"{display}:{line}", hint=hint)

    try:
        tree = parse(sql)
    except sqlglot.ParseError as exc:
        detail = exc.errors[0] if getattr(exc, "errors", None) else {}
        line = sql_line + (detail.get("line", 1) - 1 if detail.get("line") else 0)
        text = (detail.get("description") or str(exc)).splitlines()[0]
        raise fail(f"the SQL does not parse: {text}", line, "fix the SQL (parameters are written :name)") from None
    if not isinstance(tree, exp.Query):
        raise fail("a hot query must be a SELECT", sql_line)
    names = placeholders(sql)
    tables = frozenset(tables_read(tree))
    params = _param_sets(spec, names, at, marks, fail)
    use_index = spec.get("use_index")
    for i, table in enumerate(use_index or []):
        if table not in tables:
            raise fail(f"use_index names {table!r}, which the query does not read", marks.line((*at, "use_index", i)),
                       f"tables read: {', '.join(sorted(tables))}")
    for i, item in enumerate(spec.get("residual_filters", [])):
        if item.split(".", 1)[0] not in tables:
            raise fail(f"residual_filters names {item!r}, whose table the query does not read",
                       marks.line((*at, "residual_filters", i)))
    for i, rule in enumerate(spec.get("ignore", [])):
        if rule not in RULES:
            close = difflib.get_close_matches(rule, list(RULES), n=1)
            raise fail(f"unknown rule {rule!r} in ignore", marks.line((*at, "ignore", i)),
                       f"did you mean {close[0]!r}?" if close else "see `dbops rules`")
    return HotQuery(
        schema=schema,
        name=name,
        sql=sql,
        max_rows_examined=spec["max_rows_examined"],
        max_ms=float(spec["max_ms"]),
        line=marks.key_line(at),
        sql_line=sql_line,
        description=spec.get("description", ""),
        params=params,
        use_index=tuple(use_index) if use_index is not None else None,
        max_buffers=spec.get("max_buffers"),
        tenant_filter=spec.get("tenant_filter", True),
        residual_filters=tuple(spec.get("residual_filters", ())),
        allow_sort=spec.get("allow_sort", False),
        ignore=tuple(spec.get("ignore", ())),
        placeholders=tuple(names),
        tables=tables,
        method=spec.get("method"),
        rls=spec.get("rls", True),
    )


def _param_sets(spec: Mapping[str, Any], names: list[str], at: Path_, marks: _Marks, fail: Any) -> tuple[ParamSet, ...]:
    raw = spec.get("params")
    if raw is None:
        if names:
            raise fail(f"the SQL uses :{names[0]} but the query has no params", marks.key_line(at),
                       f"add `params: [{{{', '.join(f'{n}: …' for n in names)}}}]`")
        return (ParamSet({}, None, None),)
    sets = []
    for i, values in enumerate(raw):
        line = marks.line((*at, "params", i))
        from_sql = values.get("from_sql")
        given = {k: v for k, v in values.items() if k != "from_sql"}
        unused = [k for k in given if k not in names]
        if unused:
            raise fail(f"parameter {unused[0]!r} is not used by the SQL", marks.key_line((*at, "params", i, unused[0])),
                       f"the SQL uses: {', '.join(':' + n for n in names) or 'no parameters'}")
        missing = [n for n in names if n not in given]
        if missing and from_sql is None:
            raise fail(f"params[{i}] has no value for :{missing[0]}", line,
                       f"add `{missing[0]}: …` (or a from_sql query returning a column named {missing[0]})")
        sets.append(ParamSet(given, from_sql, line))
    return tuple(sets)
