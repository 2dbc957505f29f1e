"""The endpoint's ASGI application: wiring, dispatch by method, errors, the access log.

`create_endpoint_app(config)` is the only place the parts meet: path resolver, checksum
store, space counters, token authorizer, and with `--tape` the tape emulation's backend
(its Tape REST API routes are mounted before the WebDAV namespace, and its hooks hear
about every write, move and delete).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from onegrid.clock import Clock, SystemClock
from onegrid.errors import NotFound, OneGridError, Unauthenticated
from onegrid.iam.jwks import RemoteJwks
from onegrid.storage.endpoint import tpc, webdav_read, webdav_write
from onegrid.storage.endpoint.auth import Access, Authorizer, Caller
from onegrid.storage.endpoint.checksums import ChecksumStore
from onegrid.storage.endpoint.config import EndpointConfig
from onegrid.storage.endpoint.http import (
    HttpError,
    Message,
    Receive,
    Request,
    Scope,
    Send,
    error_status,
    respond_error,
    respond_json,
)
from onegrid.storage.endpoint.paths import PathResolver
from onegrid.storage.endpoint.srr import SpaceUsage, storage_descriptor
from onegrid.storage.endpoint.state import Endpoint, log

access_log = logging.getLogger("onegrid.storage.access")

SRR_PATHS = ("/.well-known/wlcg-srr", "/storage-descriptor.json")

ANONYMOUS_METHODS = ("GET", "HEAD", "PROPFIND")

Handler = Callable[[Endpoint, Request, Caller], Awaitable[int]]


async def _get(ep: Endpoint, req: Request, caller: Caller) -> int:
    return await webdav_read.get(ep, req, caller, head=False)


async def _head(ep: Endpoint, req: Request, caller: Caller) -> int:
    return await webdav_read.get(ep, req, caller, head=True)


HANDLERS: dict[str, Handler] = {
    "GET": _get,
    "HEAD": _head,
    "PUT": webdav_write.put,
    "DELETE": webdav_write.delete,
    "MKCOL": webdav_write.mkcol,
    "MOVE": webdav_write.move,
    "PROPFIND": webdav_read.propfind,
    "COPY": tpc.copy,
}


class EndpointApp:
    """A raw ASGI application (see http.py for why no framework)."""

    def __init__(self, endpoint: Endpoint, tape_router: Any = None) -> None:
        self.endpoint = endpoint
        self.tape_router = tape_router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        clock = self.endpoint.clock
        started = clock.monotonic()
        status = 0
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        req = Request(scope, receive, counting_send)
        subject = "-"
        try:
            subject = await self._dispatch(req)
        finally:
            client = scope.get("client") or ("-", 0)
            access_log.info('%s %s "%s %s" %d %d %.3f', client[0], subject, req.method, scope.get("path", ""),
                            status, sent, clock.monotonic() - started)

    async def _dispatch(self, req: Request) -> str:
        ep = self.endpoint
        caller = Caller(None)
        try:
            path = req.path
            if path in SRR_PATHS and req.method in ("GET", "HEAD"):
                await respond_json(req.send, 200, storage_descriptor(ep.config, ep.usage, ep.clock.time()))
                return "-"
            if self.tape_router is not None and _is_tape_path(path):
                await self.tape_router(req.scope, req.receive, req.send)
                return "-"
            if req.method == "OPTIONS":
                await webdav_read.options(req)
                return "-"
            handler = HANDLERS.get(req.method)
            if handler is None:
                raise HttpError(405, "METHOD_NOT_ALLOWED", f"{req.method} is not supported here",
                                {"allow": webdav_read.ALLOW})
            caller = await ep.auth.caller(req.header("authorization"))
            if caller.claims is None and not (ep.config.anonymous_read and req.method in ANONYMOUS_METHODS):
                # Before any lookup, so that strangers learn nothing, not even what exists.
                raise Unauthenticated(f"{req.method} {req.path} needs a bearer token")
            await handler(ep, req, caller)
        except OneGridError as exc:
            if error_status(exc) >= 500:
                log.error("%s %s: %s", req.method, req.path, exc.message)
            await _send_error(req, exc)
        except (FileNotFoundError, NotADirectoryError) as exc:
            await _send_error(req, NotFound(f"{req.path} does not exist ({exc.strerror})"))
        except OSError as exc:
            log.exception("%s %s failed", req.method, req.path)
            await _send_error(req, HttpError(500, "STORAGE_ERROR", f"storage error: {exc.strerror or exc}"))
        return caller.subject

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        tape = self.endpoint.tape
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if tape is not None:
                    await tape.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if tape is not None:
                    await tape.stop()
                    tape.close()
                self.endpoint.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _send_error(req: Request, exc: OneGridError) -> None:
    with contextlib.suppress(RuntimeError):  # the response had already started
        await respond_error(req.send, exc, head=req.method == "HEAD")


def _is_tape_path(path: str) -> bool:
    from onegrid.storage.tape.backend import DISCOVERY_PATH, TAPE_API_PREFIX

    return path == DISCOVERY_PATH or path.startswith(TAPE_API_PREFIX)


def build_endpoint(config: EndpointConfig, clock: Clock | None = None, jwks: RemoteJwks | None = None) -> Endpoint:
    clock = clock or SystemClock()
    s = config.settings
    config.root.mkdir(parents=True, exist_ok=True)
    store = ChecksumStore(config.meta_dir)
    auth = Authorizer(
        issuer=config.issuer, audiences=config.audiences, clock=clock,
        jwks=jwks or RemoteJwks(clock, cache_seconds=s.jwks_cache_seconds),
        anonymous_read=config.anonymous_read, cache_seconds=s.token_cache_seconds,
    )
    return Endpoint(config=config, clock=clock, resolver=PathResolver(config.root, config.base_path),
                    store=store, usage=SpaceUsage.scan(config.root), auth=auth)


def _tape_authorize(ep: Endpoint) -> Callable[[Any, str, Sequence[str]], Awaitable[None]]:
    async def authorize(request: Any, scope: str, paths: Sequence[str]) -> None:
        caller = await ep.auth.caller(request.headers.get("authorization"))
        access = Access(scope)
        for p in paths:
            ep.auth.require(caller, access, ep.resolver.resolve_url(p))

    return authorize


def attach_tape(ep: Endpoint, tape_root: Path | None = None) -> Any:
    """Start the tape emulation behind this endpoint; returns the ASGI router of its API."""
    from starlette.routing import Router

    from onegrid.storage.tape.backend import TapeBackend

    ep.tape = TapeBackend(
        disk_root=ep.config.root, tape_root=tape_root or ep.config.meta_dir / "tape",
        settings=ep.config.settings.tape, clock=ep.clock, base_path=ep.config.base_path,
        authorize=_tape_authorize(ep),
    )
    return Router(routes=ep.tape.routes())


def create_endpoint_app(config: EndpointConfig, clock: Clock | None = None, jwks: RemoteJwks | None = None,
                        tape_root: Path | None = None) -> EndpointApp:
    ep = build_endpoint(config, clock, jwks)
    router = attach_tape(ep, tape_root) if config.tape else None
    return EndpointApp(ep, router)
