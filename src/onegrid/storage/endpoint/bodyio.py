"""Moving bytes between the network and the disk in bounded memory, at disk speed.

Uploads (`FileSink`) fold each network chunk into the checksum as it arrives, gather
chunks into batches and hand each batch to a worker thread that writes it with one
`writev` (which releases the GIL), while the event loop already receives the next batch:
at most two batches are in memory at any time. The data lands in a partial file next to
its target, so the final rename is atomic and a half-written file is never visible.

Downloads (`file_chunks`) read the next chunk in a worker thread while the current one
is being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from onegrid.storage.endpoint.checksums import ChecksumStore, StreamingChecksum
from onegrid.storage.endpoint.config import PARTIAL_PREFIX


def _write_all(fd: int, chunks: list[bytes]) -> None:
    view: list[bytes | memoryview] = list(chunks)
    while view:
        written = os.writev(fd, view)
        while view and written >= len(view[0]):
            written -= len(view[0])
            view.pop(0)
        if view and written:
            view[0] = memoryview(view[0])[written:]


class FileSink:
    """A partial file being filled; `commit` renames it into place, `discard` removes it."""

    def __init__(self, directory: Path, *, batch_bytes: int, md5: bool, small_bytes: int = 0) -> None:
        self.path = directory / f"{PARTIAL_PREFIX}{uuid.uuid4().hex}"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self.checksum = StreamingChecksum(md5=md5)
        self.batch_bytes = batch_bytes
        self.small_bytes = small_bytes
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._pending: asyncio.Future[None] | None = None
        self._closed = False
        self.size = 0  # bytes received so far (written or about to be)

    async def feed(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        # The checksum is folded in here, on the loop, while the bytes are hot in the cache:
        # in the worker thread each call would have to win the GIL back (up to the 5 ms
        # switch interval each) from the loop that is busy receiving.
        self.checksum.update(data)
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered >= self.batch_bytes:
            await self._flush()

    async def _flush(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending
        if not self._chunks:
            return
        chunks, self._chunks, self._buffered = self._chunks, [], 0
        loop = asyncio.get_running_loop()
        self._pending = loop.run_in_executor(None, _write_all, self.fd, chunks)

    async def settle(self) -> None:
        """Everything fed so far is on disk (before writing to the fd another way)."""
        await self._flush()
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending

    async def finish(self, store: ChecksumStore, key: Path) -> os.stat_result:
        """Write what is left, record the checksums on the file, close it."""
        if self._pending is None and self._buffered <= self.small_bytes:
            # Small files: one write on the loop beats a round trip through a thread.
            chunks, self._chunks, self._buffered = self._chunks, [], 0
            _write_all(self.fd, chunks)
        else:
            await self._flush()
            if self._pending is not None:
                pending, self._pending = self._pending, None
                await pending
        st = os.fstat(self.fd)
        store.save(self.fd, st, self.checksum.values(), key=key)
        self._close()
        return st

    def commit(self, target: Path) -> None:
        os.replace(self.path, target)

    async def discard(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await self._pending
            self._pending = None
        self._close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)


def _pread(fd: int, size: int, offset: int) -> bytes:
    return os.pread(fd, size, offset)


async def file_chunks(fd: int, start: int, length: int, chunk: int) -> AsyncIterator[bytes]:
    """`length` bytes of `fd` from `start`, the next chunk read while this one is sent."""
    loop = asyncio.get_running_loop()
    end = start + length
    if length <= chunk:
        data = os.pread(fd, length, start) if length else b""
        if len(data) != length:
            raise OSError(f"file shrank while being read ({len(data)} of {length} bytes)")
        yield data
        return
    offset = start
    pending = loop.run_in_executor(None, _pread, fd, min(chunk, end - offset), offset)
    while offset < end:
        data = await pending
        if not data:
            raise OSError(f"file shrank while being read (at byte {offset} of {end})")
        offset += len(data)
        if offset < end:
            pending = loop.run_in_executor(None, _pread, fd, min(chunk, end - offset), offset)
        yield data
