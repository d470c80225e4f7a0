"""``dbops check all``: every check CI needs that needs no production database, one Report.

- lock safety of each schema's Alembic revisions (``workflows.locks.lint_schema_revisions``);
- static query budgets (``dbops.budgets.check_static``), and the budgeted SQL
  being what the repository methods send (``dbops.budgets.sync.sync_findings``);
- generated database types up to date (``dbops.typegen.generate(check=True)``);
- models equal migrations: each schema's shadow database (``workflows.shadow``:
  migrated to head on the local cluster, or the server of ``admin_url``),
  compared with ``dbops.drift.model_drift``, then dropped.

Each part's summary nests under its name (per schema where it runs per
schema), ``summary.checks`` counts each part's findings by severity;
findings keep their own rule ids (``types-stale`` and ``model-drift`` for
the last two). One exit code: ``Report.exit_code()``.

As a CI step (GitHub Actions; annotations on the pull request's lines)::

    - name: dbops check all
      run: dbops check all --format github

and as a pre-commit hook (``.pre-commit-config.yaml``)::

    - repo: local
      hooks:
        - id: dbops-check-all
          name: dbops check all
          entry: dbops check all
          language: system
          pass_filenames: false
          files: ^(migrations/|src/platformdb/|budgets\\.yaml$)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dbops.budgets import budgets_path, check_static, load_project_budgets
from dbops.config import SchemaSettings, Settings, display_path
from dbops.drift import drift_finding, model_drift
from dbops.findings import Finding, Report, Severity
from dbops.typegen import generate
from dbops.workflows.locks import lint_schema_revisions
from dbops.workflows.shadow import shadow_database

CHECKS = ("locks", "budgets", "types", "drift")


def check_all(
    settings: Settings,
    *,
    admin_url: str | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Lock safety + static budgets + generated types + model/migration drift, for every schema."""
    say = progress or (lambda _message: None)
    report = Report()
    parts: dict[str, list[Finding]] = {name: [] for name in CHECKS}

    def add(check: str, sub: Report, schema: str | None = None) -> None:
        report.findings.extend(sub.findings)
        parts[check].extend(sub.findings)
        if schema is None:
            report.summary[check] = sub.summary
        else:
            report.summary.setdefault(check, {})[schema] = sub.summary

    for schema in settings.schemas.values():
        say(f"{schema.name}: lock safety of the revisions")
        add("locks", check_locks(settings, schema), schema.name)
    say("static query budgets")
    add("budgets", check_budgets_static(settings))
    for schema in settings.schemas.values():
        say(f"{schema.name}: generated types")
        add("types", check_types(settings, schema), schema.name)
    for schema in settings.schemas.values():
        say(f"{schema.name}: models against migrations (shadow database)")
        add("drift", check_drift(settings, schema, admin_url=admin_url, env=env), schema.name)
    report.summary["checks"] = {name: Report(found).counts() for name, found in parts.items()}
    return report


def check_locks(settings: Settings, schema: SchemaSettings) -> Report:
    """The lock-safety lint of the schema's revisions."""
    return lint_schema_revisions(settings, schema)


def check_budgets_static(settings: Settings) -> Report:
    """Static budgets of every schema (an info finding when the project has no budgets file)."""
    path = budgets_path(settings)
    if not path.is_file():
        return Report([Finding("budgets-missing", Severity.INFO, f"no budgets file ({settings.budgets.file})",
                               check="budgets", fix="document the hot queries in budgets.yaml")],
                      {"queries": [], "broken": 0})
    from dbops.budgets.sync import sync_findings

    report = check_static(load_project_budgets(settings), settings)
    return Report(report.findings + sync_findings(settings), report.summary.get("budgets", {}))


def check_types(settings: Settings, schema: SchemaSettings) -> Report:
    """A ``types-stale`` error when the committed database-types module differs from the models."""
    result = generate(settings, schema, check=True)
    shown = display_path(result.path, settings.root)
    summary = {"file": shown, "stale": result.changed}
    if not result.changed:
        return Report([], summary)
    return Report([Finding(
        "types-stale", Severity.ERROR, f"{shown} is stale: it differs from the {schema.name} models",
        file=shown, line=1, check="types", fix=f"dbops generate {schema.name}",
        details={"diff": result.diff},
    )], summary)


def check_drift(
    settings: Settings, schema: SchemaSettings, *, admin_url: str | None = None, env: Mapping[str, str] | None = None
) -> Report:
    """Compare the models with a shadow database migrated to head (``model-drift`` errors)."""
    with shadow_database(settings, schema, admin_url=admin_url, env=env) as url:
        differences = model_drift(settings, schema, url)
    findings = [drift_finding(settings, schema, difference, "the migrations differ from the models")
                for difference in differences]
    return Report(findings, {"differences": len(differences)})
