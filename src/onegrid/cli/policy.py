"""`onegrid policy add|list|delete`: scope policies (which scopes members may receive)."""

from __future__ import annotations

import typer

from onegrid.cli._common import output
from onegrid.cli.login import JsonOpt, ServerOpt, TokenOpt, client

POLICY_COLUMNS = ("id", "rule", "matching", "account", "group", "scopes", "description")


def _rows(rows: list[dict[str, object]], as_json: bool) -> list[dict[str, object]]:
    if as_json:
        return rows
    return [{**r, "scopes": " ".join(r["scopes"])} for r in rows]  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    policy_app = typer.Typer(help="Scope policies: PERMIT/DENY scopes for an account or a group.",
                             no_args_is_help=True)
    app.add_typer(policy_app, name="policy")

    @policy_app.command("add")
    def add(ctx: typer.Context,
            rule: str = typer.Argument(..., help="PERMIT or DENY"),
            scopes: list[str] = typer.Argument(..., help="e.g. storage.modify:/belle/raw compute.create"),
            group: str = typer.Option(None, "--group", help="the group it applies to"),
            account: str = typer.Option(None, "--account", help="the account it applies to (root only)"),
            matching: str = typer.Option("PATH", "--matching", help="PATH, EQ or REGEXP"),
            description: str = typer.Option("", "--description"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Add a policy; DENY beats PERMIT, account policies come before group policies."""
        with client(ctx, server, token) as grid:
            row = grid.iam.add_policy(rule, scopes, account=account, group=group, matching=matching,
                                      description=description)
        output(_rows([row], as_json), POLICY_COLUMNS, as_json=as_json)

    @policy_app.command("list")
    def list_(ctx: typer.Context, group: str = typer.Option(None, "--group"),
              account: str = typer.Option(None, "--account"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            rows = grid.iam.list_policies(account=account, group=group)
        output(_rows(rows, as_json), POLICY_COLUMNS, as_json=as_json, title="scope policies")

    @policy_app.command("delete")
    def delete(ctx: typer.Context, policy_id: int, server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            row = grid.iam.delete_policy(policy_id)
        output(_rows([row], as_json), POLICY_COLUMNS, as_json=as_json)
