"""`dbops generate` (stub until the typegen lands)."""

from __future__ import annotations

import typer

from dbops.cli.common import not_built


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @app.command("generate")
    def generate() -> None:
        """Write each schema's typed database-types module from its models."""
        not_built("generate")
