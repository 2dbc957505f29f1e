"""Storage endpoints on loopback for tests: `onegrid storage`'s app under uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from onegrid.storage.endpoint.app import EndpointApp, create_endpoint_app
from onegrid.storage.endpoint.config import EndpointConfig
from onegrid.storage.settings import StorageSettings

TokenMaker = Callable[..., str]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningEndpoint:
    url: str  # http://127.0.0.1:PORT (the token audience)
    base_path: str
    root: Path
    app: EndpointApp
    issue: TokenMaker = field(repr=False)

    def pfn(self, path: str) -> str:
        return f"{self.url}{self.base_path.rstrip('/')}/{path.lstrip('/')}"

    def token(self, *scopes: str, account: str = "root", audience: str | None = None, lifetime: int = 3600) -> str:
        return self.issue(account, scopes=list(scopes), audience=audience or self.url, lifetime=lifetime)

    def client(self, *scopes: str, token: str | None = None) -> httpx.Client:
        tok = token if token is not None else (self.token(*scopes) if scopes else None)
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def put(self, path: str, data: bytes, *scopes: str) -> httpx.Response:
        with self.client(*(scopes or ("storage.create:/",))) as c:
            return c.put(self.pfn(path), content=data)


@contextmanager
def running_endpoint(
    root: Path, issuer: str, issue: TokenMaker, *, base_path: str = "/belle", name: str = "TEST-SE",
    tape: bool = False, capacity: int = 0, anonymous_read: bool = False,
    settings: StorageSettings | None = None, tape_root: Path | None = None,
) -> Iterator[RunningEndpoint]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    config = EndpointConfig(root=root, base_path=base_path, issuer=issuer, url=url, name=name,
                            capacity=capacity, tape=tape, anonymous_read=anonymous_read,
                            settings=settings or StorageSettings(marker_interval=0.2))
    app = create_endpoint_app(config, tape_root=tape_root)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http="httptools",
                                           log_level="warning", lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("storage endpoint did not start")
        time.sleep(0.02)
    try:
        yield RunningEndpoint(url=url, base_path=base_path, root=root, app=app, issue=issue)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def parse_tpc_body(text: str) -> tuple[list[dict[str, str]], str]:
    """Performance markers (as dicts) and the last line of an HTTP-TPC reply."""
    markers: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    last = ""
    for line in text.splitlines():
        if line == "Perf Marker":
            current = {}
        elif line == "End" and current is not None:
            markers.append(current)
            current = None
        elif current is not None:
            key, _, value = line.partition(":")
            current[key.strip()] = value.strip()
        elif line.strip():
            last = line.strip()
    return markers, last
