"""`onegrid config show`: the effective settings."""

from __future__ import annotations

import typer

from onegrid.cli._common import print_json, settings_from


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Show the effective settings.", no_args_is_help=True)

    @group.command("show")
    def show(ctx: typer.Context) -> None:
        """Print the effective settings (environment, config file, defaults) as JSON."""
        settings = settings_from(ctx)
        data = settings.model_dump(mode="json")
        data["effective_database_url"] = settings.effective_database_url
        print_json(data)

    app.add_typer(group, name="config")
