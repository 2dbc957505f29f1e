"""`onegrid db upgrade|init`: migrations and the root account."""

from __future__ import annotations

import typer

from onegrid.cli._common import settings_from


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Database migrations and initialisation.", no_args_is_help=True)

    @group.command("upgrade")
    def upgrade_cmd(ctx: typer.Context) -> None:
        """Apply every pending migration."""
        from onegrid.db.migrate import upgrade

        settings = settings_from(ctx)
        upgrade(settings.effective_database_url)
        typer.echo(f"database at {settings.effective_database_url} is up to date")

    @group.command("init")
    def init_cmd(
        ctx: typer.Context,
        root_password: str = typer.Option(..., "--root-password", help="password of the root account"),
        root_account: str = typer.Option("root", "--root-account"),
    ) -> None:
        """Upgrade the database and create the root account (a second run changes nothing)."""
        from onegrid.bootstrap import init_database

        settings = settings_from(ctx)
        created = init_database(settings, root_account=root_account, root_password=root_password)
        if created:
            typer.echo(f"database initialised; root account '{root_account}' created")
        else:
            typer.echo(f"database already initialised; root account '{root_account}' exists, nothing changed")

    app.add_typer(group, name="db")
