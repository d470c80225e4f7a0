"""`dbops studio`: browse (and with --write, edit) a schema's data in a local web UI."""

from __future__ import annotations

from typing import Annotated

import typer

from dbops.cli.common import DatabaseUrlOpt, SchemaArg, state


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @app.command("studio")
    def studio(
        schema: SchemaArg = None,
        write: Annotated[bool, typer.Option("--write", help="Allow editing rows (read-only by default).")] = False,
        port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).")] = 0,
        force: Annotated[bool, typer.Option("--force", help="Allow --write on a database that is not local.")] = False,
        database_url: DatabaseUrlOpt = None,
    ) -> None:
        """Local web UI on 127.0.0.1 to browse a schema's tables (first schema when omitted)."""
        from dbops.config import is_local_url, mask_url
        from dbops.errors import RefusedError
        from dbops.studio import serve

        st = state()
        sch = st.schemas(schema)[0]
        url = st.url_for(sch, database_url, single=True)
        if write and not is_local_url(url) and not force:
            raise RefusedError(
                f"--write on {mask_url(url)}, which is not a local database",
                hint="browse it read-only (drop --write), or pass --force if you really mean to edit it",
            )

        def ready(server) -> None:
            mode = "read-write" if write else "read-only"
            st.console.print(f"dbops studio ({sch.name}, {mode}) on [bold]{server.url}[/bold] — Ctrl-C to stop")

        try:
            serve(url, title=sch.name, write=write, port=port, on_ready=ready)
        except KeyboardInterrupt:
            st.console.print("studio stopped")
