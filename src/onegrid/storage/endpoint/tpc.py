"""WLCG HTTP third-party copy (SPECS.md §1, twiki LCG/HttpTpcTechnical).

`COPY` with `Source:` is a pull (this endpoint GETs the file), with `Destination:` a push
(this endpoint PUTs it). `TransferHeader<Name>: v` travels to the remote as `<Name>: v`.
The reply is `202` with a chunked `text/plain` body: a performance marker at once and then
every `marker_interval` seconds, and a last line `success: Created` or `failure: <why>`
(`aborted: ...` if the client went away). A copy succeeds only once sizes agree and, when
the remote reports one, the adler32 (or md5) agrees too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat as statmod
from dataclasses import dataclass

from onegrid.errors import Conflict, InvalidInput, OneGridError
from onegrid.storage.endpoint import direct, remote
from onegrid.storage.endpoint.auth import Access, Caller
from onegrid.storage.endpoint.bodyio import FileSink
from onegrid.storage.endpoint.checksums import parse_digest_header
from onegrid.storage.endpoint.http import HttpError, Request, start
from onegrid.storage.endpoint.paths import StoragePath
from onegrid.storage.endpoint.state import Endpoint, log
from onegrid.storage.endpoint.webdav_read import stat_or_404
from onegrid.storage.endpoint.webdav_write import (
    check_space,
    lstat_or_none,
    make_parents,
    overwrite_allowed,
    written,
)

TRANSFER_HEADER = "transferheader"


class TpcFailure(Exception):
    """A copy that did not happen; the message goes on the `failure:` line."""


@dataclass
class Progress:
    bytes: int = 0


def transfer_headers(req: Request) -> dict[str, str]:
    return {k[len(TRANSFER_HEADER):]: v for k, v in req.headers.items()
            if k.startswith(TRANSFER_HEADER) and len(k) > len(TRANSFER_HEADER)}


def perf_marker(timestamp: float, transferred: int) -> bytes:
    return (f"Perf Marker\nTimestamp: {int(timestamp)}\nStripe Index: 0\n"
            f"Stripe Bytes Transferred: {transferred}\nTotal Stripe Count: 1\nEnd\n").encode()


def _require_checksum(req: Request) -> bool:
    # dCache's header; we verify whenever the remote gives a checksum, and with this set
    # a remote that gives none fails the copy.
    return (req.header("requirechecksumverification") or "false").strip().lower() == "true"


async def copy(ep: Endpoint, req: Request, caller: Caller) -> int:
    credential = (req.header("credential") or "none").strip().lower()
    if credential != "none":
        raise InvalidInput(f"Credential: {credential} is not supported; delegate with "
                           "TransferHeaderAuthorization and Credential: none")
    source, destination = req.header("source"), req.header("destination")
    if source:
        job = await _prepare_pull(ep, req, caller, remote.normalize_url(source))
    elif destination:
        job = await _prepare_push(ep, req, caller, remote.normalize_url(destination))
    else:
        raise InvalidInput("COPY needs a Source (pull) or a Destination (push) header")
    await req.drain()
    return await _run_with_markers(ep, req, job)


async def _run_with_markers(ep: Endpoint, req: Request, job: _Job) -> int:
    await start(req.send, 202, {"content-type": "text/plain"})
    task = asyncio.create_task(job.run())
    watcher = asyncio.create_task(req.receive())  # resolves when the client disconnects
    sent = 0
    try:
        while True:
            chunk = perf_marker(ep.clock.time(), job.progress.bytes)
            await req.send({"type": "http.response.body", "body": chunk, "more_body": True})
            sent += len(chunk)
            done, _ = await asyncio.wait({task, watcher}, timeout=ep.settings.marker_interval,
                                         return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                if task.exception() is None:  # a last marker with the final byte count
                    chunk = perf_marker(ep.clock.time(), job.progress.bytes)
                    await req.send({"type": "http.response.body", "body": chunk, "more_body": True})
                    sent += len(chunk)
                break
            if watcher in done:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                log.info("TPC %s aborted: the client disconnected", job.describe())
                return sent
        try:
            task.result()
            last = "success: Created\n"
        except (TpcFailure, remote.RemoteError, OneGridError, OSError) as exc:
            message = exc.message if isinstance(exc, OneGridError) else str(exc)
            last = f"failure: {' '.join(message.split())}\n"
            log.info("TPC %s failed: %s", job.describe(), message)
        await req.send({"type": "http.response.body", "body": last.encode(), "more_body": False})
        return sent + len(last)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()


class _Job:
    progress: Progress

    async def run(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


# -- pull -----------------------------------------------------------------------------------


async def _prepare_pull(ep: Endpoint, req: Request, caller: Caller, source: str) -> _Job:
    path = ep.resolver.resolve(req.path)
    if path.is_root:
        raise HttpError(405, "METHOD_NOT_ALLOWED", "cannot copy onto the root collection")
    old = lstat_or_none(path)
    if old is not None and statmod.S_ISDIR(old.st_mode):
        raise Conflict(f"{path.logical} is a directory")
    ep.auth.require(caller, Access.MODIFY if old is not None else Access.CREATE, path)
    overwrite = overwrite_allowed(req)
    if old is not None and not overwrite:
        raise HttpError(412, "PRECONDITION_FAILED", f"{path.logical} exists and Overwrite is F")
    return _Pull(ep, caller, path, source, transfer_headers(req), overwrite, _require_checksum(req))


@dataclass
class _Pull(_Job):
    ep: Endpoint
    caller: Caller
    path: StoragePath
    source: str
    headers: dict[str, str]
    overwrite: bool
    require_checksum: bool

    def __post_init__(self) -> None:
        self.progress = Progress()

    def describe(self) -> str:
        return f"pull {self.source} -> {self.path.logical}"

    async def _receive_direct(self, response: remote.RemoteResponse, sink: FileSink) -> bool:
        return await _pull_direct(self, response, sink)

    async def run(self) -> None:
        ep, s = self.ep, self.ep.settings
        ctx = remote.ssl_context(s.tpc_verify_tls, s.tpc_ca_path)
        response = await remote.request("GET", self.source, {**self.headers, "Want-Digest": "adler32"},
                                        ssl_ctx=ctx, timeout=s.tpc_idle_timeout)
        try:
            if response.status != 200:
                detail = await response.text(300)
                raise TpcFailure(f"source {self.source} answered {response.status} {response.reason}"
                                 + (f": {detail}" if detail else ""))
            existing = lstat_or_none(self.path)
            check_space(ep, response.content_length, existing.st_size if existing else 0)
            make_parents(ep, self.path)
            sink = FileSink(self.path.fs.parent, batch_bytes=s.write_batch_bytes, md5=s.md5_on_write)
            try:
                if not await self._receive_direct(response, sink):
                    async for data in response.chunks():
                        await sink.feed(data)
                        self.progress.bytes = sink.size
                expected = response.content_length
                if expected is not None and sink.size != expected:
                    raise TpcFailure(f"received {sink.size} of {expected} bytes from {self.source}")
                st = await sink.finish(ep.store, self.path.fs)
                remote_sums = parse_digest_header(response.headers.get("digest"))
            except BaseException:
                await sink.discard()
                raise
        finally:
            response.close()
        try:
            if not remote_sums:
                remote_sums = await _remote_digest(ep, self.source, self.headers)
            _verify(sink.checksum.values(), remote_sums, self.source, self.require_checksum)
            old = lstat_or_none(self.path)
            if old is not None:
                if not self.overwrite:
                    raise TpcFailure(f"{self.path.logical} appeared during the copy and Overwrite is F")
                ep.auth.require(self.caller, Access.MODIFY, self.path)
            sink.commit(self.path.fs)
        except BaseException:
            await sink.discard()
            raise
        written(ep, self.path, st.st_size, old)


async def _pull_direct(job: _Pull, response: remote.RemoteResponse, sink: FileSink) -> bool:
    """A plain-HTTP body of known length straight from the socket in a worker thread
    (see direct.py); False when the normal path must do it."""
    s = job.ep.settings
    length = response.content_length
    chunked = "chunked" in response.headers.get("transfer-encoding", "").lower()
    if length is None or chunked or not 0 < s.direct_put_bytes <= length:
        return False
    detached = response.conn.detach()
    if detached is None:
        return False
    fd, already = detached
    for data in already:
        await sink.feed(data[: length - sink.size])
    await sink.settle()
    start = sink.size

    def progress(n: int) -> None:
        job.progress.bytes = start + n

    moved = await asyncio.to_thread(direct.copy_socket_to_file, fd, sink.fd, length - start, sink.checksum,
                                    s.tpc_idle_timeout, progress)
    sink.size += moved
    return True


async def _remote_digest(ep: Endpoint, url: str, headers: dict[str, str]) -> dict[str, str]:
    """The remote's adler32 by `HEAD` + `Want-Digest`, or {} if it does not say."""
    s = ep.settings
    try:
        response = await remote.request("HEAD", url, {**headers, "Want-Digest": "adler32"},
                                        ssl_ctx=remote.ssl_context(s.tpc_verify_tls, s.tpc_ca_path),
                                        timeout=s.tpc_idle_timeout)
    except remote.RemoteError:
        return {}
    response.close()
    if response.status != 200:
        return {}
    sums = parse_digest_header(response.headers.get("digest"))
    if response.content_length is not None:
        sums["size"] = str(response.content_length)
    return sums


def _verify(ours: dict[str, str], theirs: dict[str, str], where: str, required: bool) -> None:
    compared = False
    for alg in ("adler32", "md5"):
        if alg in ours and alg in theirs:
            compared = True
            if ours[alg] != theirs[alg]:
                raise TpcFailure(f"checksum mismatch: {alg} {ours[alg]} here, {theirs[alg]} at {where}")
    if required and not compared:
        raise TpcFailure(f"{where} reports no checksum and RequireChecksumVerification is true")


# -- push -----------------------------------------------------------------------------------


async def _prepare_push(ep: Endpoint, req: Request, caller: Caller, destination: str) -> _Job:
    path = ep.resolver.resolve(req.path)
    st = stat_or_404(path)
    if statmod.S_ISDIR(st.st_mode):
        raise Conflict(f"{path.logical} is a directory; third-party copy moves files")
    ep.auth.require(caller, Access.READ, path)
    if ep.tape is not None and not ep.tape.is_online(path.relpath):
        raise HttpError(409, "NEARLINE", f"{path.logical} is on tape only (NEARLINE): stage it first")
    if "://" not in destination:
        raise InvalidInput(f"Destination {destination!r} must be a full http(s) or davs URL")
    return _Push(ep, path, destination, transfer_headers(req), overwrite_allowed(req), _require_checksum(req))


@dataclass
class _Push(_Job):
    ep: Endpoint
    path: StoragePath
    destination: str
    headers: dict[str, str]
    overwrite: bool
    require_checksum: bool

    def __post_init__(self) -> None:
        self.progress = Progress()

    def describe(self) -> str:
        return f"push {self.path.logical} -> {self.destination}"

    async def run(self) -> None:
        ep, s = self.ep, self.ep.settings
        ctx = remote.ssl_context(s.tpc_verify_tls, s.tpc_ca_path)
        if not self.overwrite and await _remote_digest(ep, self.destination, self.headers) != {}:
            raise TpcFailure(f"{self.destination} exists and Overwrite is F")
        ours = await asyncio.to_thread(ep.store.ensure, self.path.fs, ["adler32"])
        fd = os.open(self.path.fs, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size

            def progress(n: int) -> None:
                self.progress.bytes = n

            headers = {**self.headers, "Content-Length": str(size)}
            if not self.overwrite:
                headers["Overwrite"] = "F"
            response = await remote.request(
                "PUT", self.destination, headers, ssl_ctx=ctx, timeout=s.tpc_idle_timeout,
                send_body=remote.file_body(fd, size, s.read_chunk_bytes * 4, progress),
            )
        finally:
            os.close(fd)
        try:
            if response.status not in (200, 201, 204):
                detail = await response.text(300)
                raise TpcFailure(f"destination {self.destination} answered {response.status} "
                                 f"{response.reason}" + (f": {detail}" if detail else ""))
            theirs = parse_digest_header(response.headers.get("digest"))
        finally:
            response.close()
        if "adler32" not in theirs:
            theirs = await _remote_digest(ep, self.destination, self.headers)
        if "size" in theirs and int(theirs["size"]) != size:
            raise TpcFailure(f"{self.destination} holds {theirs['size']} bytes, {size} were sent")
        _verify(ours, theirs, self.destination, self.require_checksum)
