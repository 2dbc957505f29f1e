"""Stage requests of the Tape REST API v1: create, follow, cancel, delete, release.

A request holds its files in the order the client sent them. A file already on disk is
COMPLETED (and pinned) at once, as the spec asks ("files already on disk are not
rejected"); a file only on tape waits SUBMITTED until a mount picks its cartridge
(STARTED) and is COMPLETED when its bytes are back on disk, or FAILED. Every change is
one SQLite transaction, so requests and pins survive a restart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from onegrid.errors import InvalidInput, NotFound
from onegrid.storage.tape.recall import RecallItem
from onegrid.storage.tape.state import FINAL_STATES, RequestFileRow, RequestRow

if TYPE_CHECKING:
    from onegrid.storage.tape.backend import TapeBackend

SUBMITTED, STARTED, COMPLETED, FAILED, CANCELLED = (
    "SUBMITTED",
    "STARTED",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
)
OPEN_STATES = (SUBMITTED, STARTED)

_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """Seconds of an ISO 8601 duration such as `PT1H` or `P1DT12H` (the spec's `diskLifetime`)."""
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise InvalidInput(f"diskLifetime {text!r} is not an ISO 8601 duration such as PT1H")
    return sum(float(v) * _SECONDS[k] for k, v in match.groupdict().items() if v)


@dataclass(frozen=True)
class StageFile:
    path: str
    disk_lifetime: float


class StageRequests:
    def __init__(self, backend: TapeBackend) -> None:
        self.backend = backend
        self.state = backend.state
        # Mounts live in memory: after a restart, files that were being read wait again.
        started = self.state.request_files_in([STARTED])
        if started:
            self.state.update_request_files(
                [replace(f, state=SUBMITTED, started_at=None) for f in started], only_from=[STARTED]
            )

    def now(self) -> float:
        return self.backend.clock.time()

    # --- API operations ----------------------------------------------------------------
    def create(self, files: Sequence[StageFile]) -> str:
        paths = [f.path for f in files]
        if not files:
            raise InvalidInput("a stage request needs at least one file")
        if len(set(paths)) != len(paths):
            raise InvalidInput("a stage request names the same path twice")
        now = self.now()
        request_id = str(uuid.uuid4())
        rows = [self._first_state(request_id, i, f, now) for i, f in enumerate(files)]
        done = all(r.state in FINAL_STATES for r in rows)
        # Processing starts at once (every file is looked up as the request is accepted), so
        # `startedAt` is always present, as the v1 document shows it and EOS answers it.
        self.state.add_request(RequestRow(request_id, now, now, now if done else None), rows)
        return request_id

    def _first_state(self, request_id: str, ord_: int, f: StageFile, now: float) -> RequestFileRow:
        relpath = self.backend.relpath_of(f.path)
        row = RequestFileRow(
            request_id, ord_, f.path, relpath, SUBMITTED, None, None, None, f.disk_lifetime, None
        )
        if relpath is None:
            return replace(
                row, state=FAILED, error="path is outside this storage's namespace", finished_at=now
            )
        known = self.backend.file_row(relpath)
        if known is None:
            disk = self.backend.disk_path(relpath)
            if disk.is_dir():
                return replace(row, state=FAILED, error="path is a directory", finished_at=now)
            if not disk.is_file():
                return replace(row, state=FAILED, error="No such file or directory", finished_at=now)
        if known is None or known.on_disk:
            return replace(
                row, state=COMPLETED, started_at=now, finished_at=now, pinned_until=now + f.disk_lifetime
            )
        if known.tape is None:
            return replace(row, state=FAILED, error="file has no disk and no tape copy", finished_at=now)
        return row

    def get(self, request_id: str) -> tuple[RequestRow, list[RequestFileRow]]:
        found = self.state.request(request_id)
        if found is None:
            raise NotFound(f"stage request {request_id} does not exist")
        return found

    def status(self, request_id: str) -> dict[str, Any]:
        request, files = self.get(request_id)
        body: dict[str, Any] = {"id": request.id, "createdAt": int(request.created_at)}
        if request.started_at is not None:
            body["startedAt"] = int(request.started_at)
        if request.completed_at is not None:
            body["completedAt"] = int(request.completed_at)
        body["files"] = [self._file_status(f) for f in files]
        return body

    def _file_status(self, f: RequestFileRow) -> dict[str, Any]:
        out: dict[str, Any] = {"path": f.path, "state": f.state, "onDisk": self._on_disk(f)}
        if f.error:
            out["error"] = f.error
        if f.started_at is not None:
            out["startedAt"] = int(f.started_at)
        if f.finished_at is not None:
            out["finishedAt"] = int(f.finished_at)
        return out

    def _on_disk(self, f: RequestFileRow) -> bool:
        if f.relpath is None:
            return False
        row = self.backend.file_row(f.relpath)
        if row is None:
            return self.backend.disk_path(f.relpath).is_file()
        return row.on_disk

    def cancel(self, request_id: str, paths: Sequence[str]) -> None:
        """Cancel files still waiting or being read; finished files keep their state."""
        _, files = self.get(request_id)
        chosen = self._pick(request_id, files, paths)
        now = self.now()
        self.state.update_request_files(
            [replace(f, state=CANCELLED, finished_at=now) for f in chosen if f.state in OPEN_STATES],
            only_from=OPEN_STATES,
        )

    def delete(self, request_id: str) -> None:
        """Forget the request: its open files are cancelled and its pins dropped."""
        self.get(request_id)
        self.state.delete_request(request_id)

    def release(self, request_id: str, paths: Sequence[str]) -> None:
        """Unpin: the disk copies may be evicted from now on (if migrated)."""
        _, files = self.get(request_id)
        chosen = self._pick(request_id, files, paths)
        self.state.update_request_files([replace(f, pinned_until=None) for f in chosen])

    def _pick(
        self, request_id: str, files: Sequence[RequestFileRow], paths: Sequence[str]
    ) -> list[RequestFileRow]:
        """The request's files named by `paths`, compared as normalised namespace paths
        (`/belle//raw/./f` is `/belle/raw/f`), all or nothing: one stranger is a 400."""
        if not paths:
            raise InvalidInput("paths must name at least one file of the request")
        by_key = {self._key(f.path): f for f in files}
        chosen: dict[str, RequestFileRow] = {}
        missing: list[str] = []
        for p in paths:
            found = by_key.get(self._key(p))
            if found is None:
                missing.append(p)
            else:
                chosen[found.path] = found
        if missing:
            raise InvalidInput(f"not in stage request {request_id}: {', '.join(missing)}")
        return list(chosen.values())

    def _key(self, path: str) -> str:
        relpath = self.backend.relpath_of(path)
        return path if relpath is None else "/" + relpath

    # --- used by the backend's cycle -----------------------------------------------------------
    def pending_recalls(self) -> list[RecallItem]:
        """Waiting files that need a tape read; those already back on disk complete here."""
        items: list[RecallItem] = []
        ready: list[str] = []
        created: dict[str, float] = {}
        for f in self.state.request_files_in([SUBMITTED]):
            row = self.backend.file_row(f.relpath) if f.relpath else None
            if row is None or row.tape is None:
                if row is not None and row.on_disk:
                    ready.append(row.path)
                continue
            if row.on_disk:
                ready.append(row.path)
                continue
            if f.request_id not in created:
                found = self.state.request(f.request_id)
                created[f.request_id] = found[0].created_at if found else self.now()
            items.append(RecallItem(row.path, row.tape, row.position or 0, row.size, created[f.request_id]))
        for relpath in dict.fromkeys(ready):
            self.finish(relpath, error=None)
        return items

    def mark_started(self, relpaths: Sequence[str], now: float) -> None:
        wanted = set(relpaths)
        self.state.update_request_files(
            [
                replace(f, state=STARTED, started_at=now)
                for f in self.state.request_files_in([SUBMITTED])
                if f.relpath in wanted
            ],
            only_from=[SUBMITTED],
        )

    def finish(self, relpath: str, *, error: str | None, at: float | None = None) -> None:
        """The read of `relpath` ended (at `at`): every open request file for it completes or fails."""
        now = self.now() if at is None else min(at, self.now())
        rows = self.state.request_files_for(relpath, OPEN_STATES)
        if error is None:
            done = [
                replace(
                    f,
                    state=COMPLETED,
                    finished_at=now,
                    started_at=f.started_at or now,
                    pinned_until=now + f.disk_lifetime,
                )
                for f in rows
            ]
        else:
            done = [replace(f, state=FAILED, finished_at=now, error=error) for f in rows]
        self.state.update_request_files(done, only_from=OPEN_STATES)
