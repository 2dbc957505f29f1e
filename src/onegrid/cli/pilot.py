"""`onegrid pilot`: the worker-node agent (pulls jobs from the server and runs them)."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from pathlib import Path

import typer

from onegrid.cli._common import print_json, settings_from
from onegrid.errors import InvalidInput


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def register(app: typer.Typer) -> None:
    @app.command("pilot")
    def pilot(
        ctx: typer.Context,
        server: str = typer.Option(None, "--server", help="server URL (or ONEGRID_SERVER)"),
        site: str = typer.Option(..., "--site"),
        queue: str = typer.Option(..., "--queue"),
        cores: int = typer.Option(1, "--cores", min=1),
        platform: str = typer.Option("EL9", "--platform"),
        containers: str = typer.Option("", "--containers",
                                       help="PLATFORM=IMAGE,... run in Apptainer (e.g. EL7=/cvmfs/el7.sif)"),
        tags: str = typer.Option("", "--tags", help="e.g. MultiCore,GPU"),
        ram_mb: int = typer.Option(0, "--ram-mb"),
        idle: float = typer.Option(60, "--idle", help="exit after this many seconds without a match"),
        poll: float = typer.Option(None, "--poll", help="seconds between match requests"),
        heartbeat: float = typer.Option(None, "--heartbeat", help="seconds between job heartbeats"),
        workdir: Path = typer.Option(None, "--workdir"),
        pilot_id: str = typer.Option(None, "--pilot-id"),
        max_jobs: int = typer.Option(0, "--max-jobs", help="stop asking after this many (0: no limit)"),
        token_file: Path = typer.Option(None, "--token-file", help="else ONEGRID_PILOT_TOKEN / ONEGRID_TOKEN"),
    ) -> None:
        """Pull matching jobs while cores are free, run them, report; exit when idle."""
        from onegrid.clock import SystemClock
        from onegrid.wms.pilot.agent import Pilot, PilotConfig

        settings = settings_from(ctx)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s pilot %(levelname)s %(message)s")
        token = (token_file.read_text().strip() if token_file else None) or os.environ.get(
            "ONEGRID_PILOT_TOKEN") or os.environ.get("ONEGRID_TOKEN") or os.environ.get("BEARER_TOKEN")
        if not token:
            raise InvalidInput("no pilot token: --token-file, ONEGRID_PILOT_TOKEN or ONEGRID_TOKEN")
        images = {}
        for item in _split(containers):
            plat, _, image = item.partition("=")
            images[plat.upper()] = image
        pid = pilot_id or f"pilot-{uuid.uuid4().hex[:12]}"
        cfg = PilotConfig(
            server=server or os.environ.get("ONEGRID_SERVER") or settings.server_url, token=token, site=site,
            queue=queue, pilot_id=pid, workdir=workdir or Path(tempfile.mkdtemp(prefix=f"{pid}-")),
            cores=cores, platform=platform.upper(), container_platforms=list(images), container_images=images,
            tags=_split(tags), ram_mb=ram_mb, idle_seconds=idle,
            poll_seconds=poll if poll is not None else settings.wms.pilot_poll_seconds,
            heartbeat_seconds=heartbeat if heartbeat is not None else settings.wms.heartbeat_seconds,
            max_jobs=max_jobs, storage_token=os.environ.get("ONEGRID_STORAGE_TOKEN") or None)
        done = Pilot(cfg, SystemClock()).run()
        print_json({"pilot_id": pid, "jobs": done})
