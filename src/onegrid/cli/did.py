"""`onegrid did`: datasets and containers, attachments, contents, metadata, searches."""

from __future__ import annotations

import typer

from onegrid.cli._common import output, print_json
from onegrid.cli.scope import JsonOpt, ServerOpt, TokenOpt, catalog
from onegrid.client.catalog import parse_did, parse_value
from onegrid.errors import InvalidInput

DID_COLUMNS = ("scope", "name", "type", "bytes", "length", "open", "account")


def _meta(pairs: list[str]) -> dict[str, object]:
    meta = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"metadata must be key=value, got {pair!r}")
        meta[key] = parse_value(value)
    return meta


def register(app: typer.Typer) -> None:
    did_app = typer.Typer(help="DIDs: files, datasets, containers and their metadata.", no_args_is_help=True)
    meta_app = typer.Typer(help="DID metadata.", no_args_is_help=True)
    app.add_typer(did_app, name="did")
    did_app.add_typer(meta_app, name="meta")

    @did_app.command("add")
    def add(ctx: typer.Context, did: str, did_type: str = typer.Option("dataset", "--type", help="dataset or container"),
            meta: list[str] = typer.Option([], "--meta", help="key=value, repeatable"),
            lifetime: int = typer.Option(None, "--lifetime", help="seconds"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        cat = catalog(ctx, server, token)
        d = parse_did(did)
        cat.add_did(d["scope"], d["name"], did_type, meta=_meta(meta), lifetime=lifetime)
        output([cat.get_did(d["scope"], d["name"])], DID_COLUMNS, as_json=as_json)

    @did_app.command("list")
    def list_(ctx: typer.Context, scope: str,
              filter_: str = typer.Option("", "--filter", help="e.g. 'run_number>=1000,run_number<2000;datatype=RAW'"),
              did_type: str = typer.Option("collection", "--type", help="all, collection, dataset, container, file"),
              limit: int = typer.Option(None, "--limit"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        rows = list(catalog(ctx, server, token).list_dids(scope, filter_ or None, did_type=did_type, long=True,
                                                         limit=limit))
        output([{**r, "type": r["did_type"]} for r in rows], ("scope", "name", "type", "bytes", "length"),
               as_json=as_json)

    @did_app.command("show")
    def show(ctx: typer.Context, did: str, server: str = ServerOpt, token: str = TokenOpt,
             as_json: bool = JsonOpt) -> None:
        d = parse_did(did)
        info = catalog(ctx, server, token).get_did(d["scope"], d["name"])
        if as_json:
            print_json(info)
        else:
            output([{"key": k, "value": v} for k, v in info.items()], ("key", "value"), as_json=False, title=did)

    @did_app.command("attach")
    def attach(ctx: typer.Context, parent: str, children: list[str], server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        """Attach files to a dataset, or datasets/containers to a container."""
        p = parse_did(parent)
        cat = catalog(ctx, server, token)
        cat.attach(p["scope"], p["name"], [parse_did(c) for c in children])
        output([cat.get_did(p["scope"], p["name"])], DID_COLUMNS, as_json=as_json)

    @did_app.command("detach")
    def detach(ctx: typer.Context, parent: str, children: list[str], server: str = ServerOpt, token: str = TokenOpt,
               as_json: bool = JsonOpt) -> None:
        p = parse_did(parent)
        cat = catalog(ctx, server, token)
        cat.detach(p["scope"], p["name"], [parse_did(c) for c in children])
        output([cat.get_did(p["scope"], p["name"])], DID_COLUMNS, as_json=as_json)

    @did_app.command("content")
    def content(ctx: typer.Context, did: str, files: bool = typer.Option(False, "--files", help="all files below"),
                server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        d = parse_did(did)
        cat = catalog(ctx, server, token)
        if files:
            output(list(cat.list_files(d["scope"], d["name"])), ("scope", "name", "bytes", "adler32", "events"),
                   as_json=as_json)
        else:
            output(list(cat.list_content(d["scope"], d["name"])), ("scope", "name", "type", "bytes"), as_json=as_json)

    @did_app.command("close")
    def close(ctx: typer.Context, did: str, server: str = ServerOpt, token: str = TokenOpt,
              as_json: bool = JsonOpt) -> None:
        d = parse_did(did)
        cat = catalog(ctx, server, token)
        cat.close(d["scope"], d["name"])
        output([cat.get_did(d["scope"], d["name"])], DID_COLUMNS, as_json=as_json)

    @meta_app.command("set")
    def meta_set(ctx: typer.Context, did: str, pairs: list[str] = typer.Argument(..., help="key=value ..."),
                 server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        d = parse_did(did)
        cat = catalog(ctx, server, token)
        cat.set_metadata(d["scope"], d["name"], _meta(pairs))
        meta = cat.get_metadata(d["scope"], d["name"])
        output([{"key": k, "value": meta.get(k)} for k in _meta(pairs)], ("key", "value"), as_json=as_json)

    @meta_app.command("get")
    def meta_get(ctx: typer.Context, did: str, server: str = ServerOpt, token: str = TokenOpt,
                 as_json: bool = JsonOpt) -> None:
        d = parse_did(did)
        meta = catalog(ctx, server, token).get_metadata(d["scope"], d["name"])
        if as_json:
            print_json(meta)
        else:
            output([{"key": k, "value": v} for k, v in meta.items() if v is not None], ("key", "value"),
                   as_json=False, title=did)
