"""`dbops check locks` and `dbops rules` (stub until the lint lands)."""

from __future__ import annotations

import typer

from dbops.cli.common import not_built


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @check_app.command("locks")
    def check_locks() -> None:
        """Lock-safety lint of Alembic revisions and .sql files."""
        not_built("check locks")

    @app.command("rules")
    def rules() -> None:
        """The lint rules and their documentation."""
        not_built("rules")
