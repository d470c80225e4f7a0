"""`dbops partitions` and `dbops backfill` (stub until they land)."""

from __future__ import annotations

import typer

from dbops.cli.common import not_built


def register(app: typer.Typer, check_app: typer.Typer) -> None:
    partitions_app = typer.Typer(help="Monthly partitions of the partitioned tables.", no_args_is_help=True)
    app.add_typer(partitions_app, name="partitions")

    @partitions_app.command("ensure")
    def ensure() -> None:
        """Create the next months' partitions; detach old ones with --retention."""
        not_built("partitions ensure")

    @app.command("backfill")
    def backfill() -> None:
        """Online batched backfill of a column (expand → migrate → contract)."""
        not_built("backfill")
