"""`onegrid daemon NAME`: run one of the agents that make the grid move."""

from __future__ import annotations

import logging

import typer

from onegrid.cli._common import print_json, settings_from


def register(app: typer.Typer) -> None:
    @app.command("daemon")
    def daemon(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="judge, conveyor, reaper, placement, wms, watchdog, site-director"),
        once: bool = typer.Option(False, "--once", help="run a single cycle and exit"),
        worker_id: str = typer.Option(None, "--worker-id", help="name of this copy (default: random)"),
    ) -> None:
        """Run a daemon until SIGTERM (several copies share work by leases)."""
        from onegrid.daemon import DaemonLoop, load_agent
        from onegrid.db.migrate import upgrade
        from onegrid.runtime import Runtime

        settings = settings_from(ctx)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        upgrade(settings.effective_database_url)
        runtime = Runtime.create(settings)
        try:
            loop = DaemonLoop(load_agent(name, runtime, worker_id), runtime)
            loop.install_signal_handlers()
            totals = loop.run(once=once)
            if once:
                print_json(dict(totals))
        finally:
            runtime.close()
