"""A small HTTP/1.1 client for the remote side of a third-party copy.

Why not httpx: a TPC moves gigabytes through one connection, and a pure-Python parser
per 64 KiB chunk caps it well below the disk. This client reads the headers once and then
hands the socket's bytes straight through (Content-Length, chunked, or until close),
follows redirects (a head node may send us to a data server, HTTP-TPC spec), and
speaks TLS through the standard `ssl` module for `https://` and `davs://`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from onegrid import __version__
from onegrid.storage.endpoint.bodyio import file_chunks

MAX_REDIRECTS = 5
HEADER_LIMIT = 64 * 1024
# StreamReader buffer: the transport pauses reading above twice this.
READ_BUFFER = 4 * 1024 * 1024
USER_AGENT = f"onegrid-storage/{__version__}"


class RemoteError(Exception):
    """The remote party failed; the message is what the TPC failure line says."""


def normalize_url(url: str) -> str:
    if url.startswith("davs://"):
        return "https://" + url[len("davs://"):]
    if url.startswith("dav://"):
        return "http://" + url[len("dav://"):]
    return url


def ssl_context(verify: bool, ca_path: str = "") -> ssl.SSLContext:
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_path and os.path.isdir(ca_path):
        return ssl.create_default_context(capath=ca_path)
    return ssl.create_default_context(cafile=ca_path or None)


@dataclass
class RemoteResponse:
    url: str
    status: int
    reason: str
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_timeout: float

    @property
    def content_length(self) -> int | None:
        raw = self.headers.get("content-length")
        return int(raw) if raw is not None and raw.strip().isdigit() else None

    async def _read(self, n: int) -> bytes:
        return await asyncio.wait_for(self.reader.read(n), self.idle_timeout)

    async def chunks(self, size: int = READ_BUFFER) -> AsyncIterator[bytes]:
        """The body, in the pieces the socket delivers them."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            async for piece in self._chunked(size):
                yield piece
            return
        remaining = self.content_length
        while remaining is None or remaining > 0:
            data = await self._read(size if remaining is None else min(size, remaining))
            if not data:
                if remaining is not None:
                    raise RemoteError(f"connection closed with {remaining} bytes of the body missing")
                return
            if remaining is not None:
                remaining -= len(data)
            yield data

    async def _chunked(self, size: int) -> AsyncIterator[bytes]:
        while True:
            line = await asyncio.wait_for(self.reader.readline(), self.idle_timeout)
            try:
                remaining = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError as exc:
                raise RemoteError(f"bad chunk header {line[:40]!r}") from exc
            if remaining == 0:
                while (await self.reader.readline()).strip():
                    pass  # trailers
                return
            while remaining:
                data = await self._read(min(size, remaining))
                if not data:
                    raise RemoteError("connection closed inside a chunk")
                remaining -= len(data)
                yield data
            await self.reader.readexactly(2)

    async def text(self, limit: int = 4096) -> str:
        """The start of the body (error messages), never more than `limit` bytes."""
        out = b""
        with contextlib.suppress(Exception):
            async for piece in self.chunks():
                out += piece
                if len(out) >= limit:
                    break
        return out[:limit].decode("utf-8", "replace").strip()

    def close(self) -> None:
        self.writer.close()


async def _connect(url: str, ssl_ctx: ssl.SSLContext | None,
                   timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RemoteError(f"unsupported URL scheme in {url!r}: only http(s) and dav(s)")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port, ssl=ssl_ctx if parts.scheme == "https" else None,
                                    limit=READ_BUFFER),
            timeout,
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise RemoteError(f"cannot connect to {parts.hostname}:{port}: {exc or type(exc).__name__}") from exc


def _request_head(method: str, url: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "connection", "user-agent")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_head(url: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     timeout: float) -> RemoteResponse:
    while True:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, TimeoutError) as exc:
            raise RemoteError(f"no valid HTTP response from {url}: {exc or type(exc).__name__}") from exc
        lines = raw.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/") or not code.isdigit():
            raise RemoteError(f"no valid HTTP response from {url}: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                k = k.strip().lower()
                headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
        if int(code) == 100:
            continue
        return RemoteResponse(url, int(code), reason.strip(), headers, reader, writer, timeout)


async def request(
    method: str, url: str, headers: dict[str, str], *, ssl_ctx: ssl.SSLContext | None, timeout: float,
    send_body: Callable[[asyncio.StreamWriter], Awaitable[None]] | None = None,
) -> RemoteResponse:
    """Send one request (following redirects); the caller reads the body and closes."""
    url = normalize_url(url)
    for _ in range(MAX_REDIRECTS + 1):
        reader, writer = await _connect(url, ssl_ctx, timeout)
        try:
            writer.write(_request_head(method, url, headers))
            if send_body is not None:
                await send_body(writer)
            await writer.drain()
            response = await _read_head(url, reader, writer, timeout)
        except (OSError, ConnectionError) as exc:
            writer.close()
            raise RemoteError(f"{method} {url} failed: {exc or type(exc).__name__}") from exc
        except BaseException:
            writer.close()
            raise
        location = response.headers.get("location")
        if response.status in (301, 302, 303, 307, 308) and location:
            response.close()
            url = normalize_url(urljoin(url, location))
            if response.status == 303:
                method, send_body = "GET", None
            continue
        return response
    raise RemoteError(f"more than {MAX_REDIRECTS} redirects from {url}")


def file_body(fd: int, size: int, chunk: int,
              progress: Callable[[int], None]) -> Callable[[asyncio.StreamWriter], Awaitable[None]]:
    """Send `size` bytes of `fd` from its start (read ahead in a worker thread)."""

    async def send(writer: asyncio.StreamWriter) -> None:
        done = 0
        async for data in file_chunks(fd, 0, size, chunk):
            writer.write(data)
            await writer.drain()
            done += len(data)
            progress(done)

    return send
