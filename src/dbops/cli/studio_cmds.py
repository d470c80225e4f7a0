"""`dbops studio`: browse (and with --write, edit) the schemas' data in a local web UI."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from dbops.cli.common import DatabaseUrlOpt, SchemaArg, state


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @app.command("studio")
    def studio(
        schema: SchemaArg = None,
        write: Annotated[
            bool, typer.Option("--write", help="Allow inserting, editing and deleting rows (read-only by default).")
        ] = False,
        force: Annotated[bool, typer.Option("--force", help="Allow --write on a database that is not local.")] = False,
        port: Annotated[
            int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")
        ] = 0,
        no_browser: Annotated[
            bool, typer.Option("--no-browser", help="Do not open the browser; just print the URL.")
        ] = False,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        """Local web UI on 127.0.0.1: tables of both schemas (or SCHEMA), rows, filters, foreign keys.

        The printed URL carries a one-time token; the studio answers nothing without it.
        Read-only unless --write; --write is refused with DBOPS_ENV=production (prod, live), and on
        a database that is not on this machine unless --force (judged where libpq really connects).
        Columns that look like secrets (password, token, key, hash…) and [tool.dbops.studio]
        secret_columns are never shown.
        """
        from dbops.studio import StudioOptions, StudioServer, Target, check_write_allowed
        from dbops.studio.server import duration_ms

        st = state()
        single = schema is not None
        targets = []
        for sch in st.schemas(schema):
            resolved = st.resolve(sch, database_url, single=single)
            url = resolved.url or st.url_for(sch, database_url, single=single)
            targets.append(Target(sch.name, url, local=resolved.is_local))
        if write:
            check_write_allowed(targets, force=force, env=st.env, settings=st.settings)
        config = st.settings.studio
        options = StudioOptions(
            write=write,
            secret_columns=tuple(config.secret_columns),
            statement_timeout_ms=duration_ms(config.statement_timeout, origin="tool.dbops.studio.statement_timeout"),
            page_size=min(max(config.page_size, 1), 500),
        )
        server = StudioServer(targets, options, port=port).check()
        names = ", ".join(t.name for t in targets)
        mode = "read-write" if write else "read-only"
        st.console.print(f"dbops studio ({names}, {mode}) on {server.login_url}", markup=False)
        st.err.print("[dim]the link carries this run's token; Ctrl-C to stop[/dim]")
        if not no_browser:
            import webbrowser

            webbrowser.open(server.login_url)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn shuts down, then re-raises it
            server.serve_forever()
        st.err.print("studio stopped")
