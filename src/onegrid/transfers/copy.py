"""One file from one storage to another: HTTP third-party copy with gfal2's fallbacks, and
the checks that decide whether the destination replica may be called AVAILABLE.

Order (SPECS §1): pull (the destination GETs), push if pull is refused (the source PUTs),
streamed through this process if neither is offered. Each side gets its own token narrowed
to exactly the file (`storage.read:<path>` for the source; `storage.modify:<path>
storage.read:<path>` for the destination, whose checksum is read back), audience the
storage. Afterwards the destination's size and checksum are compared with the catalogue's;
on a mismatch the source is checked too, so that a corrupt source is told apart from a
transfer that went wrong.

The outcome says what the conveyor should do next: DONE, RETRY (recoverable: later, with
backoff), NEXT_SOURCE (this source cannot serve: try another), FAILED (nothing will help).
"""

from __future__ import annotations

import contextlib
import enum
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from onegrid.errors import (
    AlreadyExists,
    Forbidden,
    NotFound,
    OneGridError,
    Unauthenticated,
)
from onegrid.storage.client import (
    ChecksumMismatch,
    FileStat,
    PerfMarker,
    StorageClient,
    TransferFailed,
    TransferResult,
    is_recoverable,
)
from onegrid.storage.client.checksums import parse_digest, want_digest
from onegrid.storage.client.errors import network_error, raise_for
from onegrid.storage.client.http import HttpStorage, http_url

Mint = Callable[[list[str], str], str]  # (scopes, audience) -> token
ClientFor = Callable[[str | None], StorageClient]  # token -> a client sending it


class Outcome(enum.StrEnum):
    DONE = "DONE"
    RETRY = "RETRY"
    NEXT_SOURCE = "NEXT_SOURCE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class CopySpec:
    source_url: str
    dest_url: str
    source_path: str  # what the source token's scope names
    dest_path: str
    source_audience: str
    dest_audience: str
    bytes: int | None
    adler32: str | None
    md5: str | None
    overwrite: bool = True
    verify_checksum: bool = True
    timeout: float | None = None
    pull: bool = True  # the destination does HTTP-TPC (may be asked to pull)
    push: bool = True  # the source does HTTP-TPC (may be asked to push)


@dataclass(frozen=True)
class CopyResult:
    outcome: Outcome
    mode: str | None = None  # pull | push | streamed
    bytes: int = 0
    error: str | None = None
    source_corrupt: bool = False


class _SourceCorrupt(Exception):
    pass


def _refused_mode(exc: OneGridError) -> bool:
    """The active party refused this kind of COPY before any byte moved (gfal2 then tries
    the next mode). Refusals about the file itself (missing, forbidden, exists) are final."""
    if isinstance(exc, TransferFailed):
        return False
    return not isinstance(exc, (NotFound, Forbidden, Unauthenticated, AlreadyExists))


_SYNC_VERDICT = re.compile(r"^success: \d{3}$")


def _expected(spec: CopySpec) -> dict[str, str]:
    out = {}
    if spec.adler32:
        out["adler32"] = spec.adler32.lower().zfill(8)
    if spec.md5:
        out["md5"] = spec.md5.lower()
    return out


def _differences(spec: CopySpec, size: int, checksums: dict[str, str]) -> list[str]:
    diffs = []
    if spec.bytes is not None and size != spec.bytes:
        diffs.append(f"size {size} != {spec.bytes}")
    for kind, want in _expected(spec).items():
        got = checksums.get(kind)
        if got is not None and got.lower().zfill(len(want)) != want:
            diffs.append(f"{kind} {got} != {want}")
    return diffs


class FileCopy:
    """Copies one file; `run()` never raises for storage trouble, it returns an outcome."""

    def __init__(self, spec: CopySpec, *, mint: Mint, client_for: ClientFor, tmp_dir: Path,
                 on_progress: Callable[[int], None] | None = None) -> None:
        self.spec = spec
        self.client_for = client_for
        self.tmp_dir = tmp_dir
        self.on_progress = on_progress
        self.mode = "pull"
        self.refusals: list[str] = []
        self._made_parent = False
        self.src_token = mint([f"storage.read:{spec.source_path}"], spec.source_audience)
        self.dst_token = mint([f"storage.modify:{spec.dest_path}", f"storage.read:{spec.dest_path}"],
                              spec.dest_audience)

    def _marker(self, m: PerfMarker) -> None:
        if self.on_progress:
            self.on_progress(m.bytes_transferred)

    def run(self) -> CopyResult:
        try:
            moved = self._transfer()
            if self.spec.verify_checksum:
                self._verify_destination()
            return CopyResult(Outcome.DONE, mode=self.mode, bytes=moved)
        except _SourceCorrupt as exc:
            self._remove_destination()
            return CopyResult(Outcome.NEXT_SOURCE, mode=self.mode, error=self._why(str(exc)), source_corrupt=True)
        except ChecksumMismatch as exc:
            return self._after_mismatch(self.mode, self._why(exc.message))
        except AlreadyExists as exc:
            # Without overwrite: a copy made by an attempt that died after it finished (a
            # killed conveyor) is the right file already; anything else stays a failure.
            if self._destination_is_right():
                return CopyResult(Outcome.DONE, mode="exists", bytes=self.spec.bytes or 0)
            return CopyResult(Outcome.FAILED, mode=self.mode, error=self._why(exc.message))
        except OneGridError as exc:
            return CopyResult(_classify(exc), mode=self.mode, error=self._why(exc.message))
        except OSError as exc:  # the streamed fallback's local disk
            return CopyResult(Outcome.RETRY, mode=self.mode, error=self._why(f"{type(exc).__name__}: {exc}"))

    def _why(self, message: str) -> str:
        """The error, after the refusals of the modes tried before (what an operator needs)."""
        return "; ".join([*self.refusals, message])

    def _transfer(self) -> int:
        s = self.spec
        for mode, token, allowed in (("pull", self.dst_token, s.pull), ("push", self.src_token, s.push)):
            if not allowed:
                continue
            self.mode = mode
            try:
                r = self._copy(mode, token)
            except OneGridError as exc:
                if not _refused_mode(exc):
                    raise
                self.refusals.append(f"{mode} refused: {exc.message}")
                if not self._made_parent and self._make_parent():
                    # Some servers (XRootD) do not create the parent directories of a pulled
                    # file; gfal2 makes them first. Only on refusal: ours do, and it costs a request.
                    try:
                        r = self._copy(mode, token)
                    except OneGridError as again:
                        if not _refused_mode(again):
                            raise
                        self.refusals.append(f"{mode} refused after making the parent: {again.message}")
                        continue
                else:
                    continue
            if _SYNC_VERDICT.match(r.message) and not self._destination_exists():
                # A plain WebDAV server answered COPY synchronously without a third-party
                # copy (nginx copies Destination within itself): nothing arrived here.
                self.refusals.append(f"{mode}: answered {r.message} but nothing arrived")
                continue
            return r.bytes_transferred or s.bytes or 0
        self.mode = "streamed"
        return self._streamed()

    def _copy(self, mode: str, token: str) -> TransferResult:
        s = self.spec
        # The destination is checked afterwards (`_verify_destination`) whenever the catalogue
        # knows a checksum or a size: then the client need not ask for the size as well.
        verified_later = s.verify_checksum and (bool(_expected(s)) or s.bytes is not None)
        return self.client_for(token).third_party_copy(
            s.source_url, s.dest_url, mode=mode, source_token=self.src_token,  # type: ignore[arg-type]
            dest_token=self.dst_token, on_marker=self._marker, overwrite=s.overwrite, timeout=s.timeout,
            measure=not verified_later)

    def _make_parent(self) -> bool:
        self._made_parent = True
        parent = self.spec.dest_url.rsplit("/", 1)[0] + "/"
        try:
            self.client_for(self.dst_token).mkdir(parent, parents=True)
        except OneGridError:
            return False
        return True

    def _destination_exists(self) -> bool:
        try:
            return self.client_for(self.dst_token).exists(self.spec.dest_url)
        except OneGridError:
            return False

    def _streamed(self) -> int:
        """Through this process: GET to a temporary file, then PUT with verification."""
        s = self.spec
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp_dir / f"stream-{uuid.uuid4().hex}"
        try:
            got = self.client_for(self.src_token).get(s.source_url, tmp, progress=self.on_progress)
            diffs = _differences(s, got.size, dict(got.checksums))
            if diffs:
                raise _SourceCorrupt(f"source {s.source_url} is corrupt: {', '.join(diffs)}")
            self.client_for(self.dst_token).put(tmp, s.dest_url, overwrite=s.overwrite, verify=True,
                                                expected=_expected(s) or None)
            return got.size
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
            with contextlib.suppress(OSError):
                tmp.with_name(tmp.name + ".part").unlink()

    def _verify_destination(self) -> None:
        s = self.spec
        if not _expected(s) and s.bytes is None:
            return
        st = self._stat(self.dst_token, s.dest_url)
        diffs = _differences(s, st.size, dict(st.checksums))
        if diffs:
            raise ChecksumMismatch(f"destination {s.dest_url}: {', '.join(diffs)}", recoverable=True)

    def _stat(self, token: str, url: str) -> FileStat:
        """Size and the checksums the catalogue has, as the storage reports them; read and
        hashed here only when the storage does not report a needed one (nginx reports none)."""
        client = self.client_for(token)
        wanted = list(_expected(self.spec))
        if wanted and isinstance(client, HttpStorage):
            # Ask for exactly the catalogue's algorithms: a storage computes what it has not
            # stored (our endpoint hashes a pulled file's md5 on demand: seconds per GB).
            try:
                r = client.http.head(http_url(url), headers={"Authorization": f"Bearer {token}",
                                                             "Want-Digest": want_digest(wanted)},
                                     follow_redirects=True)
            except httpx.HTTPError as exc:
                raise network_error(exc, f"HEAD {url}") from exc
            raise_for(r, f"HEAD {url}")
            sums = parse_digest(r.headers.get("Digest")) or parse_digest(r.headers.get("Repr-Digest"))
            if set(wanted) <= set(sums) and r.headers.get("Content-Length") is not None:
                return FileStat(url=url, size=int(r.headers["Content-Length"]), checksums=sums)
        return client.stat(url, checksums=True, compute=True)

    def _destination_is_right(self) -> bool:
        if not _expected(self.spec):
            return False
        try:
            self._verify_destination()
        except OneGridError:
            return False
        return True

    def _after_mismatch(self, mode: str, message: str) -> CopyResult:
        """The destination is wrong: is the source to blame?"""
        self._remove_destination()
        try:
            st = self._stat(self.src_token, self.spec.source_url)
        except OneGridError as exc:
            return CopyResult(_classify(exc), mode=mode, error=f"{message}; source check failed: {exc.message}")
        diffs = _differences(self.spec, st.size, dict(st.checksums))
        if diffs:
            return CopyResult(Outcome.NEXT_SOURCE, mode=mode, source_corrupt=True,
                              error=f"source {self.spec.source_url} is corrupt: {', '.join(diffs)}")
        return CopyResult(Outcome.RETRY, mode=mode, error=f"checksum mismatch after copy: {message}")

    def _remove_destination(self) -> None:
        with contextlib.suppress(OneGridError, OSError):
            self.client_for(self.dst_token).delete(self.spec.dest_url)


def _classify(exc: OneGridError) -> Outcome:
    if isinstance(exc, AlreadyExists):
        return Outcome.FAILED
    if is_recoverable(exc):
        return Outcome.RETRY
    text = exc.message.lower()
    if isinstance(exc, (NotFound, Forbidden, Unauthenticated)) or "not found" in text or "404" in text \
            or "403" in text or "permission" in text:
        return Outcome.NEXT_SOURCE
    return Outcome.FAILED
