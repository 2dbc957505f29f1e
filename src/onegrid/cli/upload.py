"""`onegrid upload`: put local files on an RSE and register them (and attach them to a
dataset), checksummed end to end; nothing is registered that did not arrive intact."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from onegrid.cli._common import err_console, output, settings_from
from onegrid.cli.scope import JsonOpt, ServerOpt, TokenOpt
from onegrid.client.auth import connect
from onegrid.client.catalog import parse_did, parse_value
from onegrid.errors import InvalidInput, OneGridError
from onegrid.storage.client.upload import DEFAULT_WORKERS, UploadItem, UploadResult, upload

COLUMNS = ("did", "state", "bytes", "adler32", "pfn", "error")
StorageTokenOpt = typer.Option(None, "--storage-token", envvar="ONEGRID_STORAGE_TOKEN",
                               help="token for the storage (default: your own token)")


def parse_meta(pairs: list[str]) -> dict[str, object]:
    meta: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"metadata must be key=value, got {pair!r}")
        meta[key] = parse_value(value)
    return meta


class ByteProgress:
    """One Rich bar over the bytes of all files; callbacks come from worker threads."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.lock = threading.Lock()
        self.done: dict[str, int] = {}
        self.bar = Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                            console=err_console, disable=not enabled, transient=False)
        self.task = self.bar.add_task(label, total=total)

    def set_total(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def update(self, key: str, nbytes: int) -> None:
        with self.lock:
            self.done[key] = nbytes
            self.bar.update(self.task, completed=sum(self.done.values()))

    def __enter__(self) -> ByteProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def register(app: typer.Typer) -> None:
    @app.command("upload")
    def upload_cmd(ctx: typer.Context, files: list[Path] = typer.Argument(..., help="local files"),
                   rse: str = typer.Option(..., "--rse", help="the RSE to write to"),
                   scope: str = typer.Option(..., "--scope", help="scope of the new files"),
                   dataset: str = typer.Option(None, "--dataset", help="scope:name to attach to (made if missing)"),
                   meta: list[str] = typer.Option([], "--meta", help="key=value for every file, repeatable"),
                   name: str = typer.Option(None, "--name", help="the file's name in the catalogue (one file only)"),
                   workers: int = typer.Option(DEFAULT_WORKERS, "--workers", help="files in flight at once"),
                   storage_token: str = StorageTokenOpt, server: str = ServerOpt, token: str = TokenOpt,
                   as_json: bool = JsonOpt) -> None:
        """Upload FILEs to RSE under SCOPE, verify the storage's checksums, then register them."""
        if name and len(files) != 1:
            raise InvalidInput("--name needs exactly one file")
        # The server and token saved by `onegrid login` (or given, or in the environment).
        cat = connect(server, token, default_server=settings_from(ctx).server_url).catalog
        file_meta = parse_meta(meta)
        items = [UploadItem(f, scope, name or f.name, file_meta) for f in files]
        ds = parse_did(dataset) if dataset else None
        total = sum(f.stat().st_size for f in files if f.is_file())
        show = not as_json and err_console.is_terminal and not os.environ.get("ONEGRID_NO_PROGRESS")
        with ByteProgress(total, "upload", show) as bar:
            results = upload(cat, items, rse=rse, dataset=ds, storage_token=storage_token, workers=workers,
                             on_bytes=lambda item, n: bar.update(str(item.path), n))
        _report(results, as_json)


def _report(results: list[UploadResult], as_json: bool) -> None:
    output([r.as_row() for r in results], COLUMNS, as_json=as_json)
    failed = [r for r in results if r.state == "FAILED"]
    for r in failed:
        err_console.print(f"error: {r.item.scope}:{r.item.name}: {r.error}", markup=False, soft_wrap=True)
    if failed:
        raise OneGridError(f"{len(failed)} of {len(results)} files were not uploaded (nothing of them registered)")
