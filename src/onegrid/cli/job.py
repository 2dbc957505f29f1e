"""`onegrid job`: submit (JSON or JDL, bulk, parametric), status, list, logging, kill,
reschedule, delete, output."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import typer

from onegrid.cli._common import output, print_json, settings_from
from onegrid.client.wms import WmsClient, connect
from onegrid.errors import InvalidInput

ServerOpt = typer.Option(None, "--server", help="server URL (or ONEGRID_SERVER)")
TokenOpt = typer.Option(None, "--token", help="access token (or ONEGRID_TOKEN / BEARER_TOKEN)")
JsonOpt = typer.Option(False, "--json", help="print JSON instead of a table")
JOB_COLUMNS = ("id", "status", "minor_status", "site", "name", "owner", "updated_at")


def client(ctx: typer.Context, server: str | None, token: str | None) -> WmsClient:
    return connect(server, token, default_server=settings_from(ctx).server_url)


def read_descriptions(path: Path) -> Any:
    """A file's jobs: JDL (by extension or content) or JSON (an object or a list)."""
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist")
    text = path.read_text()
    stripped = text.lstrip()
    if path.suffix.lower() == ".jdl" or not stripped.startswith(("{", "[{", "[\n", "[ ")) and "=" in text:
        from onegrid.wms.jdl import parse_jdl

        return parse_jdl(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is neither JSON nor JDL: {exc}") from exc


def upload_local_sandbox(wms: WmsClient, jobs: list[dict[str, Any]], base: Path) -> None:
    """Local files named in InputSandbox go up as one tarball, named SB:<sha256>."""
    cache: dict[tuple[str, ...], str] = {}
    for job in jobs:
        items = job.get("InputSandbox") or []
        items = [items] if isinstance(items, str) else list(items)
        local = tuple(i for i in items if not (str(i).startswith("SB:") or str(i).upper().startswith("LFN:")))
        if not local:
            continue
        if local not in cache:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                for name in local:
                    p = (base / name) if not Path(name).is_absolute() else Path(name)
                    if not p.exists():
                        raise InvalidInput(f"InputSandbox: {name} does not exist")
                    tar.add(p, arcname=p.name)
            cache[local] = wms.upload_sandbox(buf.getvalue())
        job["InputSandbox"] = [i for i in items if i not in local] + [cache[local]]


def _fmt(job: dict[str, Any]) -> dict[str, Any]:
    return {**job, "updated_at": str(job.get("updated_at", ""))[:19]}


def register(app: typer.Typer) -> None:
    job_app = typer.Typer(help="Submit and follow grid jobs.", no_args_is_help=True)
    app.add_typer(job_app, name="job")

    @job_app.command("submit")
    def submit(ctx: typer.Context, files: list[Path] = typer.Argument(..., help="JSON or JDL files"),
               server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Submit the jobs described in FILES; prints the new job ids."""
        wms = client(ctx, server, token)
        jobs: list[dict[str, Any]] = []
        for path in files:
            found = read_descriptions(path)
            batch = found if isinstance(found, list) else [found]
            upload_local_sandbox(wms, batch, path.parent)
            jobs += batch
        ids = wms.submit(jobs if len(jobs) > 1 else jobs[0])
        if as_json:
            print_json({"job_ids": ids})
        else:
            typer.echo(" ".join(str(i) for i in ids))

    @job_app.command("status")
    def status(ctx: typer.Context, job_ids: list[int] = typer.Argument(...),
               server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        wms = client(ctx, server, token)
        rows = [wms.job(i) for i in job_ids]
        if as_json:
            print_json(rows[0] if len(rows) == 1 else rows)
        else:
            output([_fmt(r) for r in rows], JOB_COLUMNS, as_json=False)

    @job_app.command("list")
    def list_(ctx: typer.Context, status: list[str] = typer.Option([], "--status", help="only these states"),
              production: int = typer.Option(None, "--production"), job_group: str = typer.Option(None, "--group"),
              limit: int = typer.Option(1000, "--limit"), server: str = ServerOpt, token: str = TokenOpt,
              as_json: bool = JsonOpt) -> None:
        wms = client(ctx, server, token)
        rows = wms.jobs(status=status, production=production, job_group=job_group, limit=limit)
        output([_fmt(r) for r in rows], JOB_COLUMNS, as_json=as_json)

    @job_app.command("logging")
    def logging(ctx: typer.Context, job_id: int, server: str = ServerOpt, token: str = TokenOpt,
                as_json: bool = JsonOpt) -> None:
        """Every status change of a job, with its source."""
        rows = client(ctx, server, token).logging(job_id)
        output(rows, ("status", "minor_status", "application_status", "source", "at"), as_json=as_json)

    def _bulk(ctx: typer.Context, action: str, job_ids: list[int], server: str | None, token: str | None,
              as_json: bool) -> None:
        wms = client(ctx, server, token)
        result = getattr(wms, action)(job_ids)
        output([{"id": k, "status": v} for k, v in result.items()], ("id", "status"), as_json=as_json)

    @job_app.command("kill")
    def kill(ctx: typer.Context, job_ids: list[int] = typer.Argument(...), server: str = ServerOpt,
             token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        _bulk(ctx, "kill", job_ids, server, token, as_json)

    @job_app.command("reschedule")
    def reschedule(ctx: typer.Context, job_ids: list[int] = typer.Argument(...), server: str = ServerOpt,
                   token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        _bulk(ctx, "reschedule", job_ids, server, token, as_json)

    @job_app.command("delete")
    def delete(ctx: typer.Context, job_ids: list[int] = typer.Argument(...), server: str = ServerOpt,
               token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        _bulk(ctx, "delete", job_ids, server, token, as_json)

    @job_app.command("output")
    def output_(ctx: typer.Context, job_id: int, directory: Path = typer.Option(None, "--dir"),
                server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Fetch a job's output sandbox into DIR (default ./job_<id>) and list its output data."""
        wms = client(ctx, server, token)
        job = wms.job(job_id)
        dest = directory or Path(f"job_{job_id}")
        files: list[str] = []
        if job.get("output_sandbox"):
            dest.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(wms.download_sandbox(job["output_sandbox"])), mode="r:*") as tar:
                tar.extractall(dest, filter="data")
                files = tar.getnames()
        result = {"job_id": job_id, "directory": str(dest) if files else None, "sandbox_files": files,
                  "outputs": job.get("outputs", [])}
        if as_json:
            print_json(result)
        else:
            typer.echo(f"sandbox: {', '.join(files) or '(none)'}" + (f" in {dest}" if files else ""))
            for o in result["outputs"]:
                typer.echo(f"output: {o.get('lfn')} {o.get('bytes')} bytes adler32={o.get('adler32')}")
