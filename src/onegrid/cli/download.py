"""`onegrid download`: files, datasets and containers to a local folder, from the best
replica that works, checksums verified; bad replicas are declared, present files skipped."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from onegrid.cli._common import err_console, output, settings_from
from onegrid.cli.scope import JsonOpt, ServerOpt, TokenOpt
from onegrid.cli.upload import ByteProgress, StorageTokenOpt
from onegrid.client.auth import connect
from onegrid.client.catalog import parse_did
from onegrid.errors import OneGridError
from onegrid.storage.client.download import DEFAULT_WORKERS, download

COLUMNS = ("did", "state", "rse", "bytes", "adler32", "path", "error")


def register(app: typer.Typer) -> None:
    @app.command("download")
    def download_cmd(ctx: typer.Context, dids: list[str] = typer.Argument(..., help="scope:name of files, "
                                                                          "datasets or containers"),
                     rse: str = typer.Option(None, "--rse", help="RSE expression to read from"),
                     directory: Path = typer.Option(Path("."), "--dir", help="where files go (DIR/scope/name, folders of path-like names kept)"),
                     site: str = typer.Option(None, "--site", envvar="ONEGRID_SITE",
                                              help="your site: its replicas are read first"),
                     no_declare: bool = typer.Option(False, "--no-declare-bad",
                                                     help="do not declare corrupt or missing replicas bad"),
                     workers: int = typer.Option(DEFAULT_WORKERS, "--workers", help="files in flight at once"),
                     storage_token: str = StorageTokenOpt, server: str = ServerOpt, token: str = TokenOpt,
                     as_json: bool = JsonOpt) -> None:
        """Download DIDs into DIR/<scope>/<name>, verifying each file's checksum."""
        # The server and token saved by `onegrid login` (or given, or in the environment).
        cat = connect(server, token, default_server=settings_from(ctx).server_url).catalog
        show = not as_json and err_console.is_terminal and not os.environ.get("ONEGRID_NO_PROGRESS")
        with ByteProgress(0, "download", show) as bar:
            results = download(cat, [parse_did(d) for d in dids], directory, rse_expression=rse, client_site=site,
                               storage_token=storage_token, workers=workers, declare_bad=not no_declare,
                               on_start=lambda entries: bar.set_total(sum(int(e.get("bytes") or 0)
                                                                          for e in entries)),
                               on_bytes=bar.update)
        output([r.as_row() for r in results], COLUMNS, as_json=as_json)
        failed = [r for r in results if r.state == "FAILED"]
        for r in failed:
            err_console.print(f"error: {r.scope}:{r.name}: {r.error}", markup=False, soft_wrap=True)
        if failed:
            raise OneGridError(f"{len(failed)} of {len(results)} files could not be downloaded")
