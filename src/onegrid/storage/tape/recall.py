"""The recall scheduler: which cartridge goes into which drive, and when each file is back.

Pure: pending recalls and the drives in, mounts with their completion times out. A mount
serves every pending file on its cartridge in tape order, so several stage requests for
one cartridge cost one mount latency. A drive keeps its cartridge after a mount; if new
work for that cartridge arrives it is read without mounting again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Timing:
    mount_latency: float  # s, load (and unload) a cartridge
    seek_time: float  # s, wind the whole cartridge end to end
    throughput: float  # bytes/s once positioned
    files_per_tape: int  # positions on a cartridge (scales seeks)


@dataclass(frozen=True)
class RecallItem:
    path: str
    tape: str
    position: int
    size: int
    requested_at: float


@dataclass(frozen=True)
class Drive:
    index: int
    tape: str | None = None
    head: int = 0
    free_at: float = 0.0


@dataclass(frozen=True)
class PlannedRead:
    path: str
    position: int
    size: int
    ready_at: float


@dataclass(frozen=True)
class Mount:
    drive: int
    tape: str
    start: float
    remounted: bool
    reads: tuple[PlannedRead, ...]

    @property
    def end(self) -> float:
        return self.reads[-1].ready_at if self.reads else self.start

    @property
    def head(self) -> int:
        return self.reads[-1].position if self.reads else 0


def seek_seconds(start: int, end: int, timing: Timing) -> float:
    """Winding time between two positions: the share of a full end-to-end seek."""
    return timing.seek_time * abs(end - start) / timing.files_per_tape


def read_seconds(size: int, timing: Timing) -> float:
    return size / timing.throughput


def _tape_order(items: Iterable[RecallItem]) -> list[RecallItem]:
    """One read per file (several requests may want it), in position order."""
    first: dict[str, RecallItem] = {}
    for item in items:
        seen = first.get(item.path)
        if seen is None or item.requested_at < seen.requested_at:
            first[item.path] = item
    return sorted(first.values(), key=lambda i: (i.position, i.path))


def _pick_drive(idle: list[Drive], tape: str) -> Drive:
    """The drive that holds the cartridge already, else an empty one, else the longest idle."""
    for drive in idle:
        if drive.tape == tape:
            return drive
    for drive in idle:
        if drive.tape is None:
            return drive
    return min(idle, key=lambda d: (d.free_at, d.index))


def plan_mount(drive: Drive, tape: str, items: Sequence[RecallItem], now: float, timing: Timing) -> Mount:
    remounted = drive.tape != tape
    t = now + (timing.mount_latency if remounted else 0.0)
    head = 0 if remounted else drive.head
    reads: list[PlannedRead] = []
    for item in _tape_order(items):
        t += seek_seconds(head, item.position, timing) + read_seconds(item.size, timing)
        head = item.position
        reads.append(PlannedRead(item.path, item.position, item.size, t))
    return Mount(drive.index, tape, now, remounted, tuple(reads))


def plan_mounts(
    pending: Sequence[RecallItem], drives: Sequence[Drive], now: float, timing: Timing
) -> list[Mount]:
    """Mounts to start now on the idle drives, oldest waiting cartridge first.

    A cartridge that a busy drive is reading waits for that drive (a cartridge is in one
    drive at a time); the drive keeps it, so the waiting files cost no new mount.
    """
    idle = [d for d in drives if d.free_at <= now]
    in_use = {d.tape for d in drives if d.free_at > now}
    by_tape: dict[str, list[RecallItem]] = {}
    for item in pending:
        if item.tape not in in_use:
            by_tape.setdefault(item.tape, []).append(item)
    waiting = sorted(by_tape, key=lambda t: (min(i.requested_at for i in by_tape[t]), t))
    mounts: list[Mount] = []
    for tape in waiting:
        if not idle:
            break
        drive = _pick_drive(idle, tape)
        idle.remove(drive)
        mounts.append(plan_mount(drive, tape, by_tape[tape], now, timing))
    return mounts


def after_mounts(drives: Sequence[Drive], mounts: Iterable[Mount]) -> list[Drive]:
    """The drives once the mounts are started: busy until their last read is done."""
    by_index = {m.drive: m for m in mounts}
    out: list[Drive] = []
    for drive in drives:
        mount = by_index.get(drive.index)
        if mount is None:
            out.append(drive)
        else:
            out.append(replace(drive, tape=mount.tape, head=mount.head, free_at=mount.end))
    return out
