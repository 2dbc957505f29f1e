"""`onegrid server`: the REST API on uvicorn."""

from __future__ import annotations

import os
import socket

import typer

from onegrid.cli._common import settings_from


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket; `::` accepts IPv4 too (asyncio would make it IPv6-only)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and host in ("::", "[::]"):
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


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
        sock = listening_socket(host, port)
        level = settings.log_level.lower()
        if workers > 1:
            # Each worker builds its app from the same settings (passed on by environment).
            root = ctx.find_root()
            config_file = (root.obj or {}).get("config") if root.obj else None
            if config_file:
                os.environ["ONEGRID_CONFIG"] = str(config_file)
            uvicorn.run("onegrid.api:app_from_environment", factory=True, fd=sock.fileno(), workers=workers,
                        log_level=level)
            return
        config = uvicorn.Config(create_app(Runtime.create(settings)), log_level=level)
        uvicorn.Server(config).run(sockets=[sock])
