"""The storage-client interface: what OneGrid asks of any storage, ours or anyone's.

Callers (the conveyor, the reaper, `onegrid upload/download`, the pilot) use only this
`StorageClient` protocol; `for_url()` in this package picks the implementation for a URL
(`https://`, `davs://`, `http://`, `dav://` → `HttpStorage`; `file://` or a bare path →
`LocalStorage`). These signatures are a contract with other subsystems: change them only
by adding keyword arguments with defaults.

Errors are `onegrid.errors` types carrying the server's message: `NotFound`, `Forbidden`,
`Unauthenticated`, `AlreadyExists`/`Conflict`, `InvalidInput`, `Unavailable`. Whether
trying again could help is `is_recoverable(exc)`; third-party copies raise
`TransferFailed` whose `recoverable` says so explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from onegrid.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OneGridError,
    QuotaExceeded,
    Unauthenticated,
    Unavailable,
)

TpcMode = Literal["pull", "push"]
# Called with the number of bytes done so far (monotonic), for progress bars.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class FileStat:
    """What a storage says about one path. `checksums` holds catalogue spellings
    (`adler32`: 8 hex digits, `md5`: 32 hex digits) of whatever the storage reported or,
    when asked to, of what the client computed by reading the file."""

    url: str
    size: int
    is_dir: bool = False
    checksums: Mapping[str, str] = field(default_factory=dict)
    mtime: float | None = None  # unix seconds, when the storage says

    @property
    def adler32(self) -> str | None:
        return self.checksums.get("adler32")

    @property
    def md5(self) -> str | None:
        return self.checksums.get("md5")


@dataclass(frozen=True)
class PerfMarker:
    """One HTTP-TPC performance marker (SPECS §1): bytes moved so far at `timestamp`."""

    timestamp: float
    bytes_transferred: int
    stripe_index: int = 0
    total_stripes: int = 1


@dataclass(frozen=True)
class TransferResult:
    """A completed third-party copy: the destination's size (or, when it cannot be
    asked, the bytes of the last marker), the number of markers, the closing line."""

    bytes_transferred: int
    markers: int
    message: str = "success: Created"


class Locality(StrEnum):
    """Tape REST API v1 `archiveinfo` localities (SPECS §2)."""

    DISK = "DISK"
    TAPE = "TAPE"
    DISK_AND_TAPE = "DISK_AND_TAPE"
    LOST = "LOST"
    NONE = "NONE"
    UNAVAILABLE = "UNAVAILABLE"


class StageState(StrEnum):
    SUBMITTED = "SUBMITTED"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def final(self) -> bool:
        return self in (StageState.COMPLETED, StageState.FAILED, StageState.CANCELLED)


@dataclass(frozen=True)
class StagedFile:
    url: str  # the storage's URL of the file (http/https scheme)
    path: str  # the path the Tape REST API names it by (the URL's path)
    state: StageState
    on_disk: bool = False
    error: str | None = None


@dataclass(frozen=True)
class StageStatus:
    """`GET stage/{id}`: the request's files by URL. `request` is the durable handle
    (the absolute URL of `stage/{id}`) that `stage()` returned."""

    request: str
    files: Sequence[StagedFile]
    created_at: float | None = None
    completed_at: float | None = None

    @property
    def done(self) -> bool:
        return all(f.state.final for f in self.files)


class TransferFailed(Unavailable):
    """A copy or a transfer that did not complete. `recoverable` is False when trying again
    cannot help (source missing, permission denied, destination exists without overwrite)."""

    code = "TRANSFER_FAILED"

    def __init__(self, message: str, *, recoverable: bool = True) -> None:
        super().__init__(message)
        self.recoverable = recoverable


class ChecksumMismatch(TransferFailed):
    """The bytes arrived but their checksum differs from the expected one."""

    code = "CHECKSUM_MISMATCH"


_PERMANENT = (NotFound, Forbidden, Unauthenticated, InvalidInput, AlreadyExists, Conflict, QuotaExceeded)


def is_recoverable(exc: BaseException) -> bool:
    """Whether the same operation could succeed later: server trouble and network errors
    yes; missing files, refused permissions and bad requests no."""
    if isinstance(exc, TransferFailed):
        return exc.recoverable
    if isinstance(exc, _PERMANENT):
        return False
    return isinstance(exc, (OneGridError, OSError))


@runtime_checkable
class StorageClient(Protocol):
    """One storage, addressed by absolute URLs. Implementations: `HttpStorage`
    (WebDAV + HTTP-TPC + Tape REST API), `LocalStorage` (file://)."""

    def stat(self, url: str, *, checksums: bool = True, compute: bool = False,
             algorithms: Sequence[str] = ("adler32", "md5")) -> FileStat:
        """Size, kind and checksums (`algorithms`, asked with `Want-Digest`) of a path.
        With `compute`, when the storage reports none of them, they are computed by
        reading the file (GET and hash) — costly but sure."""
        ...

    def exists(self, url: str) -> bool:
        ...

    def get(self, url: str, dest: Path, *, progress: Progress | None = None, resume: bool = False) -> FileStat:
        """Download to `dest` (written as `dest.part`, renamed when complete); returns the
        size and the adler32/md5 computed while streaming (`url` = the source)."""
        ...

    def put(self, source: Path, url: str, *, overwrite: bool = False, progress: Progress | None = None,
            verify: bool = True, expected: Mapping[str, str] | None = None) -> FileStat:
        """Upload `source`, computing adler32/md5 while streaming, parents made as needed.
        With `verify`, the storage's size and checksums are compared with ours (and with
        `expected`); on any failure the partial/wrong file is deleted and the error raised.
        Returns the stat of the uploaded file with the client-computed checksums."""
        ...

    def delete(self, url: str, *, missing_ok: bool = True) -> bool:
        """Remove a file; True if it existed. A missing file is fine unless `missing_ok` is False."""
        ...

    def mkdir(self, url: str, *, parents: bool = True) -> None:
        """Make a directory (and its parents); an existing one is fine."""
        ...

    def list(self, url: str) -> list[FileStat]:
        """The entries directly below a directory (PROPFIND depth 1), without checksums."""
        ...

    def third_party_copy(self, source_url: str, dest_url: str, *, mode: TpcMode = "pull",
                         source_token: str | None = None, dest_token: str | None = None,
                         on_marker: Callable[[PerfMarker], None] | None = None,
                         overwrite: bool = True, timeout: float | None = None,
                         measure: bool = True) -> TransferResult:
        """Copy between two storages without the bytes passing here (HTTP-TPC `COPY`):
        `pull` asks the destination to GET from the source, `push` asks the source to PUT
        to the destination. Markers go to `on_marker` as they arrive. Raises
        `TransferFailed` (with `.recoverable`) or a mapped error for a refused request.
        `measure=False`: the byte count is the markers' only (no request to the destination
        afterwards), for a caller that checks the destination itself."""
        ...

    # -- Tape REST API v1 (SPECS §2) ------------------------------------------------------

    def stage(self, urls: Sequence[str], *, disk_lifetime: int | None = None) -> str:
        """Ask the tape system to bring files to disk; returns the request handle (the
        absolute URL of `stage/{id}`) to store and poll. `disk_lifetime` in seconds."""
        ...

    def stage_status(self, request: str) -> StageStatus:
        ...

    def cancel_stage(self, request: str, urls: Sequence[str] | None = None) -> None:
        """Cancel some files of a request, or (no urls) the whole request (`DELETE`)."""
        ...

    def release(self, request: str, urls: Sequence[str]) -> None:
        """Tell the tape system the disk copies of these staged files are no longer needed."""
        ...

    def archive_info(self, urls: Sequence[str]) -> dict[str, Locality | str]:
        """Locality of each file (`Locality`), or the error text the tape system gave for it."""
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> StorageClient:
        ...

    def __exit__(self, *exc: object) -> None:
        ...


def iter_file(path: Path, chunk: int, offset: int = 0) -> Iterator[bytes]:
    """A file's bytes in chunks from `offset` (bounded memory)."""
    with path.open("rb") as f:
        if offset:
            f.seek(offset)
        while block := f.read(chunk):
            yield block
