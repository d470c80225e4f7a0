"""`dbops check indexes` (stub until the health audit lands)."""

from __future__ import annotations

import typer

from dbops.cli.common import not_built


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @check_app.command("indexes")
    def check_indexes() -> None:
        """Index and schema health audit of a live database (read-only)."""
        not_built("check indexes")
