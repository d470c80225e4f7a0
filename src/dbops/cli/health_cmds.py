"""`dbops check indexes`: index and schema health audit of a live database (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli.common import FormatOpt, OutputFormat, SchemaArg, emit_report, state
from dbops.cli.render import render_report

if TYPE_CHECKING:
    from dbops.config import Settings
    from dbops.findings import Report



def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @check_app.command("indexes")
    def check_indexes(
        schema: SchemaArg = None,
        database_url: Annotated[
            list[str] | None,
            typer.Option(
                "--database-url",
                help="Database URL (with a single SCHEMA). Repeat it: the first is the primary, the others its "
                "replicas (an index is then 'unused' only when unused on all of them).",
                show_default=False,
            ),
        ] = None,
        schema_only: Annotated[
            bool, typer.Option("--schema-only", help="Only the schema checks (no statistics needed: CI on a fresh database).")
        ] = False,
        exclude: Annotated[
            list[str] | None,
            typer.Option("--exclude", help="Skip objects whose name matches this glob (schema.name or name); repeatable.",
                         show_default=False),
        ] = None,
        exclude_schema: Annotated[
            list[str] | None,
            typer.Option("--exclude-schema", help="Skip this PostgreSQL schema (namespace); repeatable.",
                         show_default=False),
        ] = None,
        min_size: Annotated[
            int | None,
            typer.Option("--min-size", help="Skip tables and indexes smaller than this many bytes.",
                         show_default=False, min=0),
        ] = None,
        pg_schema: Annotated[
            list[str] | None,
            typer.Option("--pg-schema", help="Audit only this PostgreSQL schema (namespace); repeatable. "
                         "Default: every non-system schema.", show_default=False),
        ] = None,
        fmt: FormatOpt = None,
    ) -> None:
        """Index and schema health audit of a live database (read-only, safe on a production primary).

        With a URL (--database-url or DATABASE_URL) and no SCHEMA it audits that database,
        whatever it holds: every non-system PostgreSQL schema, or those named with --pg-schema.
        One read-only transaction per server with statement_timeout/lock_timeout,
        catalog and statistics reads only, a constant number of queries. Exit 1
        when an error-severity finding exists.
        """
        from dbops.config.urls import validate_url
        from dbops.findings import Report
        from dbops.health import audit

        st = state()
        if schema is not None and schema not in st.settings.schemas:
            from dbops.errors import UsageError

            raise UsageError(
                f"unknown schema {schema!r}: SCHEMA is one of the project's ({', '.join(st.settings.schemas) or 'none'})",
                hint=f"to audit the PostgreSQL schema {schema!r} of a database: "
                f"`dbops check indexes --database-url … --pg-schema {schema}`",
            )
        settings = _with_exclusions(st.settings, exclude_schema, min_size)
        urls = list(database_url or []) or ([st.database_url] if st.database_url else [])
        replicas = [validate_url(u, "--database-url") for u in urls[1:]]
        results: list[tuple[str, Report]] = []
        targets: list[tuple[str, str]] = []
        if schema is None and (urls or st.env.get("DATABASE_URL")):
            # A DBA audits a database: the one named, whatever it holds (not one of the project's schemas).
            source = "--database-url" if urls else "env:DATABASE_URL"
            primary = validate_url(urls[0] if urls else st.env["DATABASE_URL"], source.removeprefix("env:"))
            from dbops.config import database_name, mask_url

            st.note(f"auditing database {database_name(primary) or '(default)'}: {mask_url(primary)} (from {source})")
            targets.append(("", primary))
        else:
            for sch in st.schemas(schema):
                targets.append((sch.name, st.url_for(sch, urls[0] if urls else None, single=schema is not None)))
        for name, primary in targets:
            what = f"{name or 'database'}: auditing" + (f" (primary + {len(replicas)} replica(s))" if replicas else "")
            with st.err.status(what + "…"):
                report = audit([primary, *replicas], settings, schema_only=schema_only, exclude=exclude or (),
                               pg_schemas=pg_schema or None)
            results.append((name, report))
        if len(results) == 1:
            combined = results[0][1]
        else:
            combined = Report()
            for name, report in results:
                for finding in report.findings:
                    finding.details.setdefault("schema", name)
                combined.extend(report, prefix=name)
        chosen = st.output_format(fmt)
        if chosen is OutputFormat.text:
            for name, report in results:
                render_report(st.console, report, title=f"{name}: {_headline(report)}" if name else _headline(report))
            code = combined.exit_code()
        else:
            code = emit_report(combined, chosen)
        raise typer.Exit(code)


def _with_exclusions(settings: Settings, schemas: list[str] | None, min_size: int | None) -> Settings:
    """The settings with the command line's exclusions added to ``[tool.dbops.indexes]``'s."""
    from dataclasses import replace

    changes: dict = {}
    if schemas:
        changes["exclude_schemas"] = [*settings.indexes.exclude_schemas, *schemas]
    if min_size is not None:
        changes["min_table_size_bytes"] = changes["min_index_size_bytes"] = min_size
    return replace(settings, indexes=replace(settings.indexes, **changes)) if changes else settings


def _headline(report: Report) -> str:
    s = report.summary
    count = len(s.get("checks", []))
    kind = "schema check" if s.get("schema_only") else "check"
    servers = len(s.get("servers", [])) or 1
    where = f"database {s.get('database')}" + (f" + {servers - 1} replica(s)" if servers > 1 else "")
    return (f"{where}: {count} {kind}{'s' if count != 1 else ''} in {s.get('queries')} queries, "
            f"{s.get('elapsed_ms')} ms")
