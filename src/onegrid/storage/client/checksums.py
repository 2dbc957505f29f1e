"""Checksums as the grid writes them, computed while bytes stream past.

adler32 is eight lowercase hex digits (Rucio, FTS, dCache); md5 is 32 lowercase hex digits
in the catalogue and base64 in an RFC 3230 `Digest:` header (`md5=<base64>`). Reading a
`Digest:` header accepts both spellings of md5 because servers differ (xrootd sends hex).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import queue
import threading
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

ALGORITHMS = ("adler32", "md5")
# 4 MiB: big enough that per-chunk overhead (syscalls, hashing calls) disappears in the noise.
CHUNK = 4 << 20


class Checksummer:
    """adler32 and md5 of a stream, fed chunk by chunk; also counts the bytes.

    md5 costs about five times adler32, so past `THREAD_AFTER` bytes it moves to a helper
    thread (hashlib releases the GIL on large buffers): the stream goes on while md5
    catches up, holding at most `QUEUE_CHUNKS` chunks (bounded memory)."""

    THREAD_AFTER = 8 << 20
    QUEUE_CHUNKS = 4

    def __init__(self) -> None:
        self._adler = 1
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._queue: queue.Queue[bytes | memoryview | None] | None = None
        self._thread: threading.Thread | None = None
        self.bytes = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self._adler = zlib.adler32(chunk, self._adler)
        self.bytes += len(chunk)
        if self._queue is None and self.bytes > self.THREAD_AFTER:
            self._queue = queue.Queue(self.QUEUE_CHUNKS)
            self._thread = threading.Thread(target=self._md5_worker, name="md5", daemon=True)
            self._thread.start()
        if self._queue is not None:
            self._queue.put(chunk)
        else:
            self._md5.update(chunk)

    def _md5_worker(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            self._md5.update(chunk)

    def _finish(self) -> None:
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None

    def __del__(self) -> None:
        # A stream abandoned half-way must not leave its md5 thread waiting forever.
        if self._queue is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)

    @property
    def adler32(self) -> str:
        return f"{self._adler & 0xFFFFFFFF:08x}"

    @property
    def md5(self) -> str:
        self._finish()
        return self._md5.hexdigest()

    def as_dict(self) -> dict[str, str]:
        return {"adler32": self.adler32, "md5": self.md5}


def of_file(path: Path, chunk: int = CHUNK) -> Checksummer:
    """Checksums of a local file, read in chunks (bounded memory)."""
    summer = Checksummer()
    with path.open("rb") as f:
        while block := f.read(chunk):
            summer.update(block)
    return summer


def normalize(algorithm: str, value: str) -> str:
    """The catalogue spelling: adler32 zero-padded lowercase hex, md5 lowercase hex."""
    algorithm = algorithm.lower()
    value = value.strip()
    if algorithm == "adler32":
        return value.lower().zfill(8)
    if algorithm == "md5":
        if len(value) == 32 and all(c in "0123456789abcdefABCDEF" for c in value):
            return value.lower()
        try:
            return base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            return value.lower()
    return value


def parse_digest(header: str | None) -> dict[str, str]:
    """`Digest: adler32=0a1b2c3d, md5=<b64>` (RFC 3230) or `Repr-Digest: md5=:<b64>:`
    (RFC 9530) → `{"adler32": ..., "md5": ...}` in catalogue spelling."""
    out: dict[str, str] = {}
    if not header:
        return out
    for part in header.split(","):
        algo, sep, value = part.strip().partition("=")
        if not sep:
            continue
        value = value.strip().strip(":")
        algo = algo.strip().lower()
        if algo in ALGORITHMS:
            out[algo] = normalize(algo, value)
    return out


def want_digest(algorithms: Iterable[str] = ALGORITHMS) -> str:
    """The `Want-Digest` value asking for the algorithms in order of preference."""
    algos = list(algorithms)
    return ", ".join(f"{a};q={1 - i / 10:.1f}" if i else a for i, a in enumerate(algos))


def mismatches(expected: Mapping[str, str | None], actual: Mapping[str, str]) -> list[str]:
    """The algorithms whose values both sides know and that differ (empty = agree)."""
    out = []
    for algo in ALGORITHMS:
        e, a = expected.get(algo), actual.get(algo)
        if e and a and normalize(algo, e) != normalize(algo, a):
            out.append(f"{algo} {a} != {e}")
    return out
