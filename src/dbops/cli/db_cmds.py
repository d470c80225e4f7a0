"""`dbops db start|stop|status|url`: the local (embedded) PostgreSQL."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dbops.cli.common import OutputFormat, SchemaArg, state
from dbops.cli.tables import print_table

if TYPE_CHECKING:
    from dbops.localdb import ClusterStatus


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    db_app = typer.Typer(
        help="The local PostgreSQL cluster dbops runs when no database URL is configured.",
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    app.add_typer(db_app, name="db")

    @db_app.command("start")
    def start() -> None:
        """Initialise (once) and start the local cluster; create the schemas' databases."""
        from dbops.localdb import local_cluster

        st = state()
        cluster = local_cluster(st.settings, env=st.env, log=st.note)
        cluster.start()
        for schema in st.settings.schemas.values():
            cluster.ensure_database(schema.database)
        _print_status(cluster.status(), None)

    @db_app.command("stop")
    def stop() -> None:
        """Stop the local cluster (its data stays)."""
        from dbops.localdb import local_cluster

        st = state()
        status = local_cluster(st.settings, env=st.env, log=st.note).stop()
        st.console.print(f"stopped (data kept in {status.base / 'data'})" if status.initialised else "not initialised")

    @db_app.command("status")
    def status(
        fmt: Annotated[OutputFormat | None, typer.Option("--format", "-f", help="text or json.")] = None,
    ) -> None:
        """Show whether the local cluster is initialised and running (exit 1 when not running)."""
        from dbops.localdb import local_cluster

        st = state()
        current = local_cluster(st.settings, env=st.env, log=st.note).status()
        _print_status(current, st.output_format(fmt))
        if not current.running:
            raise typer.Exit(1)

    @db_app.command("url")
    def url(schema: SchemaArg = None) -> None:
        """Print the URL of SCHEMA's database on the local cluster (psql, psycopg and SQLAlchemy accept it).

        Without SCHEMA: one VARIABLE='URL' line per schema, named by its url_env
        (HEALTHCARE_DATABASE_URL…), so that `eval "$(dbops db url)"` exports them all.
        """
        import shlex

        from dbops.localdb import local_cluster

        st = state()
        cluster = local_cluster(st.settings, env=st.env, log=st.note)
        if schema is not None:
            typer.echo(cluster.ensure_database(st.settings.schema(schema).database))
            return
        for sch in st.settings.schemas.values():
            variable = sch.url_env or f"{sch.name.upper()}_DATABASE_URL"
            typer.echo(f"{variable}={shlex.quote(cluster.ensure_database(sch.database))}")


def _print_status(status: ClusterStatus, fmt: OutputFormat | None) -> None:
    st = state()
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(status.to_dict(), indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    table.add_row("state", "[green]running[/green]" if status.running else ("stopped" if status.initialised else "not initialised"))
    table.add_row("version", f"PostgreSQL {status.version}")
    table.add_row("data", str(status.base / "data"))
    if status.socket_dir:
        table.add_row("socket", f"{status.socket_dir} (port {status.port})")
    if status.pid:
        table.add_row("pid", str(status.pid))
    print_table(st.console, table)
