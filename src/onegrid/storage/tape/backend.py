"""The seam between the storage endpoint and the tape emulation (`onegrid storage --tape`).

How the endpoint wires it (src/onegrid/storage/endpoint/):

    backend = TapeBackend(disk_root=root, tape_root=tape_dir, settings=TapeSettings(...),
                          clock=clock, base_path="/belle", authorize=my_authorize)
    app = Starlette(routes=[*backend.routes(), *webdav_routes],
                    lifespan=...)   # lifespan: `await backend.start()` / `await backend.stop()`

- `routes()` is a list of Starlette routes with absolute paths: the discovery document
  `/.well-known/wlcg-tape-rest-api` and the API under `TAPE_API_PREFIX` (`/api/v1/tape`,
  as dCache). Put them BEFORE the WebDAV catch-all route.
- `authorize(request, scope, paths)` is awaited by every API route before it acts:
  `scope` is `"storage.stage"` (stage, poll, cancel, delete, release) or `"storage.read"`
  (archiveinfo); `paths` are namespace paths as the client sent them (they include the
  base path). It raises `onegrid.errors.Unauthenticated`/`Forbidden`; the API turns any
  `OneGridError` into an RFC 7807 problem. Without `authorize` everything is allowed.
- After a PUT/COPY-in/MOVE/DELETE completes, call `on_written(relpath, size)`,
  `on_moved(src, dst)` or `on_deleted(relpath)` (relpath: relative to the disk root,
  no leading slash). A MOVE of a directory: call `on_moved` with the directory paths.
- Before serving a GET (or the source side of a third-party copy) call
  `is_online(relpath)`; when it is False answer `offline_response(relpath)` (409, "file is
  on tape only (NEARLINE): stage it first"). HEAD and PROPFIND stay as they are: an
  evicted file keeps its name, size, mtime and extended attributes on disk as a sparse
  stub (what HSMs do), so stat and stored checksums still work. `on_read(relpath)` after a
  GET keeps the least-recently-used eviction order honest.
- `locality(relpath)` for PROPFIND/SRR extras if wanted (DISK, TAPE, DISK_AND_TAPE, ...).

The disk root is the endpoint's root (the disk buffer). Migrated files are copied to
`<tape_root>/<cartridge>/<relpath>`; the state lives in `<tape_root>/.onegrid-tape/`.
Eviction and recall replace the disk file atomically (`os.replace`), so a reader that
already opened it keeps reading the old inode to the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from onegrid.clock import Clock
from onegrid.storage.tape import buffer, recall
from onegrid.storage.tape.buffer import BufferFile, Locality
from onegrid.storage.tape.files import fill_partial, swap_in
from onegrid.storage.tape.recalls import Recalls
from onegrid.storage.tape.settings import TapeSettings
from onegrid.storage.tape.stage import StageRequests
from onegrid.storage.tape.state import FileRow, TapeState

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

log = logging.getLogger(__name__)

TAPE_API_PREFIX = "/api/v1/tape"
DISCOVERY_PATH = "/.well-known/wlcg-tape-rest-api"
STATE_DIR = ".onegrid-tape"

Authorize = Callable[["Request", str, Sequence[str]], Awaitable[None]]


class TapeBackend(Recalls):
    """A disk buffer in front of an emulated tape library, driven by one background task."""

    def __init__(
        self,
        disk_root: Path,
        tape_root: Path,
        settings: TapeSettings,
        clock: Clock,
        *,
        base_path: str = "/",
        authorize: Authorize | None = None,
    ) -> None:
        self.disk_root = Path(disk_root).resolve()
        self.tape_root = Path(tape_root).resolve()
        self.tape_root.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.clock = clock
        self.base_path = "/" + base_path.strip("/")
        self.authorize = authorize
        self.state = TapeState(self.tape_root / STATE_DIR / "state.sqlite")
        self.timing = recall.Timing(
            settings.mount_latency,
            settings.seek_time,
            settings.throughput,
            settings.files_per_tape,
        )
        self.drives = [recall.Drive(i) for i in range(settings.drives)]
        self.mounts: list[recall.Mount] = []
        self.mounts_started = 0  # cartridges loaded into a drive since start (for tests, logs)
        self.requests = StageRequests(self)
        # Serialises file replacement (evict, recall) against the endpoint's hooks.
        self._lock = threading.RLock()
        self._task: asyncio.Task[None] | None = None
        self._cycle = threading.Lock()  # one run_once at a time; close() waits for it
        self._closed = False

    # --- hooks for the endpoint -------------------------------------------------------
    def on_written(self, relpath: str, size: int) -> None:
        """A complete new version landed on the disk buffer; it will be migrated later."""
        relpath = _clean(relpath)
        with self._lock:
            old = self.state.file(relpath)
            self.state.upsert_written(relpath, size, self.clock.time())
            if old is not None and old.tape is not None:
                self._tape_path(old.tape, relpath).unlink(missing_ok=True)

    def on_deleted(self, relpath: str) -> None:
        """The file (or a whole directory) is gone from the namespace: drop its tape copies."""
        relpath = _clean(relpath)
        with self._lock:
            for row in self._rows_under(relpath):
                if row.tape is not None:
                    self._tape_path(row.tape, row.path).unlink(missing_ok=True)
                self.state.delete_file(row.path)

    def on_moved(self, src: str, dst: str) -> None:
        """A rename in the namespace (file or directory); tape copies follow the name."""
        src, dst = _clean(src), _clean(dst)
        with self._lock:
            self.on_deleted(dst)
            for row in self._rows_under(src):
                new = dst + row.path[len(src) :]
                if row.tape is not None:
                    target = self._tape_path(row.tape, new)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with contextlib.suppress(FileNotFoundError):
                        os.replace(self._tape_path(row.tape, row.path), target)
                self.state.rename_file(row.path, new)

    def on_read(self, relpath: str) -> None:
        self.state.touch(_clean(relpath), self.clock.time())

    def is_online(self, relpath: str) -> bool:
        """False only for a file we know whose disk copy was evicted (or never recalled)."""
        row = self.state.file(_clean(relpath))
        return row is None or row.on_disk

    def locality(self, relpath: str) -> str:
        relpath = _clean(relpath)
        row = self.state.file(relpath)
        if row is None:
            return Locality.NONE.value
        on_tape = row.tape is not None and self._tape_path(row.tape, relpath).is_file()
        lost = row.tape is not None and not on_tape
        return buffer.locality(known=True, on_disk=row.on_disk, on_tape=on_tape, lost=lost).value

    def offline_response(self, relpath: str) -> Response:
        from onegrid.storage.tape.api import problem

        return problem(
            409,
            "File is on tape only",
            f"{self.namespace_path(relpath)} is NEARLINE (on tape, not on disk): stage it first through the "
            f"Tape REST API ({TAPE_API_PREFIX}/stage)",
        )

    def space(self) -> dict[str, dict[str, int]]:
        """SRR `storagecapacity` as a tape store sees it: `online` is the disk buffer
        (its capacity and the bytes of disk copies), `nearline` the bytes on tape."""
        on_tape, _ = self.state.tape_usage()
        return {
            "online": {
                "totalsize": self.settings.buffer_capacity,
                "usedsize": self.state.disk_usage(),
                "reservedsize": 0,
            },
            "nearline": {
                "totalsize": on_tape,
                "usedsize": on_tape,
                "reservedsize": 0,
            },  # tapes are added as they fill
        }

    def routes(self) -> list[BaseRoute]:
        from onegrid.storage.tape.api import tape_routes

        return tape_routes(self)

    # --- paths --------------------------------------------------------------------------
    def relpath_of(self, path: str) -> str | None:
        """The disk-root relative path of a namespace path (None: outside the base path).

        Normalised lexically as StoRM does (`//` and `.` dropped); `..` is refused, never
        resolved. Some clients send a whole URL: its path is taken.
        """
        if "://" in path:
            path = path.split("://", 1)[1].partition("/")[2].partition("?")[0]
        parts = [p for p in path.split("/") if p and p != "."]
        if ".." in parts:
            return None
        base = [p for p in self.base_path.split("/") if p]
        if parts[: len(base)] != base:
            return None
        return "/".join(parts[len(base) :])

    def namespace_path(self, relpath: str) -> str:
        return self.base_path.rstrip("/") + "/" + _clean(relpath)

    def disk_path(self, relpath: str) -> Path:
        return self.disk_root / relpath

    def _tape_path(self, tape: str, relpath: str) -> Path:
        return self.tape_root / tape / relpath

    def _rows_under(self, relpath: str) -> list[FileRow]:
        if not relpath:
            return self.state.files()
        return self.state.files_under(relpath)

    # --- the background work --------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            await asyncio.to_thread(self.adopt_existing)
            self._task = asyncio.create_task(self._loop(), name="tape-backend")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def adopt_existing(self) -> int:
        """Files already in the disk root that the tape never heard of (the endpoint ran
        without `--tape`, or files were placed by hand): treat them as just written.

        Hidden names are the endpoint's bookkeeping and partial files, never data; our own
        partial files that a crash left behind (`.NAME.tape-…`) are removed.
        """
        known = {r.path for r in self.state.files()}
        adopted = 0
        for dirpath, dirnames, filenames in os.walk(self.disk_root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                path = Path(dirpath, name)
                if name.startswith("."):
                    if ".tape-" in name:
                        path.unlink(missing_ok=True)
                    continue
                relpath = path.relative_to(self.disk_root).as_posix()
                if relpath not in known and path.is_file() and not path.is_symlink():
                    self.state.upsert_written(relpath, path.stat().st_size, self.clock.time())
                    adopted += 1
        if adopted:
            log.info("tape: adopted %d files found on the disk buffer", adopted)
        return adopted

    def close(self) -> None:
        """Close the state file, after the cycle a cancelled loop left running in its thread."""
        with self._cycle:
            self._closed = True
            self.state.close()

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # a bad file must not stop migration of the others
                log.exception("tape backend cycle failed")
            await self.clock.asleep(self.settings.tick)

    def run_once(self) -> int:
        """One cycle: finish due reads, start mounts, migrate, evict. Returns actions done."""
        with self._cycle:
            if self._closed:
                return 0
            return self.finish_reads() + self.start_mounts() + self.migrate() + self.evict()

    def migrate(self) -> int:
        now = self.clock.time()
        rows = {r.path: r for r in self.state.unmigrated(now - self.settings.migration_delay)}
        due = buffer.due_for_migration(
            (_buffer_file(r) for r in rows.values()), now, self.settings.migration_delay
        )
        for path in due:
            self._migrate_one(rows[path])
        return len(due)

    def _next_slot(self) -> tuple[str, int]:
        tape, last = self.state.last_tape()
        if tape is None:
            return "T00000", 0
        if last + 1 < self.settings.files_per_tape:
            return tape, last + 1
        return f"T{int(tape[1:]) + 1:05d}", 0

    def _migrate_one(self, row: FileRow) -> None:
        source = self.disk_path(row.path)
        tape, position = self._next_slot()
        target = self._tape_path(tape, row.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".migrating")
        try:
            shutil.copyfile(source, partial)
        except FileNotFoundError:  # deleted behind our back: forget it
            self.state.delete_file(row.path)
            return
        with self._lock:
            current = self.state.file(row.path)
            if current is None or current.written_at != row.written_at:
                partial.unlink(missing_ok=True)  # rewritten meanwhile: migrate later
                return
            os.replace(partial, target)
            self.state.set_migrated(row.path, tape, position, self.clock.time())

    def evict(self) -> int:
        s = self.settings
        if self.state.disk_usage() <= s.high_watermark * s.buffer_capacity:
            return 0  # the common case, answered by one indexed sum
        now = self.clock.time()
        pinned = self.state.pinned_paths(now)
        files = [_buffer_file(r, r.path in pinned) for r in self.state.files()]
        chosen = buffer.choose_evictions(
            files,
            self.settings.buffer_capacity,
            self.settings.high_watermark,
            self.settings.low_watermark,
        )
        done = 0
        for path in chosen:
            done += self._evict_one(path)
        return done

    def _evict_one(self, relpath: str) -> int:
        with self._lock:
            row = self.state.file(relpath)
            if row is None or not row.on_disk or row.tape is None:
                return 0
            if not self._tape_path(row.tape, relpath).is_file():
                return 0  # never drop the last good copy
            disk = self.disk_path(relpath)
            if not disk.is_file():
                return 0
            # A hole of the right length: no blocks on disk, same size for stat.
            stub = fill_partial(disk, lambda fd: os.ftruncate(fd, row.size), durable=False)
            # The state first: a crash in between leaves a full file marked evicted
            # (harmless, a recall rewrites it), never a stub marked on disk.
            self.state.set_on_disk(relpath, False, row.accessed_at)
            swap_in(stub, disk)
            return 1

    # --- used by the API -------------------------------------------------------------------
    def file_row(self, relpath: str) -> FileRow | None:
        return self.state.file(relpath)


def _clean(relpath: str) -> str:
    return relpath.strip("/")


def _buffer_file(row: FileRow, pinned: bool = False) -> BufferFile:
    return BufferFile(
        row.path, row.size, row.written_at, row.accessed_at, row.on_disk, row.tape is not None, pinned
    )
