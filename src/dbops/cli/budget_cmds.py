"""`dbops check budgets` and `dbops check all` (stub until budgets land)."""

from __future__ import annotations

import typer

from dbops.cli.common import not_built


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    @check_app.command("budgets")
    def check_budgets() -> None:
        """Query budgets from budgets.yaml, static and against a database."""
        not_built("check budgets")

    @check_app.command("all")
    def check_all() -> None:
        """Every check CI needs, one report, one exit code."""
        not_built("check all")
