"""`dbops check locks` and `dbops rules`: parse arguments, call dbops.lint, render."""

from __future__ import annotations

from typing import Annotated

import typer

from dbops.cli.common import FormatOpt, emit_report, state


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @check_app.command("locks")
    def check_locks(
        paths: Annotated[
            list[str] | None,
            typer.Argument(help=".sql files or directories (`-` for stdin); omit to lint the Alembic revisions.",
                           show_default=False),
        ] = None,
        schema: Annotated[
            str | None, typer.Option("--schema", "-s", help="Lint this schema's revisions (default: every schema).",
                                     show_default=False)
        ] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only revisions after this revision id.", show_default=False)
        ] = None,
        assume_in_transaction: Annotated[
            bool | None,
            typer.Option("--assume-in-transaction/--no-assume-in-transaction",
                         help="The runner wraps each .sql file in a transaction.", show_default=False),
        ] = None,
        pg_version: Annotated[
            int | None, typer.Option("--pg-version", help="Target PostgreSQL major version (default: config, else 15).",
                                     show_default=False, min=9, max=99)
        ] = None,
        fmt: FormatOpt = None,
    ) -> None:
        """Lock-safety lint of Alembic revisions and .sql files."""
        from dbops.findings import Report
        from dbops.lint import RULES, lint_paths, lint_revisions

        st = state()
        settings = st.settings
        report = Report()
        if paths:
            report.extend(lint_paths(paths, settings, assume_in_transaction=assume_in_transaction,
                                     pg_version=pg_version), prefix="files")
        if not paths or schema:
            for schema_settings in settings.select(schema):
                part = lint_revisions(settings, schema_settings, since=since, pg_version=pg_version)
                report.extend(part, prefix=schema_settings.name)
        title = "dbops check locks"
        code = emit_report(report, fmt, title=title, rule_docs={r.id: r.summary for r in RULES.values()})
        raise typer.Exit(code)

    @app.command("rules")
    def rules(
        rule_id: Annotated[str | None, typer.Argument(help="A rule id (or a squawk/strong_migrations name).",
                                                      show_default=False)] = None,
    ) -> None:
        """The lint rules and their documentation."""
        from dbops.lint import RULES, rule_doc

        st = state()
        if rule_id:
            st.console.print(rule_doc(rule_id), markup=False, highlight=False)
            return
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None)
        table.add_column("rule")
        table.add_column("severity")
        table.add_column("what it flags")
        table.add_column("aliases", style="dim")
        for rule in sorted(RULES.values(), key=lambda r: r.id):
            table.add_row(rule.id, rule.severity.value, rule.summary, ", ".join(rule.alias_names()))
        st.console.print(table)
        st.console.print("`dbops rules ID` prints one rule's documentation.", style="dim", markup=False)
