"""`onegrid server`: the REST API on uvicorn."""

from __future__ import annotations

import typer

from onegrid.cli._common import settings_from


def register(app: typer.Typer) -> None:
    @app.command("server")
    def server(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", help="address to listen on ('::' for IPv6 and IPv4)"),
        port: int = typer.Option(8080, help="port to listen on"),
        workers: int = typer.Option(1, help="uvicorn worker processes"),
    ) -> None:
        """Run the REST API server."""
        import uvicorn

        from onegrid.api import create_app
        from onegrid.db.migrate import upgrade
        from onegrid.runtime import Runtime

        settings = settings_from(ctx)
        upgrade(settings.effective_database_url)
        runtime = Runtime.create(settings)
        uvicorn.run(create_app(runtime), host=host, port=port, log_level=settings.log_level.lower(),
                    workers=workers if workers > 1 else None)
