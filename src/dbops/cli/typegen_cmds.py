"""`dbops generate [SCHEMA] [--check]` and `dbops check types`: the database-types modules."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dbops.cli.common import SchemaArg, state
from dbops.config import display_path


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        schema: SchemaArg = None,
        check: Annotated[
            bool, typer.Option("--check", help="Write nothing; exit 1 and show a diff when a file is stale.")
        ] = False,
    ) -> None:
        """Write each schema's typed database-types module from its models (no database needed)."""
        raise typer.Exit(_run(schema, check=check))

    @check_app.command("types")
    def check_types(schema: SchemaArg = None) -> None:
        """Exit 1 (with a diff) when a committed database-types module is stale."""
        raise typer.Exit(_run(schema, check=True))


def _run(schema: str | None, *, check: bool) -> int:
    from dbops.typegen import generate as generate_types

    st = state()
    stale = 0
    for sch in st.schemas(schema):
        result = generate_types(st.settings, sch, check=check)
        shown = display_path(result.path, st.settings.root)
        if not result.changed:
            st.console.print(f"{sch.name}: {shown} up to date")
        elif check:
            stale += 1
            sys.stdout.write(result.diff if result.diff.endswith("\n") else result.diff + "\n")
            st.console.print(f"{sch.name}: {shown} is stale — run `dbops generate {sch.name}`")
        else:
            st.console.print(f"{sch.name}: wrote {shown}")
    return 1 if stale else 0


