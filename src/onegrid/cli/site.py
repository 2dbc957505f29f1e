"""`onegrid site`: the site mask (ban, allow, list), compute queues and accounting."""

from __future__ import annotations

import typer

from onegrid.cli._common import output, print_json
from onegrid.cli.job import JsonOpt, ServerOpt, TokenOpt, client


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def register(app: typer.Typer) -> None:
    site_app = typer.Typer(help="Sites, the site mask and compute queues.", no_args_is_help=True)
    app.add_typer(site_app, name="site")

    @site_app.command("list")
    def list_(ctx: typer.Context, server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        output(client(ctx, server, token).sites(), ("site", "status", "reason", "changed_by", "changed_at"),
               as_json=as_json)

    @site_app.command("ban")
    def ban(ctx: typer.Context, site: str, reason: str = typer.Option("", "--reason"), server: str = ServerOpt,
            token: str = TokenOpt) -> None:
        """Banned sites get no new jobs (running ones go on)."""
        print_json(client(ctx, server, token).ban_site(site, reason))

    @site_app.command("allow")
    def allow(ctx: typer.Context, site: str, reason: str = typer.Option("", "--reason"), server: str = ServerOpt,
              token: str = TokenOpt) -> None:
        print_json(client(ctx, server, token).allow_site(site, reason))

    @site_app.command("queues")
    def queues(ctx: typer.Context, server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        output(client(ctx, server, token).queues(),
               ("name", "site", "platform", "tags", "cores", "ram_mb", "backend", "max_pilots"), as_json=as_json)

    @site_app.command("add-queue")
    def add_queue(ctx: typer.Context, name: str, site: str = typer.Option(..., "--site"),
                  platform: str = typer.Option("EL9", "--platform"),
                  containers: str = typer.Option("", "--containers", help="platforms runnable in Apptainer"),
                  tags: str = typer.Option("", "--tags"), cores: int = typer.Option(1, "--cores"),
                  ram_mb: int = typer.Option(0, "--ram-mb"),
                  backend: str = typer.Option("local", "--backend", help="local, htcondor or slurm"),
                  max_pilots: int = typer.Option(4, "--max-pilots"),
                  option: list[str] = typer.Option([], "--option", help="backend option KEY=VALUE"),
                  server: str = ServerOpt, token: str = TokenOpt) -> None:
        """Add or replace a compute queue."""
        opts = {}
        for item in option:
            k, _, v = item.partition("=")
            opts[k] = v
        print_json(client(ctx, server, token).put_queue({
            "name": name, "site": site, "platform": platform, "container_platforms": _split(containers),
            "tags": _split(tags), "cores": cores, "ram_mb": ram_mb, "backend": backend, "max_pilots": max_pilots,
            "options": opts}))

    @site_app.command("accounting")
    def accounting(ctx: typer.Context, by: str = typer.Option("site", "--by"), server: str = ServerOpt,
                   token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """CPU used by finished jobs per site, queue, group, owner, activity or status."""
        output(client(ctx, server, token).accounting(by), (by, "jobs", "cpu_seconds", "core_wall_seconds"),
               as_json=as_json)
