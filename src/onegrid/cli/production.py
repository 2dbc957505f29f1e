"""`onegrid production`: submit a definition as written, status, list, stop, resume, extend."""

from __future__ import annotations

from pathlib import Path

import typer

from onegrid.cli._common import output, print_json
from onegrid.cli.job import JsonOpt, ServerOpt, TokenOpt, client
from onegrid.errors import InvalidInput


def register(app: typer.Typer) -> None:
    prod_app = typer.Typer(help="Monte-Carlo productions.", no_args_is_help=True)
    app.add_typer(prod_app, name="production")

    @prod_app.command("submit")
    def submit(ctx: typer.Context, definition: Path, server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        """Submit a production definition (the JSON of the Belle II slide works as it is)."""
        if not definition.is_file():
            raise InvalidInput(f"{definition} does not exist")
        result = client(ctx, server, token).submit_production(definition.read_bytes())
        if as_json:
            print_json(result)
        else:
            typer.echo(f"production {result['production_id']} {result['name']}: {len(result['jobs'])} jobs")

    @prod_app.command("status")
    def status(ctx: typer.Context, ref: str, server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        st = client(ctx, server, token).production(ref)
        if as_json:
            print_json(st)
            return
        typer.echo(f"{st['name']} ({st['status']}): events {st['events_done']}/{st['events_total']}, "
                   f"output {st['output_path']}")
        output([{"status": k, "jobs": v} for k, v in sorted(st["jobs"].items())], ("status", "jobs"), as_json=False)
        registered = sum(1 for o in st.get("outputs", []) if o.get("registered"))
        for ds in st.get("output_datasets", []):
            typer.echo(f"dataset {ds}")
        typer.echo(f"{len(st.get('outputs', []))} output files, {registered} registered in the catalogue")

    @prod_app.command("list")
    def list_(ctx: typer.Context, server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        output(client(ctx, server, token).productions(),
               ("production_id", "name", "group", "status", "release", "events_total"), as_json=as_json)

    @prod_app.command("stop")
    def stop(ctx: typer.Context, ref: str, server: str = ServerOpt, token: str = TokenOpt) -> None:
        """Hold the production's waiting jobs (running ones finish)."""
        print_json(client(ctx, server, token).production_action(ref, "stop"))

    @prod_app.command("resume")
    def resume(ctx: typer.Context, ref: str, server: str = ServerOpt, token: str = TokenOpt) -> None:
        """Release the held jobs of a stopped production."""
        print_json(client(ctx, server, token).production_action(ref, "resume"))

    @prod_app.command("transform")
    def transform(ctx: typer.Context, spec: Path, server: str = ServerOpt, token: str = TokenOpt) -> None:
        """Add a data-driven transformation from a JSON file:
        {"name", "scope", "query": "datatype=RAW", "files_per_job": 2, "job": {"Executable": ...}}."""
        import json

        if not spec.is_file():
            raise InvalidInput(f"{spec} does not exist")
        print_json(client(ctx, server, token).add_transformation(json.loads(spec.read_text())))

    @prod_app.command("transformations")
    def transformations(ctx: typer.Context, ref: str = typer.Argument(None), server: str = ServerOpt,
                        token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """List transformations, or one's files and jobs by status."""
        wms = client(ctx, server, token)
        if ref:
            print_json(wms.transformation(ref))
        else:
            output(wms.transformations(), ("transformation_id", "name", "status", "scope", "query", "files_per_job"),
                   as_json=as_json)

    @prod_app.command("extend")
    def extend(ctx: typer.Context, ref: str, run: int = typer.Option(..., "--run"),
               stream: int = typer.Option(0, "--stream"), events: int = typer.Option(..., "--events"),
               server: str = ServerOpt, token: str = TokenOpt) -> None:
        """Add EVENTS events to a run and stream (new jobs continue the event numbering)."""
        print_json(client(ctx, server, token).extend_production(ref, {str(run): {str(stream): events}}))
