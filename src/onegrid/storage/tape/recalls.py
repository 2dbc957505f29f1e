"""Recalls from the emulated library: mounting cartridges in free drives (the plan comes
from `recall.plan_mounts`, pure) and, as each planned read falls due, copying the file back
onto the disk buffer. A part of `TapeBackend`, kept apart because it is its own concept:
the backend's hooks and migration work on the disk buffer; this works on the drives."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from onegrid.clock import Clock
from onegrid.storage.tape import recall
from onegrid.storage.tape.files import copy_into, fill_partial, swap_in
from onegrid.storage.tape.stage import StageRequests
from onegrid.storage.tape.state import TapeState

log = logging.getLogger("onegrid.storage.tape.backend")


class Recalls:
    """Mixed into `TapeBackend`, which sets these attributes."""

    clock: Clock
    state: TapeState
    requests: StageRequests
    timing: recall.Timing
    drives: list[recall.Drive]
    mounts: list[recall.Mount]
    mounts_started: int
    _lock: threading.RLock

    def disk_path(self, relpath: str) -> Path:
        raise NotImplementedError

    def _tape_path(self, tape: str, relpath: str) -> Path:
        raise NotImplementedError

    def start_mounts(self) -> int:
        now = self.clock.time()
        pending = self.requests.pending_recalls()
        mounts = recall.plan_mounts(pending, self.drives, now, self.timing)
        if not mounts:
            return 0
        self.drives = recall.after_mounts(self.drives, mounts)
        self.mounts.extend(mounts)
        self.mounts_started += sum(1 for m in mounts if m.remounted)
        self.requests.mark_started([r.path for m in mounts for r in m.reads], now)
        for m in mounts:
            log.info("mount %s in drive %d: %d files, done at %.3f", m.tape, m.drive, len(m.reads), m.end)
        return len(mounts)

    def finish_reads(self) -> int:
        now = self.clock.time()
        done = 0
        still: list[recall.Mount] = []
        for mount in self.mounts:
            due = [r for r in mount.reads if r.ready_at <= now]
            for read in due:
                self._recall_one(mount.tape, read)
                done += 1
            rest = tuple(r for r in mount.reads if r.ready_at > now)
            if rest:
                still.append(recall.Mount(mount.drive, mount.tape, mount.start, mount.remounted, rest))
        self.mounts = still
        return done

    def _recall_one(self, tape: str, read: recall.PlannedRead) -> None:
        """Copy the bytes back beside the stub (no lock held), then swap them in."""
        relpath, at = read.path, read.ready_at
        row = self.state.file(relpath)
        if row is None:
            self.requests.finish(relpath, error="file was deleted during the recall", at=at)
            return
        if not row.on_disk:
            disk = self.disk_path(relpath)
            source = self._tape_path(tape, relpath)
            try:
                partial = fill_partial(disk, lambda fd: copy_into(source, fd))
            except FileNotFoundError:
                self.requests.finish(relpath, error=f"tape copy on cartridge {tape} is lost", at=at)
                return
            with self._lock:
                now = self.state.file(relpath)
                if now is None or now.written_at != row.written_at or now.on_disk:
                    partial.unlink(missing_ok=True)  # rewritten or deleted meanwhile
                else:
                    swap_in(partial, disk)
                    self.state.set_on_disk(relpath, True, self.clock.time())
        self.requests.finish(relpath, error=None, at=at)
