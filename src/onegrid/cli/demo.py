"""`onegrid demo`: a whole grid in a fresh temporary folder and a scripted experiment day."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from onegrid.cli._common import console


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        keep: bool = typer.Option(False, "--keep", help="keep the grid (and its dashboard) up after the story"),
        data_dir: Path | None = typer.Option(None, help="use this folder instead of a fresh temporary one"),
        port: int = typer.Option(8080, help="server port"),
    ) -> None:
        """Start a grid and run an experiment day on it, narrated (about two minutes)."""
        from onegrid.cli.up import stop_on_sigterm
        from onegrid.clock import SystemClock
        from onegrid.grid.demo import run_demo

        clock = SystemClock()
        stop_on_sigterm()
        with tempfile.TemporaryDirectory(prefix="onegrid-demo-") as tmp:
            folder = data_dir or Path(tmp)
            try:
                run_demo(folder, port=port, console=console, clock=clock, keep=keep)
            except KeyboardInterrupt:
                raise typer.Exit(130) from None
