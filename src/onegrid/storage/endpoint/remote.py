"""A small HTTP/1.1 client for the remote side of a third-party copy.

Why not httpx (or asyncio streams): a TPC moves gigabytes through one connection, and a
parser pass, a buffer copy and a timeout task per 64 KiB chunk cost more CPU than the
disk write. Here the protocol object keeps the socket's own byte strings in a queue and
hands them straight to the file sink: headers are parsed once, then the body passes
through untouched (Content-Length, chunked, or until close). Redirects are followed (a
head node may send us to a data server, HTTP-TPC spec), TLS comes from `ssl` for
`https://` and `davs://`.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import os
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from onegrid import __version__
from onegrid.storage.endpoint import direct
from onegrid.storage.endpoint.bodyio import file_chunks

MAX_REDIRECTS = 5
HEADER_LIMIT = 64 * 1024
# Reading pauses above HIGH buffered bytes and resumes below LOW: bounded memory.
HIGH_WATER = 8 * 1024 * 1024
LOW_WATER = 2 * 1024 * 1024
USER_AGENT = f"onegrid-storage/{__version__}"
# Push bodies from this size on go out by sendfile from a worker thread.
DIRECT_SEND_BYTES = 8 * 1024 * 1024


class RemoteError(Exception):
    """The remote party failed; the message is what the TPC failure line says."""


def normalize_url(url: str) -> str:
    if url.startswith("davs://"):
        return "https://" + url[len("davs://"):]
    if url.startswith("dav://"):
        return "http://" + url[len("dav://"):]
    return url


@functools.lru_cache(maxsize=8)
def ssl_context(verify: bool, ca_path: str = "") -> ssl.SSLContext:
    """One context per setting for the process: building one (loading the CA store) costs
    ~20 ms of CPU, more than a whole small-file copy."""
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_path and os.path.isdir(ca_path):
        return ssl.create_default_context(capath=ca_path)
    return ssl.create_default_context(cafile=ca_path or None)


class _Connection(asyncio.Protocol):
    """Bytes in arrival order, with flow control both ways and an idle timeout."""

    def __init__(self, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self.transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._eof = False
        self._error: BaseException | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    # -- asyncio callbacks --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport; they quack the same.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._reading_paused and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self.idle_timeout):
                await self._waiter
        except TimeoutError as exc:
            raise RemoteError(f"remote idle for {self.idle_timeout:.0f} s") from exc
        finally:
            self._waiter = None

    # -- reading ---------------------------------------------------------------------------------
    async def read_some(self, limit: int) -> bytes:
        """Up to `limit` bytes as they arrived; b'' at the end of the stream."""
        while not self._chunks:
            if self._eof:
                return b""
            await self._wait()
        data = self._chunks.popleft()
        if len(data) > limit:
            self._chunks.appendleft(data[limit:])
            data = data[:limit]
        self._buffered -= len(data)
        if self._reading_paused and self._buffered < LOW_WATER and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    def unread(self, data: bytes) -> None:
        if data:
            self._chunks.appendleft(data)
            self._buffered += len(data)

    async def read_until(self, sep: bytes, limit: int = HEADER_LIMIT) -> bytes:
        buf = b""
        while True:
            data = await self.read_some(limit)
            if not data:
                raise RemoteError("connection closed in the middle of a response head")
            buf += data
            idx = buf.find(sep)
            if idx >= 0:
                self.unread(buf[idx + len(sep):])
                return buf[: idx + len(sep)]
            if len(buf) > limit:
                raise RemoteError(f"response head longer than {limit} bytes")

    async def read_exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            data = await self.read_some(n - len(buf))
            if not data:
                raise RemoteError("connection closed early")
            buf += data
        return buf

    def detach(self) -> tuple[int, list[bytes]] | None:
        """Stop reading; the socket's fd and the bytes already received, for a worker thread
        to read the rest itself (plain TCP only). None when that is not possible."""
        t = self.transport
        if t is None or t.get_extra_info("sslcontext") is not None or t.get_extra_info("socket") is None:
            return None
        t.pause_reading()
        self._reading_paused = True
        chunks, self._chunks, self._buffered = list(self._chunks), collections.deque(), 0
        return t.get_extra_info("socket").fileno(), chunks

    def writable_fd(self) -> int | None:
        """The socket's fd when nothing is queued in the transport (plain TCP only), so a
        worker thread may write the body itself; None otherwise."""
        t = self.transport
        if t is None or t.get_extra_info("sslcontext") is not None or t.get_extra_info("socket") is None:
            return None
        if t.get_write_buffer_size():
            return None
        return int(t.get_extra_info("socket").fileno())

    # -- writing ----------------------------------------------------------------------------------
    async def write(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise RemoteError(f"connection lost while sending: {self._error or 'closed by the remote'}")
        self.transport.write(data)
        while self._writing_paused and not self._eof:
            await self._wait()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass
class RemoteResponse:
    url: str
    status: int
    reason: str
    headers: dict[str, str]
    conn: _Connection

    @property
    def content_length(self) -> int | None:
        raw = self.headers.get("content-length")
        return int(raw) if raw is not None and raw.strip().isdigit() else None

    async def chunks(self, size: int = HIGH_WATER) -> AsyncIterator[bytes]:
        """The body, in the pieces the socket delivers them."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            async for piece in self._chunked(size):
                yield piece
            return
        remaining = self.content_length
        while remaining is None or remaining > 0:
            data = await self.conn.read_some(size if remaining is None else min(size, remaining))
            if not data:
                if remaining is not None:
                    raise RemoteError(f"connection closed with {remaining} bytes of the body missing")
                return
            if remaining is not None:
                remaining -= len(data)
            yield data

    async def _chunked(self, size: int) -> AsyncIterator[bytes]:
        while True:
            line = await self.conn.read_until(b"\r\n")
            try:
                remaining = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError as exc:
                raise RemoteError(f"bad chunk header {line[:40]!r}") from exc
            if remaining == 0:
                while (await self.conn.read_until(b"\r\n")).strip():
                    pass  # trailers
                return
            while remaining:
                data = await self.conn.read_some(min(size, remaining))
                if not data:
                    raise RemoteError("connection closed inside a chunk")
                remaining -= len(data)
                yield data
            await self.conn.read_exactly(2)

    async def text(self, limit: int = 4096) -> str:
        """The start of the body (error messages), never more than `limit` bytes."""
        out = b""
        try:
            async for piece in self.chunks():
                out += piece
                if len(out) >= limit:
                    break
        except RemoteError:
            pass
        return out[:limit].decode("utf-8", "replace").strip()

    def close(self) -> None:
        self.conn.close()


async def _connect(url: str, ssl_ctx: ssl.SSLContext | None, timeout: float) -> _Connection:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RemoteError(f"unsupported URL scheme in {url!r}: only http(s) and dav(s)")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _transport, conn = await loop.create_connection(
                lambda: _Connection(timeout), parts.hostname, port,
                ssl=ssl_ctx if parts.scheme == "https" else None,
            )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise RemoteError(f"cannot connect to {parts.hostname}:{port}: {exc or type(exc).__name__}") from exc
    return conn


def _request_head(method: str, url: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {USER_AGENT}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "connection", "user-agent")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_head(url: str, conn: _Connection) -> RemoteResponse:
    while True:
        raw = await conn.read_until(b"\r\n\r\n")
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
        return RemoteResponse(url, int(code), reason.strip(), headers, conn)


SendBody = Callable[[_Connection], Awaitable[None]]


async def request(
    method: str, url: str, headers: dict[str, str], *, ssl_ctx: ssl.SSLContext | None, timeout: float,
    send_body: SendBody | None = None,
) -> RemoteResponse:
    """Send one request (following redirects); the caller reads the body and closes."""
    url = normalize_url(url)
    for _ in range(MAX_REDIRECTS + 1):
        conn = await _connect(url, ssl_ctx, timeout)
        try:
            await conn.write(_request_head(method, url, headers))
            if send_body is not None:
                await send_body(conn)
            response = await _read_head(url, conn)
        except OSError as exc:
            conn.close()
            raise RemoteError(f"{method} {url} failed: {exc or type(exc).__name__}") from exc
        except BaseException:
            conn.close()
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


def file_body(fd: int, size: int, chunk: int, progress: Callable[[int], None]) -> SendBody:
    """Send `size` bytes of `fd` from its start (read ahead in a worker thread)."""

    async def send(conn: _Connection) -> None:
        sock_fd = conn.writable_fd() if size >= DIRECT_SEND_BYTES else None
        if sock_fd is not None:
            # sendfile from a worker thread: the kernel copies page cache to the socket.
            sent = await asyncio.to_thread(direct.send_file_to_socket, sock_fd, fd, 0, size, conn.idle_timeout,
                                           progress)
            if sent != size:
                raise RemoteError(f"sent {sent} of {size} bytes: the file shrank")
            return
        done = 0
        async for data in file_chunks(fd, 0, size, chunk):
            await conn.write(data)
            done += len(data)
            progress(done)

    return send
