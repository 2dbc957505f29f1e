"""The direct path for large uploads: socket → disk in a worker thread.

Through the ASGI server every body byte is copied four times in Python (parser,
server buffer, message, batch) on the event loop; on a shared machine that CPU is the
throughput. For a PUT with a large `Content-Length` the handler takes the first body
message the normal way (which also answers `Expect: 100-continue`), pauses the server's
reading, and lets a worker thread move the rest with `readv` into one reused buffer, fold
it into the checksum and write it: one copy in, one out, no allocation, the GIL released
for every step. The connection is closed after the response (`Connection: close`) since
the server's parser never saw the rest of the body. Only plain-HTTP uvicorn transports
qualify; anything else takes the normal path.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onegrid.storage.endpoint.checksums import StreamingChecksum

BUFFER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class RawSocket:
    transport: Any
    fd: int


def raw_socket(receive: Any) -> RawSocket | None:
    """The connection's socket when the server is uvicorn on plain TCP, else None."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None or not hasattr(transport, "pause_reading"):
        return None
    try:
        fd = sock.fileno()
    except (OSError, ValueError):
        return None
    return RawSocket(transport, fd) if fd >= 0 else None


class BodyTimeout(Exception):
    pass


def copy_socket_to_file(sock_fd: int, file_fd: int, count: int, checksum: StreamingChecksum,
                        idle_timeout: float, on_progress: Callable[[int], None] | None = None) -> int:
    """Move exactly `count` bytes from the (non-blocking) socket to the file. Blocking; returns
    the bytes moved, fewer if the client closed the connection early."""
    buf = bytearray(min(BUFFER_BYTES, max(count, 1)))
    view = memoryview(buf)
    poller = select.poll()
    poller.register(sock_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    moved = 0
    while moved < count:
        try:
            n = os.readv(sock_fd, [view[: min(len(buf), count - moved)]])
        except BlockingIOError:
            if not poller.poll(int(idle_timeout * 1000)):
                raise BodyTimeout(f"no data from the client for {idle_timeout:.0f} s") from None
            continue
        if n == 0:
            return moved
        data = view[:n]
        checksum.update(data)
        while data:
            data = data[os.write(file_fd, data):]
        moved += n
        if on_progress is not None:
            on_progress(moved)
    return moved


def httptools_cycle(receive: Any) -> Any | None:
    """uvicorn's httptools request cycle behind `receive`: the one server whose Content-Length
    bookkeeping we can settle after sending a body past it (h11 keeps its own)."""
    cycle = getattr(receive, "__self__", None)
    if cycle is None or not type(cycle).__module__.endswith("httptools_impl"):
        return None
    return cycle if hasattr(cycle, "expected_content_length") else None


def send_file_to_socket(sock_fd: int, file_fd: int, offset: int, count: int, idle_timeout: float,
                        on_progress: Callable[[int], None] | None = None) -> int:
    """`os.sendfile` the range to the (non-blocking) socket: the kernel copies page cache to
    socket, nothing passes through Python. Blocking; returns the bytes sent."""
    poller = select.poll()
    poller.register(sock_fd, select.POLLOUT | select.POLLHUP | select.POLLERR)
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(sock_fd, file_fd, offset + sent, count - sent)
        except BlockingIOError:
            if not poller.poll(int(idle_timeout * 1000)):
                raise BodyTimeout(f"the client read nothing for {idle_timeout:.0f} s") from None
            continue
        if n == 0:
            break  # the file shrank
        sent += n
        if on_progress is not None:
            on_progress(sent)
    return sent
