"""The configuration object: ``[tool.dbops]`` of pyproject.toml, validated.

Loaded once (``load_settings``) and passed down; no other module reads
pyproject.toml or the environment on its own. Unknown or mistyped keys are a
``ConfigError`` naming the key and its line (exit 2).

Each check has its own section dataclass; a capability that needs a new
setting adds a field (with a default) to its section here.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.errors import ConfigError

SCHEMA_NAMES = ("healthcare", "fashion")


@dataclass(frozen=True)
class SchemaSettings:
    """One schema: where its migrations, models, seeds and types live."""

    name: str
    migrations: str = ""
    models: str = ""
    seed: str = ""
    types_module: str = ""
    url_env: str = ""
    url: str = ""
    database: str = ""
    tenant_key: str = ""
    tenant_table: str = ""
    partitioned_tables: list[str] = field(default_factory=list)
    #: ``dbops seed --scale``'s generator: ``"path/to/file.py:Class"`` (in the project) or ``"package.module:Class"``
    scale: str = ""

    def migrations_path(self, root: Path) -> Path:
        return root / self.migrations


@dataclass(frozen=True)
class LocksSettings:
    """``[tool.dbops.locks]``: the lock-safety lint."""

    ignore: list[str] = field(default_factory=list)
    unanalysed_severity: str = "info"
    assume_in_transaction: bool = False
    severity: dict[str, str] = field(default_factory=dict)
    cache_dir: str = ".dbops-cache"
    # Comments by which a migration runner says "this file runs outside a transaction"; they turn
    # assume_in_transaction off for that file. Empty list = dbops' defaults (dbops, goose, dbmate, PrairieLearn).
    no_transaction_markers: list[str] = field(default_factory=list)
    # The migration runner's own tables (writing them is bookkeeping, never a backfill). Empty list =
    # dbops' defaults (alembic_version, schema_migrations, flyway_schema_history, …).
    bookkeeping_tables: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IndexesSettings:
    """``[tool.dbops.indexes]``: the index/schema health audit."""

    ignore: list[str] = field(default_factory=list)
    exclude_objects: list[str] = field(default_factory=list)
    exclude_schemas: list[str] = field(default_factory=list)
    min_table_size_bytes: int = 0
    min_index_size_bytes: int = 0
    sequence_overflow_percent: float = 80.0
    int4_pk_min_rows: int = 10_000_000
    int4_pk_percent: float = 50.0
    unused_index_max_scans: int = 0
    #: an index younger than this (when dbops can tell its age) is not reported unused: it had no time to be
    unused_index_min_age_days: float = 7.0
    seq_scan_min_rows: int = 10_000
    seq_scan_min_count: int = 100
    bloat_min_bytes: int = 10 * 1024 * 1024
    bloat_min_percent: float = 30.0
    cache_hit_min_percent: float = 95.0
    cache_hit_min_blocks: int = 10_000
    wraparound_max_age: int = 1_000_000_000
    stale_min_rows: int = 1_000
    severity: dict[str, str] = field(default_factory=dict)
    statement_timeout: str = "30s"
    lock_timeout: str = "1s"


@dataclass(frozen=True)
class BudgetsSettings:
    """``[tool.dbops.budgets]``: hot-query budgets.

    ``runs``: timed executions per query for p50/p95; ``enforce_latency``:
    a p95 above ``max_ms`` is an error (default: a warning, timings are
    noisy in CI); ``analyze``: run ANALYZE on the budgeted tables before
    measuring (fixed statistics); ``hypopg``: propose indexes with hypopg
    when a budget breaks and the extension is available.
    """

    file: str = "budgets.yaml"
    runs: int = 20
    ignore: list[str] = field(default_factory=list)
    enforce_latency: bool = False
    analyze: bool = True
    hypopg: bool = True
    statement_timeout: str = "30s"


@dataclass(frozen=True)
class DeploySettings:
    """``[tool.dbops.deploy]``: production migration safety."""

    lock_timeout: str = "2s"
    statement_timeout: str = "15min"
    retries: int = 5
    retry_backoff_seconds: float = 1.0
    retry_backoff_max_seconds: float = 30.0
    advisory_lock_wait_seconds: float = 60.0


@dataclass(frozen=True)
class PartitionsSettings:
    """``[tool.dbops.partitions]``: monthly partition maintenance (and online backfills).

    ``retention_months = 0`` keeps every partition. ``max_move_rows`` caps the
    rows moved out of a default partition under its ACCESS EXCLUSIVE lock.
    ``retention_unattended``: apply the retention without ``--yes`` (cron) on
    a table where a confirmed run of that retention already happened.
    """

    months_ahead: int = 3
    retention_months: int = 0
    lock_timeout: str = "2s"
    retries: int = 3
    max_move_rows: int = 100_000
    backfill_lock_timeout: str = "1s"
    retention_unattended: bool = False


@dataclass(frozen=True)
class StudioSettings:
    """``[tool.dbops.studio]``: the local web UI.

    ``secret_columns``: glob patterns of columns never shown nor written, on top of the
    name patterns (password, token, key, hash…): ``"iban"``, ``"users.phone"``,
    ``"public.*.ssn"``, ``"fashion.public.clients.email"``.
    """

    secret_columns: list[str] = field(default_factory=list)
    statement_timeout: str = "5s"
    page_size: int = 50


@dataclass(frozen=True)
class ScaleSettings:
    """``[tool.dbops.scale]``: ``dbops seed --scale`` bulk loads.

    ``workers``: loader connections of a fresh load; 0 sizes them from the CPU count.
    """

    workers: int = 0


@dataclass(frozen=True)
class Settings:
    """Everything dbops knows about the project, validated."""

    root: Path
    schemas: dict[str, SchemaSettings]
    target_pg_version: int = 15
    locks: LocksSettings = field(default_factory=LocksSettings)
    indexes: IndexesSettings = field(default_factory=IndexesSettings)
    budgets: BudgetsSettings = field(default_factory=BudgetsSettings)
    deploy: DeploySettings = field(default_factory=DeploySettings)
    partitions: PartitionsSettings = field(default_factory=PartitionsSettings)
    studio: StudioSettings = field(default_factory=StudioSettings)
    scale: ScaleSettings = field(default_factory=ScaleSettings)
    config_file: Path | None = None

    def schema(self, name: str) -> SchemaSettings:
        """The settings of one schema, or a ConfigError listing the known ones."""
        try:
            return self.schemas[name]
        except KeyError:
            known = ", ".join(self.schemas) or "none"
            raise ConfigError(
                f"unknown schema {name!r}", hint=f"known schemas: {known} (declare it under [tool.dbops.schemas])"
            ) from None

    def location_of(self, section: str, key: str) -> str | None:
        """``pyproject.toml:LINE`` of ``key`` in ``[section]`` (for errors about a value; None without a file)."""
        if self.config_file is None:
            return None
        try:
            text = self.config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return str(self.config_file)
        return _Locator(self.config_file, text).at(section, key)

    def select(self, name: str | None) -> list[SchemaSettings]:
        """One named schema, or all of them in declaration order."""
        return [self.schema(name)] if name else list(self.schemas.values())


_SECTIONS = {
    "locks": LocksSettings,
    "indexes": IndexesSettings,
    "budgets": BudgetsSettings,
    "deploy": DeploySettings,
    "partitions": PartitionsSettings,
    "studio": StudioSettings,
    "scale": ScaleSettings,
}
_TOP_LEVEL = {"target_pg_version": int, "schemas": dict, **{k: dict for k in _SECTIONS}}


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` holding a pyproject.toml with [tool.dbops].

    Falls back to ``start`` (a project without config still gets defaults).
    """
    start = (start or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        pyproject = candidate / "pyproject.toml"
        try:
            if pyproject.is_file() and "[tool.dbops" in pyproject.read_text(encoding="utf-8", errors="replace"):
                return candidate
        except OSError:  # unreadable: not ours to judge here; load_settings reports it if it is the one
            continue
    return start


def load_settings(root: Path | None = None, *, env: typing.Mapping[str, str] | None = None) -> Settings:
    """Read and validate ``[tool.dbops]`` of ``root/pyproject.toml``.

    ``DBOPS_PROJECT_DIR`` in ``env`` overrides the search for the project root.
    """
    env = os.environ if env is None else env
    if root is None:
        root = Path(env["DBOPS_PROJECT_DIR"]) if env.get("DBOPS_PROJECT_DIR") else find_project_root()
    root = root.resolve()
    pyproject = root / "pyproject.toml"
    table: dict[str, Any] = {}
    text = ""
    if pyproject.is_file():
        text = read_text_file(pyproject, what="pyproject.toml")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = _toml_error_line(str(exc))
            raise ConfigError(
                f"invalid TOML: {exc}", location=f"{pyproject}:{line}" if line else str(pyproject),
                hint="fix the syntax of pyproject.toml",
            ) from None
        except RecursionError:  # tomllib recurses per nested array/inline table
            raise ConfigError(
                "invalid TOML: arrays or inline tables nested too deeply to read",
                location=f"{pyproject}:{_deepest_line(text)}", hint="flatten the nesting in pyproject.toml",
            ) from None
        tool = data.get("tool", {})
        table = tool.get("dbops", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError("[tool.dbops] must be a table", location=str(pyproject), hint="write [tool.dbops]")
    return _build(table, root, pyproject if table else None, text)


def read_text_file(path: Path, *, what: str) -> str:
    """A config/input file as UTF-8 text; unreadable or not UTF-8 is a ConfigError at file:line (exit 2)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", location=str(path),
                          hint="check the file's permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column})",
                          location=f"{path}:{line}", hint=f"save {path.name} as UTF-8") from None


def _deepest_line(text: str) -> int:
    """The line where bracket nesting is deepest (where a too-deep structure is)."""
    depth = deepest = 0
    line = best = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, best = depth, line
        elif char in "]}":
            depth = max(0, depth - 1)
    return best


def _build(table: dict[str, Any], root: Path, config_file: Path | None, text: str) -> Settings:
    where = _Locator(config_file, text)
    for key, value in table.items():
        if key not in _TOP_LEVEL:
            raise where.unknown("tool.dbops", key, _TOP_LEVEL)
        if not _is_instance(value, _TOP_LEVEL[key]):
            raise where.bad_type("tool.dbops", key, _TOP_LEVEL[key], value)
    schemas_table = table.get("schemas") or {name: {} for name in SCHEMA_NAMES}
    schemas = {}
    for name, raw in schemas_table.items():
        if not isinstance(raw, dict):
            raise where.bad_type("tool.dbops.schemas", name, dict, raw)
        values = _section(where, f"tool.dbops.schemas.{name}", SchemaSettings, raw, skip=frozenset({"name"}))
        defaults = _schema_defaults(name)
        merged = {**defaults, **{k: v for k, v in values.items()}}
        schemas[name] = SchemaSettings(name=name, **merged)
    sections = {
        key: cls(**_section(where, f"tool.dbops.{key}", cls, table.get(key, {}))) for key, cls in _SECTIONS.items()
    }
    _check_values(where, sections, schemas)
    return Settings(
        root=root,
        schemas=schemas,
        target_pg_version=table.get("target_pg_version", 15),
        config_file=config_file,
        **sections,
    )


def _schema_defaults(name: str) -> dict[str, Any]:
    return {
        "migrations": f"migrations/{name}",
        "url_env": f"{name.upper()}_DATABASE_URL",
        "database": name,
        "seed": f"seeds/{name}.py",
    }


def _check_values(where: _Locator, sections: dict[str, Any], schemas: dict[str, SchemaSettings]) -> None:
    severity = sections["locks"].unanalysed_severity
    if severity not in ("error", "warning", "info", "off"):
        raise ConfigError(
            f"tool.dbops.locks.unanalysed_severity must be error, warning, info or off, not {severity!r}",
            location=where.at("tool.dbops.locks", "unanalysed_severity"),
        )
    for rule, sev in sections["locks"].severity.items():
        if sev not in ("error", "warning", "info", "off"):
            raise ConfigError(
                f"tool.dbops.locks.severity.{rule} must be error, warning, info or off, not {sev!r}",
                location=where.at("tool.dbops.locks", "severity"),
            )
    if sections["scale"].workers < 0:
        raise ConfigError(f"tool.dbops.scale.workers must be 0 (from the CPU count) or more, not "
                          f"{sections['scale'].workers}", location=where.at("tool.dbops.scale", "workers"))
    for schema in schemas.values():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema.name):
            raise ConfigError(
                f"schema name {schema.name!r} must be an identifier", location=where.at("tool.dbops.schemas", schema.name)
            )


def _section(where: _Locator, path: str, cls: type, raw: dict[str, Any],
             skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)} - set(skip)
    out = {}
    for key, value in raw.items():
        if key not in fields:
            raise where.unknown(path, key, fields)
        if not _is_instance(value, hints[key]):
            raise where.bad_type(path, key, hints[key], value)
        if _has_nul(value):  # TOML's \u0000: no path, name or SQL setting may hold one
            raise ConfigError(f"setting '{path}.{key}' contains a NUL character (\\u0000)",
                              location=where.at(path, key), hint="remove it")
        out[key] = value
    return out


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def _is_instance(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_instance(value, arg) for arg in typing.get_args(hint))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_is_instance(v, item) for v in value)
    if origin is dict:
        _key_t, val_t = typing.get_args(hint)
        return isinstance(value, dict) and all(_is_instance(v, val_t) for v in value.values())
    if hint is Path:
        return isinstance(value, str)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(hint)[0])}s"
    if origin is dict or hint is dict:
        return "a table"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(hint, str(hint))


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


class _Locator:
    """Finds the line of a key in pyproject.toml so errors can say file:line."""

    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def at(self, section: str, key: str) -> str | None:
        if self.path is None:
            return None
        header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]")
        in_section = False
        for number, line in enumerate(self.lines, start=1):
            if line.lstrip().startswith("["):
                in_section = bool(header.match(line))
                if in_section and section.endswith("." + key):
                    return f"{self.path}:{number}"
                continue
            if in_section and re.match(r"^\s*" + re.escape(key) + r"\s*=", line):
                return f"{self.path}:{number}"
        # Sub-tables ([tool.dbops.schemas.healthcare]) or dotted keys: look for the key anywhere.
        for number, line in enumerate(self.lines, start=1):
            if re.search(r"(^|[.\[\s])" + re.escape(key) + r"(\s*=|\s*\]|\.)", line):
                return f"{self.path}:{number}"
        return str(self.path)

    def unknown(self, section: str, key: str, known: Any) -> ConfigError:
        import difflib  # only on this error path: keeps every command's start light

        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(sorted(known))}"
        return ConfigError(f"unknown setting '{section}.{key}'", location=self.at(section, key), hint=hint)

    def bad_type(self, section: str, key: str, hint: Any, value: Any) -> ConfigError:
        return ConfigError(
            f"setting '{section}.{key}' must be {_type_name(hint)}, not {value!r}",
            location=self.at(section, key),
            hint="fix the value in pyproject.toml",
        )
