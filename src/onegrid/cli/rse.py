"""`onegrid rse`: storage elements, their attributes, protocols, distances and usage."""

from __future__ import annotations

import typer

from onegrid.cli._common import output, print_json
from onegrid.cli.scope import JsonOpt, ServerOpt, TokenOpt, catalog
from onegrid.client.catalog import parse_value

RSE_COLUMNS = ("rse", "rse_type", "deterministic", "availability_read", "availability_write", "availability_delete")


def register(app: typer.Typer) -> None:
    rse_app = typer.Typer(help="RSEs: storage elements, attributes, protocols, distances.", no_args_is_help=True)
    app.add_typer(rse_app, name="rse")

    @rse_app.command("add")
    def add(ctx: typer.Context, name: str,
            rse_type: str = typer.Option("DISK", "--type", help="DISK or TAPE"),
            non_deterministic: bool = typer.Option(False, "--non-deterministic"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        cat = catalog(ctx, server, token)
        cat.add_rse(name, rse_type=rse_type.upper(), deterministic=not non_deterministic)
        output([cat.get_rse(name)], RSE_COLUMNS, as_json=as_json)

    @rse_app.command("list")
    def list_(ctx: typer.Context, expression: str = typer.Argument(None, help="RSE expression, e.g. 'tier=1&istape'"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        output(catalog(ctx, server, token).list_rses(expression), RSE_COLUMNS, as_json=as_json)

    @rse_app.command("show")
    def show(ctx: typer.Context, name: str, server: str = ServerOpt, token: str = TokenOpt,
             as_json: bool = JsonOpt) -> None:
        cat = catalog(ctx, server, token)
        info = cat.get_rse(name)
        info["attributes"] = cat.rse_attributes(name)
        info["limits"] = cat.rse_limits(name)
        if as_json:
            print_json(info)
            return
        output([{"key": k, "value": v} for k, v in info.items() if k not in ("protocols", "attributes")],
               ("key", "value"), as_json=False, title=name)
        output([{"key": k, "value": v} for k, v in info["attributes"].items()], ("key", "value"), as_json=False,
               title="attributes")
        output([{**p, "read": p["domains"]["wan"]["read"], "write": p["domains"]["wan"]["write"]}
                for p in info["protocols"]], ("scheme", "hostname", "port", "prefix", "read", "write"),
               as_json=False, title="protocols")

    @rse_app.command("set-attr")
    def set_attr(ctx: typer.Context, name: str, key: str, value: str, server: str = ServerOpt,
                 token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Set an attribute (numbers and true/false keep their type)."""
        cat = catalog(ctx, server, token)
        cat.set_rse_attribute(name, key, parse_value(value))
        attrs = cat.rse_attributes(name)
        output([{"key": k, "value": v} for k, v in attrs.items()], ("key", "value"), as_json=as_json)

    @rse_app.command("add-protocol")
    def add_protocol(ctx: typer.Context, name: str, scheme: str = typer.Option(..., "--scheme"),
                     hostname: str = typer.Option(..., "--host"), port: int = typer.Option(..., "--port"),
                     prefix: str = typer.Option("", "--prefix"),
                     read: int = typer.Option(1, "--read", help="WAN read priority (0: not for reading)"),
                     write: int = typer.Option(1, "--write"), delete: int = typer.Option(1, "--delete"),
                     tpc: int = typer.Option(1, "--tpc", help="third-party-copy priority"),
                     server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        cat = catalog(ctx, server, token)
        domains = {"wan": {"read": read, "write": write, "delete": delete, "third_party_copy_read": tpc,
                           "third_party_copy_write": tpc}}
        cat.add_protocol(name, scheme, hostname, port, prefix, domains=domains)
        output([{**p, "read": p["domains"]["wan"]["read"], "write": p["domains"]["wan"]["write"]}
                for p in cat.protocols(name)], ("scheme", "hostname", "port", "prefix", "read", "write"),
               as_json=as_json)

    @rse_app.command("set-distance")
    def set_distance(ctx: typer.Context, src: str, dest: str, distance: int, server: str = ServerOpt,
                     token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        cat = catalog(ctx, server, token)
        cat.set_distance(src, dest, distance)
        output([{"src": src, "dest": dest, "distance": cat.get_distance(src, dest)}], ("src", "dest", "distance"),
               as_json=as_json)

    @rse_app.command("usage")
    def usage(ctx: typer.Context, name: str, server: str = ServerOpt, token: str = TokenOpt,
              as_json: bool = JsonOpt) -> None:
        output(catalog(ctx, server, token).rse_usage(name), ("rse", "source", "files", "used", "free", "total"),
               as_json=as_json)
