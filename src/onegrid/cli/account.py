"""`onegrid account add|list|show|suspend|activate|secret|password`: accounts (root)."""

from __future__ import annotations

import typer

from onegrid.cli._common import output, print_json
from onegrid.cli.login import JsonOpt, ServerOpt, TokenOpt, client

ACCOUNT_COLUMNS = ("name", "type", "status", "email", "created_at")


def register(app: typer.Typer) -> None:
    account_app = typer.Typer(help="Accounts: users, services, root.", no_args_is_help=True)
    app.add_typer(account_app, name="account")

    @account_app.command("add")
    def add(ctx: typer.Context, name: str,
            type_: str = typer.Option("USER", "--type", help="USER or SERVICE"),
            email: str = typer.Option(None, "--email"),
            password: str = typer.Option(None, "--password", help="a password (username = account name)"),
            group: list[str] = typer.Option([], "--group", help="a group to join, repeatable"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Create an account (root only). A SERVICE account gets a client secret, shown once."""
        with client(ctx, server, token) as grid:
            row = grid.iam.add_account(name, type=type_, email=email, password=password, groups=group)
            if row["type"] == "SERVICE":
                row["client_secret"] = grid.iam.add_client_secret(name, "created with the account")["client_secret"]
        output([row], (*ACCOUNT_COLUMNS, *(("client_secret",) if "client_secret" in row else ())), as_json=as_json)

    @account_app.command("list")
    def list_(ctx: typer.Context, type_: str = typer.Option(None, "--type", help="only USER, SERVICE or ROOT"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            rows = grid.iam.list_accounts(type=type_)
        output(rows, ACCOUNT_COLUMNS, as_json=as_json, title="accounts")

    @account_app.command("show")
    def show(ctx: typer.Context, name: str, server: str = ServerOpt, token: str = TokenOpt,
             as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            info = grid.iam.get_account(name)
        if as_json:
            print_json(info)
            return
        for key in (*ACCOUNT_COLUMNS, "suspended_at"):
            typer.echo(f"{key + ':':14}{info.get(key) or '-'}")
        typer.echo(f"{'usernames:':14}{' '.join(info['usernames']) or '-'}")
        typer.echo(f"{'groups:':14}{' '.join(info['groups']) or '-'}")
        for p in info["policies"]:
            typer.echo(f"{'policy:':14}#{p['id']} {p['rule']} {p['matching']} {' '.join(p['scopes'])}")

    @account_app.command("suspend")
    def suspend(ctx: typer.Context, name: str, server: str = ServerOpt, token: str = TokenOpt,
                as_json: bool = JsonOpt) -> None:
        """Suspend an account: its tokens stop working, it gets no new ones (root only)."""
        with client(ctx, server, token) as grid:
            row = grid.iam.suspend_account(name)
        output([row], ACCOUNT_COLUMNS, as_json=as_json)

    @account_app.command("activate")
    def activate(ctx: typer.Context, name: str, server: str = ServerOpt, token: str = TokenOpt,
                 as_json: bool = JsonOpt) -> None:
        """Reactivate a suspended account (root only)."""
        with client(ctx, server, token) as grid:
            row = grid.iam.activate_account(name)
        output([row], ACCOUNT_COLUMNS, as_json=as_json)

    @account_app.command("secret")
    def secret(ctx: typer.Context, name: str, description: str = typer.Option("", "--description"),
               server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """A new client secret for a SERVICE account (client_credentials), shown once."""
        with client(ctx, server, token) as grid:
            row = grid.iam.add_client_secret(name, description)
        output([row], ("client_id", "client_secret"), as_json=as_json)

    @account_app.command("password")
    def password(ctx: typer.Context, name: str,
                 new_password: str = typer.Option(..., "--password", prompt=True, hide_input=True),
                 server: str = ServerOpt, token: str = TokenOpt) -> None:
        """Set an account's password (your own, or any as root)."""
        with client(ctx, server, token) as grid:
            grid.iam.set_password(name, new_password)
        typer.echo(f"password of {name} set")
