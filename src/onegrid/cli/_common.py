"""Helpers shared by the command modules: settings, output as tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from onegrid.config import Settings, load_settings

console = Console()
err_console = Console(stderr=True)


def settings_from(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    config = (root.obj or {}).get("config") if root.obj else None
    return load_settings(config)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str, sort_keys=False))


def print_table(rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def output(rows: list[dict[str, Any]], columns: Sequence[str], *, as_json: bool, title: str | None = None) -> None:
    """Every list command: a Rich table for people, `--json` for programs."""
    if as_json:
        print_json(rows)
    else:
        print_table(rows, columns, title)


JsonOption = typer.Option(False, "--json", help="print JSON instead of a table")
