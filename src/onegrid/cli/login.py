"""`onegrid login`, `whoami`, `token`: getting tokens and seeing what they hold."""

from __future__ import annotations

import typer

from onegrid.cli._common import print_json, settings_from
from onegrid.client import OneGridClient
from onegrid.client import auth as client_auth
from onegrid.errors import Unauthenticated
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE

ServerOpt = typer.Option(None, "--server", help="server URL (else ONEGRID_SERVER or the one saved by login)")
TokenOpt = typer.Option(None, "--token", help="access token (else ONEGRID_TOKEN / WLCG token discovery)")
JsonOpt = typer.Option(False, "--json", help="print JSON instead of a table")


def client(ctx: typer.Context, server: str | None, token: str | None) -> OneGridClient:
    """The client every IAM command uses: saved server, discovered token."""
    return client_auth.connect(server, token, default_server=settings_from(ctx).server_url)


def register(app: typer.Typer) -> None:
    @app.command("login")
    def login(
        ctx: typer.Context,
        server: str = ServerOpt,
        account: str = typer.Option(None, "--account", "-a", help="account (username) to log in as"),
        password: str = typer.Option(None, "--password", "-p", help="else asked for, or ONEGRID_PASSWORD",
                                     envvar="ONEGRID_PASSWORD"),
        scope: str = typer.Option(None, "--scope", help="scopes to ask for (default: what policies allow)"),
        audience: str = typer.Option(WLCG_ANY_AUDIENCE, "--audience",
                                     help="audience of the token (default: any, so it can be narrowed later)"),
        refresh: bool = typer.Option(False, "--refresh", help="renew with the saved refresh token instead"),
    ) -> None:
        """Log in; save the token where WLCG discovery finds it and the server URL for later."""
        saved = client_auth.load_config()
        url = client_auth.server_url(server, default_server=settings_from(ctx).server_url)
        with OneGridClient(url) as grid:
            if refresh:
                refresh_token = client_auth.load_refresh_token()
                if not refresh_token:
                    raise Unauthenticated("no saved refresh token: log in with --account and --password")
                answer = grid.iam.refresh_token(refresh_token, scope=scope)
                account = account or saved.account
            else:
                if not account:
                    account = typer.prompt("account")
                if not password:
                    password = typer.prompt("password", hide_input=True)
                answer = grid.iam.password_token(account, password, scope=scope, audience=audience)
        path = client_auth.save_token(answer["access_token"])
        refresh_file = client_auth.save_refresh_token(answer["refresh_token"]) if answer.get("refresh_token") else None
        client_auth.save_config(client_auth.ClientConfig(
            server_url=url, account=account,
            refresh_token_file=str(refresh_file) if refresh_file else saved.refresh_token_file))
        typer.echo(f"logged in to {url} as {account}; token in {path} (valid {answer['expires_in']} s)")
        typer.echo(f"scopes: {answer.get('scope') or '-'}")

    @app.command("logout")
    def logout() -> None:
        """Forget the saved token and refresh token (the server URL stays)."""
        for path in (client_auth.token_save_location(), client_auth.refresh_token_path()):
            if path.is_file():
                path.unlink()
                typer.echo(f"removed {path}")

    @app.command("whoami")
    def whoami(ctx: typer.Context, server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """The account, groups and scopes of the current token."""
        with client(ctx, server, token) as grid:
            me = grid.iam.whoami()
        if as_json:
            print_json(me)
            return
        typer.echo(f"account:  {me['account']} ({me['type']})")
        typer.echo(f"groups:   {' '.join(me['groups']) or '-'}")
        typer.echo(f"scopes:   {' '.join(me['scopes']) or '-'}")
        typer.echo(f"audience: {' '.join(me.get('audience', [])) or '-'}")
        typer.echo(f"issuer:   {me['issuer']}")

    @app.command("token")
    def token_cmd(
        ctx: typer.Context,
        scope: str = typer.Option(None, "--scope", help="e.g. 'storage.read:/belle/data' (must be within yours)"),
        audience: str = typer.Option(None, "--audience", help="e.g. https://se.example.org"),
        server: str = ServerOpt,
        token: str = TokenOpt,
        as_json: bool = JsonOpt,
    ) -> None:
        """Print a narrowed token (token exchange): fewer scopes, a narrower audience."""
        with client(ctx, server, token) as grid:
            answer = grid.iam.exchange_token(scope=scope, audience=audience)
        if as_json:
            print_json(answer)
        else:
            typer.echo(answer["access_token"])
