"""The tape emulation's memory: one SQLite file in a hidden folder of the tape root.

SQLite in WAL mode with one transaction per change is crash-safe without us writing a
journal: stage requests, pins and the cartridge of every migrated file survive a
restart. Only the drives (which cartridge is mounted) live in memory; a restart
unloads them, as a real library's power cycle would, and recalls in flight start over.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    written_at REAL NOT NULL,
    accessed_at REAL NOT NULL,
    on_disk INTEGER NOT NULL,
    tape TEXT,
    position INTEGER,
    migrated_at REAL
);
CREATE INDEX IF NOT EXISTS files_tape ON files (tape, position);
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL
);
CREATE TABLE IF NOT EXISTS request_files (
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    path TEXT NOT NULL,
    relpath TEXT,
    state TEXT NOT NULL,
    error TEXT,
    started_at REAL,
    finished_at REAL,
    disk_lifetime REAL NOT NULL,
    pinned_until REAL,
    PRIMARY KEY (request_id, path)
);
CREATE INDEX IF NOT EXISTS request_files_relpath ON request_files (relpath, state);
"""


@dataclass(frozen=True)
class FileRow:
    path: str
    size: int
    written_at: float
    accessed_at: float
    on_disk: bool
    tape: str | None
    position: int | None
    migrated_at: float | None

    @property
    def on_tape(self) -> bool:
        return self.tape is not None


@dataclass(frozen=True)
class RequestRow:
    id: str
    created_at: float
    started_at: float | None
    completed_at: float | None


@dataclass(frozen=True)
class RequestFileRow:
    request_id: str
    ord: int
    path: str
    relpath: str | None
    state: str
    error: str | None
    started_at: float | None
    finished_at: float | None
    disk_lifetime: float
    pinned_until: float | None


class TapeState:
    """Typed access to the state file; every method is one transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL: consistent after any crash
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- files -------------------------------------------------------------------
    def file(self, path: str) -> FileRow | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM files WHERE path = ?", (path,)).fetchone()
        return FileRow(*row[:4], bool(row[4]), *row[5:]) if row else None

    def files(self) -> list[FileRow]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM files").fetchall()
        return [FileRow(*r[:4], bool(r[4]), *r[5:]) for r in rows]

    def files_under(self, path: str) -> list[FileRow]:
        """The file `path` and every file below it (a directory), by an index range scan."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM files WHERE path = ? OR (path >= ? AND path < ?)",
                (path, path + "/", path + "0"),  # "0" sorts right after "/"
            ).fetchall()
        return [FileRow(*r[:4], bool(r[4]), *r[5:]) for r in rows]

    def unmigrated(self, written_before: float) -> list[FileRow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM files WHERE tape IS NULL AND on_disk = 1 AND written_at <= ?",
                (written_before,),
            ).fetchall()
        return [FileRow(*r[:4], bool(r[4]), *r[5:]) for r in rows]

    def disk_usage(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT COALESCE(SUM(size), 0) FROM files WHERE on_disk = 1").fetchone()
        return int(row[0])

    def tape_usage(self) -> tuple[int, int]:
        """Bytes and files with a tape copy."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM files WHERE tape IS NOT NULL"
            ).fetchone()
        return int(row[0]), int(row[1])

    def upsert_written(self, path: str, size: int, now: float) -> None:
        """A new version on disk: any tape copy of an older version no longer counts."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, 1, NULL, NULL, NULL) "
                "ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
                "written_at = excluded.written_at, accessed_at = excluded.accessed_at, "
                "on_disk = 1, tape = NULL, position = NULL, migrated_at = NULL",
                (path, size, now, now),
            )

    def delete_file(self, path: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM files WHERE path = ?", (path,))

    def rename_file(self, src: str, dst: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM files WHERE path = ?", (dst,))
            c.execute("UPDATE files SET path = ? WHERE path = ?", (dst, src))
            # Pins (and recalls) belong to the file, as dCache's do, so they follow a rename.
            c.execute("UPDATE request_files SET relpath = ? WHERE relpath = ?", (dst, src))

    def touch(self, path: str, now: float) -> None:
        with self.transaction() as c:
            c.execute("UPDATE files SET accessed_at = ? WHERE path = ?", (now, path))

    def set_on_disk(self, path: str, on_disk: bool, now: float) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE files SET on_disk = ?, accessed_at = ? WHERE path = ?",
                (int(on_disk), now, path),
            )

    def set_migrated(self, path: str, tape: str, position: int, now: float) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE files SET tape = ?, position = ?, migrated_at = ? WHERE path = ?",
                (tape, position, now, path),
            )

    def last_tape(self) -> tuple[str | None, int]:
        """The cartridge being filled and the highest position used on it (-1: empty)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT tape, MAX(position) FROM files WHERE tape IS NOT NULL "
                "GROUP BY tape ORDER BY tape DESC LIMIT 1"
            ).fetchone()
        return (row[0], row[1]) if row else (None, -1)

    # --- stage requests ------------------------------------------------------------
    def add_request(self, request: RequestRow, files: Sequence[RequestFileRow]) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO requests VALUES (?, ?, ?, ?)",
                (request.id, request.created_at, request.started_at, request.completed_at),
            )
            c.executemany(
                "INSERT INTO request_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_file_tuple(f) for f in files],
            )

    def request(self, request_id: str) -> tuple[RequestRow, list[RequestFileRow]] | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
            if row is None:
                return None
            files = self._conn.execute(
                "SELECT * FROM request_files WHERE request_id = ? ORDER BY ord", (request_id,)
            ).fetchall()
        return RequestRow(*row), [RequestFileRow(*f) for f in files]

    def delete_request(self, request_id: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM request_files WHERE request_id = ?", (request_id,))
            c.execute("DELETE FROM requests WHERE id = ?", (request_id,))

    def request_files_in(self, states: Sequence[str]) -> list[RequestFileRow]:
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM request_files WHERE state IN ({marks}) ORDER BY request_id, ord",
                tuple(states),
            ).fetchall()
        return [RequestFileRow(*r) for r in rows]

    def request_files_for(self, relpath: str, states: Sequence[str]) -> list[RequestFileRow]:
        """The request files of one disk file in these states (index on relpath, state)."""
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM request_files WHERE relpath = ? AND state IN ({marks})",
                (relpath, *states),
            ).fetchall()
        return [RequestFileRow(*r) for r in rows]

    def update_request_files(
        self, files: Sequence[RequestFileRow], *, only_from: Sequence[str] | None = None
    ) -> None:
        """Write back changed file rows and recompute their requests' times.

        `only_from`: change a row only if it is still in one of these states, so a
        transition decided on a stale read (a recall finishing while the client cancels)
        cannot undo another one.
        """
        guard, extra = "", ()
        if only_from is not None:
            guard = f" AND state IN ({','.join('?' * len(only_from))})"
            extra = tuple(only_from)
        with self.transaction() as c:
            c.executemany(
                "UPDATE request_files SET state = ?, error = ?, started_at = ?, "
                "finished_at = ?, pinned_until = ? WHERE request_id = ? AND path = ?" + guard,
                [
                    (
                        f.state,
                        f.error,
                        f.started_at,
                        f.finished_at,
                        f.pinned_until,
                        f.request_id,
                        f.path,
                        *extra,
                    )
                    for f in files
                ],
            )
            for request_id in {f.request_id for f in files}:
                _refresh_request(c, request_id)

    def pinned_paths(self, now: float) -> set[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT relpath FROM request_files "
                "WHERE pinned_until IS NOT NULL AND pinned_until > ? AND relpath IS NOT NULL",
                (now,),
            ).fetchall()
        return {r[0] for r in rows}


def _file_tuple(f: RequestFileRow) -> tuple[object, ...]:
    return (
        f.request_id,
        f.ord,
        f.path,
        f.relpath,
        f.state,
        f.error,
        f.started_at,
        f.finished_at,
        f.disk_lifetime,
        f.pinned_until,
    )


FINAL_STATES = ("COMPLETED", "FAILED", "CANCELLED")


def _refresh_request(c: sqlite3.Connection, request_id: str) -> None:
    """completedAt: when the last file reached a final state (startedAt is set on creation)."""
    marks = ",".join("?" * len(FINAL_STATES))
    started, finished, open_files = c.execute(
        "SELECT MIN(COALESCE(started_at, finished_at)), MAX(finished_at), "
        f"SUM(CASE WHEN state IN ({marks}) THEN 0 ELSE 1 END) "
        "FROM request_files WHERE request_id = ?",
        (*FINAL_STATES, request_id),
    ).fetchone()
    c.execute(
        "UPDATE requests SET started_at = COALESCE(started_at, ?), completed_at = ? WHERE id = ?",
        (started, finished if not open_files else None, request_id),
    )
