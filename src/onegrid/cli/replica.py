"""`onegrid replica`: register, list (with URLs, client's site first) and declare bad."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from onegrid.cli._common import output, print_json
from onegrid.cli.scope import JsonOpt, ServerOpt, TokenOpt, catalog
from onegrid.client.catalog import parse_did
from onegrid.errors import InvalidInput


def _file_spec(text: str) -> dict[str, object]:
    """`scope:name:bytes[:adler32]`."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise InvalidInput(f"a file is scope:name:bytes[:adler32], got {text!r}")
    try:
        size = int(parts[2])
    except ValueError:
        raise InvalidInput(f"bytes must be an integer in {text!r}") from None
    spec: dict[str, object] = {"scope": parts[0], "name": parts[1], "bytes": size}
    if len(parts) == 4:
        spec["adler32"] = parts[3]
    return spec


def register(app: typer.Typer) -> None:
    replica_app = typer.Typer(help="Replicas: copies of files on RSEs.", no_args_is_help=True)
    app.add_typer(replica_app, name="replica")

    @replica_app.command("add")
    def add(ctx: typer.Context, rse: str, files: list[str] = typer.Argument(None, help="scope:name:bytes[:adler32]"),
            from_json: Path = typer.Option(None, "--from-json", help="a JSON list of {scope,name,bytes,adler32,meta}"),
            dataset: str = typer.Option(None, "--dataset", help="attach to scope:name (made if missing)"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Register files with their replicas on an RSE (in bulk)."""
        specs = [_file_spec(f) for f in files or []]
        if from_json:
            specs.extend(json.loads(from_json.read_text()))
        if not specs:
            raise InvalidInput("no files given")
        catalog(ctx, server, token).add_files(rse, specs, dataset=parse_did(dataset) if dataset else None,
                                              create_dataset=True)
        output([{"rse": rse, "files": len(specs), "dataset": dataset}], ("rse", "files", "dataset"), as_json=as_json)

    @replica_app.command("list")
    def list_(ctx: typer.Context, dids: list[str], site: str = typer.Option(None, "--site", help="client's site first"),
              scheme: list[str] = typer.Option([], "--scheme"), rses: str = typer.Option(None, "--rses"),
              all_states: bool = typer.Option(False, "--all-states"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        entries = list(catalog(ctx, server, token).list_replicas(
            [parse_did(d) for d in dids], schemes=scheme or None, client_site=site, rse_expression=rses,
            all_states=all_states))
        if as_json:
            print_json(entries)
            return
        rows = [{"scope": e["scope"], "name": e["name"], "bytes": e["bytes"], "adler32": e["adler32"], "rse": rse,
                 "state": e["states"].get(rse), "pfn": pfns[0] if pfns else ""}
                for e in entries for rse, pfns in (e["rses"].items() or [("", [])])]
        output(rows, ("scope", "name", "bytes", "adler32", "rse", "state", "pfn"), as_json=False)

    @replica_app.command("declare-bad")
    def declare_bad(ctx: typer.Context, rse: str, dids: list[str], reason: str = typer.Option(..., "--reason"),
                    server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        unknown = catalog(ctx, server, token).declare_bad([{**parse_did(d), "rse": rse} for d in dids], reason)
        if as_json:
            print_json({"declared": len(dids) - sum(len(v) for v in unknown.values()), "unknown": unknown})
            return
        output([{"did": d, "rse": rse, "result": "unknown" if any(d in u for v in unknown.values() for u in v)
                 else "BAD"} for d in dids], ("did", "rse", "result"), as_json=False)
