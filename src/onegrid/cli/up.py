"""`onegrid up`: a whole grid on this machine, from one sites file."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from onegrid.cli._common import console

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "onegrid" / "grid"


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up(
        sites: Path | None = typer.Option(None, help="sites file (TOML); default: the Belle II grid of the seed"),
        data_dir: Path = typer.Option(DEFAULT_DATA_DIR, help="where the grid keeps its database, files and logs"),
        port: int | None = typer.Option(None, help="server port (default 8080, or the one of the last run)"),
    ) -> None:
        """Start the server, daemons, storage endpoints and compute queues; Ctrl-C stops them."""
        from onegrid.clock import SystemClock
        from onegrid.grid.up import Grid

        clock = SystemClock()
        grid = Grid.plan(data_dir, sites, port, clock=clock)
        stop_on_sigterm()
        try:
            with console.status("starting") as status:
                grid.start(on_step=lambda step: status.update(f"starting {step}"))
            print_banner(grid)
            while True:
                for proc in grid.supervisor.dead():
                    console.print(f"[red]{proc.name} stopped[/red] (log: {proc.log_path}); restarting")
                    grid.supervisor.start(proc.name, proc.argv)
                clock.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            console.print("stopping the grid …")
            grid.stop()
            console.print("stopped")


def stop_on_sigterm() -> None:
    """SIGTERM stops the grid as Ctrl-C does (the `finally` that stops every process runs)."""

    def _interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)


def print_banner(grid: object) -> None:
    from onegrid.grid.up import DEMO_USER, DEMO_USER_PASSWORD, Grid

    assert isinstance(grid, Grid)
    lay = grid.layout
    console.print(f"[bold green]OneGrid is up[/bold green]: {len(grid.sites.site)} sites, "
                  f"{len(grid.sites.storage_elements)} storage elements, {len(grid.sites.queues)} compute queues")
    console.print(f"  server and dashboard  {lay.server_url}/")
    console.print(f"  root password         {grid.root_password}  (kept in {lay.data_dir / 'root-password'})")
    console.print(f"  a user                {DEMO_USER} / {DEMO_USER_PASSWORD}")
    console.print(f"  log in                onegrid login --server {lay.server_url} --account {DEMO_USER} "
                  f"--password {DEMO_USER_PASSWORD}")
    console.print(f"  logs                  {lay.log_dir}")
    console.print("Ctrl-C stops every process of the grid.")
