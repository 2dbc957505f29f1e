"""The disk buffer's policy: what to migrate to tape and which disk copies to evict.

Pure decisions over plain rows (no I/O, no clock): the backend loads the rows, asks,
and carries the answer out. A file that is not yet on tape is never evicted, whatever
the pressure: it would be lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Locality(StrEnum):
    """Where a file is, in the words of the Tape REST API v1 `archiveinfo`."""

    DISK = "DISK"
    TAPE = "TAPE"
    DISK_AND_TAPE = "DISK_AND_TAPE"
    LOST = "LOST"
    NONE = "NONE"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class BufferFile:
    path: str
    size: int
    written_at: float
    accessed_at: float
    on_disk: bool
    on_tape: bool
    pinned: bool = False


def due_for_migration(files: Iterable[BufferFile], now: float, delay: float) -> list[str]:
    """Disk-only files written at least `delay` seconds ago, oldest first."""
    due = [f for f in files if f.on_disk and not f.on_tape and f.written_at + delay <= now]
    due.sort(key=lambda f: (f.written_at, f.path))
    return [f.path for f in due]


def disk_usage(files: Iterable[BufferFile]) -> int:
    return sum(f.size for f in files if f.on_disk)


def choose_evictions(
    files: Sequence[BufferFile], capacity: int, high_watermark: float, low_watermark: float
) -> list[str]:
    """Disk copies to drop so that usage falls to the low watermark.

    Nothing happens until usage exceeds the high watermark (hysteresis, so the buffer
    is not trimmed a file at a time). Candidates are migrated, unpinned disk copies,
    least recently used first; if they do not suffice, eviction stops short rather than
    touching a file whose only copy is on disk.
    """
    used = disk_usage(files)
    if used <= high_watermark * capacity:
        return []
    target = low_watermark * capacity
    candidates = sorted(
        (f for f in files if f.on_disk and f.on_tape and not f.pinned),
        key=lambda f: (f.accessed_at, f.path),
    )
    evicted: list[str] = []
    for f in candidates:
        if used <= target:
            break
        evicted.append(f.path)
        used -= f.size
    return evicted


def locality(*, known: bool, on_disk: bool, on_tape: bool, lost: bool = False) -> Locality:
    """The `archiveinfo` locality of one file.

    `lost`: the tape copy was expected but is gone, and no disk copy remains.
    """
    if not known:
        return Locality.NONE
    if on_disk and on_tape:
        return Locality.DISK_AND_TAPE
    if on_disk:
        return Locality.DISK
    if on_tape:
        return Locality.TAPE
    return Locality.LOST if lost else Locality.UNAVAILABLE
