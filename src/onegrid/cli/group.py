"""`onegrid group add|list|members|add-member|remove-member`: VO groups and roles."""

from __future__ import annotations

import typer

from onegrid.cli._common import output
from onegrid.cli.login import JsonOpt, ServerOpt, TokenOpt, client

GROUP_COLUMNS = ("path", "role", "members", "description")


def register(app: typer.Typer) -> None:
    group_app = typer.Typer(help="VO groups (/belle/production) and roles (optional groups).", no_args_is_help=True)
    app.add_typer(group_app, name="group")

    @group_app.command("add")
    def add(ctx: typer.Context, path: str,
            role: bool = typer.Option(False, "--role", help="optional group, asserted only on request"),
            description: str = typer.Option("", "--description"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Create a group (root, or an administrator of its VO)."""
        with client(ctx, server, token) as grid:
            row = grid.iam.add_group(path, role=role, description=description)
        output([row], GROUP_COLUMNS, as_json=as_json)

    @group_app.command("list")
    def list_(ctx: typer.Context, under: str = typer.Option(None, "--under", help="only this group and below"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            rows = grid.iam.list_groups(under)
        output(rows, GROUP_COLUMNS, as_json=as_json, title="groups")

    @group_app.command("members")
    def members(ctx: typer.Context, path: str, server: str = ServerOpt, token: str = TokenOpt,
                as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            rows = [{"account": a} for a in grid.iam.list_members(path)]
        output(rows, ("account",), as_json=as_json, title=f"members of {path}")

    @group_app.command("add-member")
    def add_member(ctx: typer.Context, path: str, account: str, server: str = ServerOpt,
                   token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            row = grid.iam.add_member(path, account)
        output([row], ("group", "account"), as_json=as_json)

    @group_app.command("remove-member")
    def remove_member(ctx: typer.Context, path: str, account: str, server: str = ServerOpt,
                      token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            row = grid.iam.remove_member(path, account)
        output([row], ("group", "account"), as_json=as_json)
