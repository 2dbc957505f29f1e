"""`onegrid key list|rotate`: the token signing keys (root)."""

from __future__ import annotations

import typer

from onegrid.cli._common import output
from onegrid.cli.login import JsonOpt, ServerOpt, TokenOpt, client

KEY_COLUMNS = ("kid", "alg", "signing", "created_at", "retired_at")


def register(app: typer.Typer) -> None:
    key_app = typer.Typer(help="Token signing keys: list and rotate.", no_args_is_help=True)
    app.add_typer(key_app, name="key")

    @key_app.command("list")
    def list_(ctx: typer.Context, server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        with client(ctx, server, token) as grid:
            rows = grid.iam.list_keys()
        output(rows, KEY_COLUMNS, as_json=as_json, title="signing keys")

    @key_app.command("rotate")
    def rotate(ctx: typer.Context, server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Sign with a new key from now on; older keys keep verifying until retired."""
        with client(ctx, server, token) as grid:
            row = grid.iam.rotate_key()
        output([{**row, "retired": " ".join(row["retired"]) if not as_json else row["retired"]}],
               ("kid", "alg", "retired"), as_json=as_json)
