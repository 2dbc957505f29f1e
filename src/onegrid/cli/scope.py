"""`onegrid scope`: add and list scopes (the namespaces of DIDs)."""

from __future__ import annotations

import typer

from onegrid.cli._common import output, settings_from
from onegrid.client.catalog import CatalogClient, connect

ServerOpt = typer.Option(None, "--server", help="server URL (or ONEGRID_SERVER)")
TokenOpt = typer.Option(None, "--token", help="access token (or ONEGRID_TOKEN / BEARER_TOKEN)")
JsonOpt = typer.Option(False, "--json", help="print JSON instead of a table")


def catalog(ctx: typer.Context, server: str | None, token: str | None) -> CatalogClient:
    return connect(server, token, default_server=settings_from(ctx).server_url)


def register(app: typer.Typer) -> None:
    scope_app = typer.Typer(help="Scopes: the namespaces of DIDs.", no_args_is_help=True)
    app.add_typer(scope_app, name="scope")

    @scope_app.command("add")
    def add(ctx: typer.Context, scope: str, account: str = typer.Option(..., "--account", help="owner"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        catalog(ctx, server, token).add_scope(scope, account)
        output([{"scope": scope, "account": account}], ("scope", "account"), as_json=as_json)

    @scope_app.command("list")
    def list_(ctx: typer.Context, account: str = typer.Option(None, "--account", help="only this owner's"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        cat = catalog(ctx, server, token)
        rows = [{"scope": s, "account": account} for s in cat.list_scopes(account)] if account else \
            cat.scope_owners()
        output(rows, ("scope", "account"), as_json=as_json)
