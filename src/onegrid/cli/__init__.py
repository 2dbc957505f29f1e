"""The `onegrid` command. Each module in this package adds one command group through
its `register(app)`; `main()` turns every OneGrid error into one line and exit code 1."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer

from onegrid.errors import OneGridError

app = typer.Typer(
    name="onegrid",
    help="OneGrid: the whole computing grid of an experiment in one system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML settings file (or ONEGRID_CONFIG)", envvar="ONEGRID_CONFIG")
    ] = None,
) -> None:
    ctx.obj = {"config": config}


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    try:
        app(standalone_mode=False)
    except OneGridError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except httpx.ConnectError as exc:
        typer.echo(f"error: cannot reach the server: {exc}", err=True)
        sys.exit(1)
    except httpx.HTTPError as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors come here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
