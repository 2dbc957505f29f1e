"""A small grid for conveyor tests: a live server, `onegrid storage` endpoints on loopback,
RSEs with protocols in the catalogue, files with real bytes and checksums."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from onegrid.catalog import paths, replicas, rses, scopes
from onegrid.storage.endpoint.app import create_endpoint_app
from onegrid.storage.endpoint.config import EndpointConfig
from onegrid.storage.settings import StorageSettings
from onegrid.storage.tape.settings import TapeSettings
from onegrid.transfers import service
from onegrid.transfers.agents import Conveyor

BASE = "/belle"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def adler32_of(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


class Recorder:
    """ASGI middleware keeping (method, path) of every request a storage receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def count(self, method: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for m, p in self.seen:
            if m == method:
                out[p] = out.get(p, 0) + 1
        return out


RECORDERS: dict[str, Recorder] = {}


@contextmanager
def endpoint(root: Path, issuer: str, name: str, *, tape: bool = False,
             tape_settings: TapeSettings | None = None) -> Iterator[str]:
    """`onegrid storage`'s app under uvicorn in a thread; yields its URL. The requests it
    receives are kept in `RECORDERS[url]`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = EndpointConfig(root=root, base_path=BASE, issuer=issuer, url=url, name=name, capacity=0, tape=tape,
                            anonymous_read=False, settings=StorageSettings(
                                marker_interval=0.2, tape=tape_settings or TapeSettings()))
    app = Recorder(create_endpoint_app(config, tape_root=root.parent / f"{name}-tapes" if tape else None))
    RECORDERS[url] = app
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("storage endpoint did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Storage:
    name: str
    url: str
    root: Path
    rse_id: int = 0

    def path_of(self, scope: str, name: str) -> Path:
        """The file on disk behind a deterministic (hash) path."""
        return self.root / paths.deterministic_path(scope, name).lstrip("/")


@dataclass
class Grid:
    server: object  # LiveServer
    tmp: Path
    storages: dict[str, Storage] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def runtime(self):  # type: ignore[no-untyped-def]
        return self.server.runtime  # type: ignore[attr-defined]

    def add_storage(self, name: str, *, site: str, country: str = "DE", url: str | None = None,
                    prefix: str = BASE, tape: bool = False, root: Path | None = None,
                    scheme: str = "http", tpc: bool = True, tape_settings: TapeSettings | None = None) -> Storage:
        root = root or self.tmp / name
        root.mkdir(parents=True, exist_ok=True)
        if url is None:
            url = self.stack.enter_context(endpoint(root, self.server.url, name, tape=tape,  # type: ignore[attr-defined]
                                                    tape_settings=tape_settings))
        host_port = url.split("://", 1)[1]
        host, _, port = host_port.partition(":")
        rt = self.runtime
        with rt.transaction() as s:
            rse = rses.add_rse(s, rt.clock, name, rse_type="TAPE" if tape else "DISK")
            rses.set_attribute(s, name, "site", site)
            rses.set_attribute(s, name, "country", country)
            rses.add_protocol(s, name, {"scheme": scheme, "hostname": host, "port": int(port or 80),
                                        "prefix": prefix, "domains": {"wan": {
                                            "third_party_copy_read": int(tpc), "third_party_copy_write": int(tpc)}}})
            st = Storage(name=name, url=url, root=root, rse_id=rse.id)
        self.storages[name] = st
        return st

    def put_file(self, storage: str, scope: str, name: str, data: bytes, *, register: bool = True,
                 adler32: str | None = None, write: bool = True) -> None:
        """Write the bytes on the storage's disk and (optionally) register the replica."""
        st = self.storages[storage]
        if write:
            p = st.path_of(scope, name)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        if register:
            rt = self.runtime
            with rt.transaction() as s:
                replicas.add_replicas(s, rt.clock, "root", storage, [
                    {"scope": scope, "name": name, "bytes": len(data), "adler32": adler32 or adler32_of(data)}])

    def ensure_scope(self, scope: str) -> None:
        rt = self.runtime
        with rt.transaction() as s:
            try:
                scopes.get_scope(s, scope)
            except Exception:
                scopes.add_scope(s, rt.clock, scope, "root")

    def queue(self, scope: str, names: list[str], dest: str, **kw: object) -> list[int]:
        rt = self.runtime
        dest_id = self.storages[dest].rse_id
        with rt.transaction() as s:
            return service.queue_requests(s, rt.clock, [
                service.NewRequest(scope=scope, name=n, dest_rse_id=dest_id, **kw) for n in names])  # type: ignore[arg-type]

    def conveyor(self, worker: str = "conveyor-test", **settings: object) -> Conveyor:
        rt = self.runtime
        rt.load_keys()
        c = Conveyor(runtime=rt, worker_id=worker)
        c.settings = c.settings.model_copy(update={"retry_delay": 0.0, **settings})
        self.stack.callback(c.close)
        return c


def run_until_idle(conveyor: Conveyor, *, max_cycles: int = 50) -> list[dict[str, int]]:
    out = []
    for _ in range(max_cycles):
        did = conveyor.run_once()
        out.append(did)
        if not any(v for k, v in did.items() if k not in ("links_tuned",)):
            break
    return out
