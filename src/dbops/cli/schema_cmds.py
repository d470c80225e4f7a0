"""`dbops generate|migrate|deploy|status|reset|seed|studio` (minimal until the schemas issue lands)."""

from __future__ import annotations

import typer

from dbops.cli.common import DatabaseUrlOpt, SchemaArg, state


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @app.command("migrate")
    def migrate(schema: SchemaArg = None, database_url: DatabaseUrlOpt = None) -> None:
        """Apply pending migrations (dev; starts the local database if needed)."""
        from dbops.migrate import upgrade

        st = state()
        selected = st.schemas(schema)
        for sch in selected:
            url = st.url_for(sch, database_url, single=schema is not None)
            applied = upgrade(st.settings, sch, url)
            if applied:
                st.console.print(f"{sch.name}: applied {len(applied)} revision(s): {', '.join(applied)}")
            else:
                st.console.print(f"{sch.name}: up to date")
