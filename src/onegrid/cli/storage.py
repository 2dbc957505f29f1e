"""`onegrid storage`: serve a folder as a grid storage endpoint (WebDAV, HTTP-TPC, tokens, SRR)."""

from __future__ import annotations

from pathlib import Path

import typer

from onegrid.cli._common import settings_from


def register(app: typer.Typer) -> None:
    @app.command("storage")
    def storage(
        ctx: typer.Context,
        root: Path = typer.Option(..., "--root", help="folder to serve (created if missing)"),
        port: int = typer.Option(8443, "--port", help="port to listen on"),
        base_path: str = typer.Option("/", "--base-path", help="namespace path of the root, e.g. /belle; "
                                      "token scope paths are relative to it"),
        issuer: str = typer.Option(..., "--issuer", help="token issuer URL (OIDC discovery for its keys)"),
        name: str = typer.Option("ONEGRID-SE", "--name", help="RSE name reported by SRR"),
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
        url: str = typer.Option("", "--url", help="public URL (token audience); default http://HOST:PORT"),
        tape: bool = typer.Option(False, "--tape", help="tape-backed: disk buffer, migration, Tape REST API"),
        tape_dir: Path | None = typer.Option(None, "--tape-dir", help="where the emulated tapes live "
                                             "(default ROOT/.onegrid/tape)"),
        capacity: int = typer.Option(0, "--capacity", help="bytes reported and enforced (0: the disk's size)"),
        anonymous_read: bool = typer.Option(False, "--anonymous-read", help="allow GET/HEAD/PROPFIND "
                                            "without a token"),
        tls_cert: Path | None = typer.Option(None, "--tls-cert", help="serve HTTPS (davs://) with this "
                                             "certificate (PEM, chain included)"),
        tls_key: Path | None = typer.Option(None, "--tls-key", help="the certificate's private key (PEM)"),
    ) -> None:
        """Serve ROOT over HTTP/WebDAV as the storage endpoint NAME."""
        from onegrid.storage.endpoint.config import EndpointConfig, normalize_base_path
        from onegrid.storage.endpoint.server import public_url, serve

        if (tls_cert is None) != (tls_key is None):
            raise typer.BadParameter("--tls-cert and --tls-key go together")
        settings = settings_from(ctx)
        scheme = "https" if tls_cert else "http"
        config = EndpointConfig(
            root=root.resolve(), base_path=normalize_base_path(base_path), issuer=issuer.rstrip("/"),
            url=(url or public_url(host, port, scheme)).rstrip("/"), name=name, capacity=capacity, tape=tape,
            anonymous_read=anonymous_read, settings=settings.storage,
        )
        serve(config, host, port, log_level=settings.log_level, tape_root=tape_dir, tls_cert=tls_cert,
              tls_key=tls_key)
