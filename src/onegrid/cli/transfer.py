"""`onegrid transfer`: submit direct transfers (FTS3-style jobs), watch them, cancel them,
and look at or tune the links."""

from __future__ import annotations

import typer

from onegrid.cli._common import output, print_json, settings_from
from onegrid.client.auth import connect
from onegrid.client.transfers import TransfersClient, did_file, url_file
from onegrid.errors import InvalidInput

ServerOpt = typer.Option(None, "--server", help="server URL (or ONEGRID_SERVER)")
TokenOpt = typer.Option(None, "--token", help="access token (or ONEGRID_TOKEN / BEARER_TOKEN)")
JsonOpt = typer.Option(False, "--json", help="print JSON instead of a table")
FILE_COLUMNS = ("file_id", "state", "scope", "name", "source_se", "dest_se", "attempts", "filesize", "reason")


def _client(ctx: typer.Context, server: str | None, token: str | None) -> TransfersClient:
    return connect(server, token, default_server=settings_from(ctx).server_url).transfers


def register(app: typer.Typer) -> None:
    transfer_app = typer.Typer(help="Transfers: direct jobs, requests and links (FTS3-like).", no_args_is_help=True)
    app.add_typer(transfer_app, name="transfer")

    @transfer_app.command("submit")
    def submit(ctx: typer.Context,
               items: list[str] = typer.Argument(..., help="SOURCE_URL DEST_URL, or scope:name with --rse"),
               rse: str = typer.Option(None, "--rse", help="destination RSE: the arguments are DIDs"),
               checksum: str = typer.Option(None, "--checksum", help="ADLER32:xxxxxxxx (URL copies)"),
               filesize: int = typer.Option(None, "--filesize", help="bytes (URL copies)"),
               activity: str = typer.Option("default", "--activity"),
               priority: int = typer.Option(3, "--priority", min=1, max=5),
               retry: int = typer.Option(3, "--retry", min=0),
               overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite"),
               server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Submit one job: a URL copy (SOURCE DEST) or DIDs to an RSE (--rse)."""
        if rse:
            files = [did_file(d, rse) for d in items]
        elif len(items) == 2:
            files = [url_file([items[0]], items[1], checksum=checksum, filesize=filesize)]
        else:
            raise InvalidInput("give SOURCE_URL DEST_URL, or DIDs with --rse RSE")
        job_id = _client(ctx, server, token).submit(files, priority=priority, retry=retry, overwrite=overwrite,
                                                    activity=activity)
        output([{"job_id": job_id}], ("job_id",), as_json=as_json)

    @transfer_app.command("status")
    def status(ctx: typer.Context, job_id: str, server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        """A job's state and its files."""
        job = _client(ctx, server, token).job(job_id)
        if as_json:
            print_json(job)
            return
        typer.echo(f"job {job['job_id']}: {job['job_state']}")
        output(job["files"], FILE_COLUMNS, as_json=False)

    @transfer_app.command("list")
    def list_(ctx: typer.Context, state: str = typer.Option(None, "--state", help="e.g. QUEUED,SUBMITTED"),
              link: str = typer.Option(None, "--link", help="SOURCE__DESTINATION"),
              rule: str = typer.Option(None, "--rule", help="a rule id"),
              limit: int = typer.Option(100, "--limit"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Transfer requests, newest first."""
        rows = _client(ctx, server, token).requests(state=state, link=link, rule_id=rule, limit=limit)
        output(rows, FILE_COLUMNS, as_json=as_json)

    @transfer_app.command("cancel")
    def cancel(ctx: typer.Context, job_id: str, server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        """Cancel a job's files that have not finished."""
        job = _client(ctx, server, token).cancel(job_id)
        output([{"job_id": job["job_id"], "job_state": job["job_state"]}], ("job_id", "job_state"), as_json=as_json)

    @transfer_app.command("links")
    def links(ctx: typer.Context,
              set_link: str = typer.Option(None, "--set", help="SOURCE__DESTINATION to change (root)"),
              min_active: int = typer.Option(None, "--min-active", min=1),
              max_active: int = typer.Option(None, "--max-active", min=1),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Links with their active limits, running and queued transfers and the optimizer's view."""
        client = _client(ctx, server, token)
        if set_link:
            src, sep, dst = set_link.partition("__")
            if not sep:
                raise InvalidInput("--set takes SOURCE__DESTINATION (two underscores)")
            client.set_link_limits(src, dst, min_active=min_active, max_active=max_active)
        output(client.links(), ("source", "destination", "active_limit", "active", "queued", "min_active",
                                "max_active", "success_rate", "throughput_ema", "decision"), as_json=as_json)
