"""Running an endpoint: uvicorn with the fast paths on (httptools parser, uvloop)."""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

from onegrid.storage.endpoint.app import create_endpoint_app
from onegrid.storage.endpoint.config import EndpointConfig


def public_url(host: str, port: int, scheme: str = "http") -> str:
    """The URL clients (and token audiences) name this endpoint by."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


# glibc serves allocations above 128 KiB-32 MiB (adaptive) with fresh mmap()s and returns
# them on free: every 256 KiB network read then costs 64 page faults and a zeroing, twice
# (socket buffer, parser copy). Keeping such blocks in the heap halved the CPU per byte of
# bodies that go through the ASGI server; the trim threshold bounds what a process keeps
# (`onegrid up` runs one endpoint per storage element).
MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 64 * 1024 * 1024
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt() parameters, <malloc.h>


def tune_malloc() -> bool:
    """Ask glibc to reuse large blocks (no-op elsewhere). True if it took."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("onegrid.storage", "onegrid.storage.access"):
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        if not logger.handlers:
            logger.addHandler(handler)
        logger.propagate = False


def serve(config: EndpointConfig, host: str, port: int, *, log_level: str = "info",
          tape_root: Path | None = None, tls_cert: Path | None = None, tls_key: Path | None = None) -> None:
    import uvicorn

    setup_logging(log_level)
    tune_malloc()
    app = create_endpoint_app(config, tape_root=tape_root)
    tls = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)} if tls_cert and tls_key else {}
    uvicorn.run(app, host=host, port=port, http="httptools", loop="uvloop", lifespan="on",
                access_log=False, log_level=log_level.lower(), timeout_keep_alive=60, **tls)
