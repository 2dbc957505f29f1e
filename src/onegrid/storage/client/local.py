"""`LocalStorage`: the storage client for `file://` URLs and plain paths.

For RSEs on a shared file system and for tests. Writes go to a temporary name and are
renamed into place when complete, so a reader never sees half a file. There is no tape
and no server to hand a copy to: a "third-party copy" between two local paths is a copy.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from onegrid.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from onegrid.storage.client.base import (
    ChecksumMismatch,
    FileStat,
    Locality,
    PerfMarker,
    Progress,
    StageStatus,
    TpcMode,
    TransferResult,
)
from onegrid.storage.client.checksums import CHUNK, Checksummer, mismatches, of_file


def local_path(url: str) -> Path:
    """`file:///a/b` or `/a/b` → `Path('/a/b')`."""
    if url.startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise InvalidInput(f"{url}: file URLs on another host are not local")
        return Path(unquote(parts.path))
    if "://" in url:
        raise InvalidInput(f"{url} is not a local path")
    return Path(url)


def file_url(path: Path) -> str:
    return "file://" + quote(str(path.absolute()))


class LocalStorage:
    """The `StorageClient` for local files."""

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stat(self, url: str, *, checksums: bool = True, compute: bool = False,
             algorithms: Sequence[str] = ("adler32", "md5")) -> FileStat:
        path = local_path(url)
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise NotFound(f"{url}: no such file") from exc
        is_dir = path.is_dir()
        # A file system reports no checksum: reading is the only way, so do it when asked at all.
        sums = of_file(path).as_dict() if checksums and not is_dir else {}
        return FileStat(url=url, size=0 if is_dir else st.st_size, is_dir=is_dir, checksums=sums, mtime=st.st_mtime)

    def exists(self, url: str) -> bool:
        return local_path(url).exists()

    def get(self, url: str, dest: Path, *, progress: Progress | None = None, resume: bool = False) -> FileStat:
        return _copy(local_path(url), dest, progress, url=url)

    def put(self, source: Path, url: str, *, overwrite: bool = False, progress: Progress | None = None,
            verify: bool = True, expected: Mapping[str, str] | None = None) -> FileStat:
        dest = local_path(url)
        if dest.exists() and not overwrite:
            raise AlreadyExists(f"{url}: the file already exists (overwrite not asked)")
        result = _copy(source, dest, progress, url=url)
        problems = mismatches(expected or {}, result.checksums)
        if verify:
            problems += mismatches(result.checksums, of_file(dest).as_dict())
        if problems:
            dest.unlink(missing_ok=True)
            raise ChecksumMismatch(f"{url}: {'; '.join(problems)}")
        return result

    def delete(self, url: str, *, missing_ok: bool = True) -> bool:
        path = local_path(url)
        try:
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
        except FileNotFoundError as exc:
            if missing_ok:
                return False
            raise NotFound(f"{url}: no such file") from exc
        except OSError as exc:
            raise Conflict(f"{url}: {exc.strerror}") from exc
        return True

    def mkdir(self, url: str, *, parents: bool = True) -> None:
        path = local_path(url)
        if path.exists() and not path.is_dir():
            raise Conflict(f"{url}: a file of that name exists")
        path.mkdir(parents=parents, exist_ok=True)

    def list(self, url: str) -> list[FileStat]:
        path = local_path(url)
        if not path.is_dir():
            raise NotFound(f"{url}: no such directory")
        out = []
        for child in sorted(path.iterdir()):
            st = child.stat()
            out.append(FileStat(url=file_url(child), size=0 if child.is_dir() else st.st_size,
                                is_dir=child.is_dir(), mtime=st.st_mtime))
        return out

    def third_party_copy(self, source_url: str, dest_url: str, *, mode: TpcMode = "pull",
                         source_token: str | None = None, dest_token: str | None = None,
                         on_marker: Callable[[PerfMarker], None] | None = None,
                         overwrite: bool = True, timeout: float | None = None,
                         measure: bool = True) -> TransferResult:
        dest = local_path(dest_url)
        if dest.exists() and not overwrite:
            raise AlreadyExists(f"{dest_url}: destination exists and overwrite was not asked")
        result = _copy(local_path(source_url), dest, None, url=dest_url)
        if on_marker:
            on_marker(PerfMarker(timestamp=os.stat(dest).st_mtime, bytes_transferred=result.size))
        return TransferResult(bytes_transferred=result.size, markers=1 if on_marker else 0)

    def stage(self, urls: Sequence[str], *, disk_lifetime: int | None = None) -> str:
        raise InvalidInput("a local file system has no tape: nothing to stage")

    def stage_status(self, request: str) -> StageStatus:
        raise InvalidInput("a local file system has no tape")

    def cancel_stage(self, request: str, urls: Sequence[str] | None = None) -> None:
        raise InvalidInput("a local file system has no tape")

    def release(self, request: str, urls: Sequence[str]) -> None:
        raise InvalidInput("a local file system has no tape")

    def archive_info(self, urls: Sequence[str]) -> dict[str, Locality | str]:
        return {u: Locality.DISK if local_path(u).exists() else Locality.NONE for u in urls}


def _copy(source: Path, dest: Path, progress: Progress | None, *, url: str) -> FileStat:
    """Copy with checksums computed on the way, through a temporary name in the target folder."""
    if not source.is_file():
        raise NotFound(f"{source}: no such file")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part")
    summer = Checksummer()
    try:
        with source.open("rb") as src, tmp.open("wb") as out:
            while block := src.read(CHUNK):
                out.write(block)
                summer.update(block)
                if progress:
                    progress(summer.bytes)
        tmp.replace(dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return FileStat(url=url, size=summer.bytes, checksums=summer.as_dict())


