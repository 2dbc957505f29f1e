"""Writing: PUT, DELETE, MKCOL, MOVE.

`storage.create` adds what does not exist yet; replacing or removing anything needs
`storage.modify` (common JWT profile). Every change adjusts the SRR counters and tells
the tape emulation, when there is one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat as statmod

from onegrid.errors import Conflict, Forbidden, InvalidInput, NotFound
from onegrid.storage.endpoint import direct
from onegrid.storage.endpoint.auth import Access, Caller
from onegrid.storage.endpoint.bodyio import FileSink
from onegrid.storage.endpoint.checksums import digest_header
from onegrid.storage.endpoint.http import HttpError, Request, respond
from onegrid.storage.endpoint.paths import StoragePath, is_hidden_name
from onegrid.storage.endpoint.srr import capacity_of
from onegrid.storage.endpoint.state import Endpoint


def lstat_or_none(path: StoragePath) -> os.stat_result | None:
    try:
        return os.stat(path.fs)
    except (FileNotFoundError, NotADirectoryError):
        return None


def tree_usage(path: StoragePath) -> tuple[int, int]:
    """(bytes, files) below a directory: what a recursive DELETE or MOVE takes away."""
    size = files = 0
    for dirpath, _dirs, names in os.walk(path.fs):
        for name in names:
            if is_hidden_name(name):
                continue
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
                files += 1
            except OSError:
                continue
    return size, files


def overwrite_allowed(req: Request) -> bool:
    value = (req.header("overwrite") or "T").strip().upper()
    if value not in ("T", "F"):
        raise InvalidInput(f"Overwrite must be T or F, not {value!r}")
    return value == "T"


def check_space(ep: Endpoint, incoming: int | None, replaced: int) -> None:
    if incoming is None or not ep.config.capacity:
        return
    if ep.usage.used - replaced + incoming > capacity_of(ep.config):
        raise HttpError(507, "INSUFFICIENT_STORAGE",
                        f"{incoming} bytes do not fit: {ep.usage.used} of {ep.config.capacity} bytes used")


def make_parents(ep: Endpoint, path: StoragePath) -> None:
    if os.path.isdir(path.fs.parent):
        return  # resolve() has checked where it leads
    try:
        os.makedirs(path.fs.parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise Conflict(f"a parent of {path.logical} is a file, not a directory") from exc
    # A parent may have become a symlink between resolve() and now: check again.
    ep.resolver.resolve(path.logical)


def written(ep: Endpoint, path: StoragePath, size: int, replaced: os.stat_result | None) -> None:
    ep.usage.added(size, replaced.st_size if replaced is not None else None)
    if ep.tape is not None:
        ep.tape.on_written(path.relpath, size)


async def put(ep: Endpoint, req: Request, caller: Caller) -> int:
    path = ep.resolver.resolve(req.path)
    if path.is_root:
        raise HttpError(405, "METHOD_NOT_ALLOWED", "cannot PUT the root collection")
    old = lstat_or_none(path)
    if old is not None and statmod.S_ISDIR(old.st_mode):
        raise Conflict(f"{path.logical} is a directory")
    ep.auth.require(caller, Access.MODIFY if old is not None else Access.CREATE, path)
    if old is not None and not overwrite_allowed(req):
        raise HttpError(412, "PRECONDITION_FAILED", f"{path.logical} exists and Overwrite is F")
    length = req.content_length
    check_space(ep, length, old.st_size if old else 0)
    make_parents(ep, path)
    s = ep.settings
    sink = FileSink(path.fs.parent, batch_bytes=s.write_batch_bytes, md5=s.md5_on_write,
                    small_bytes=s.small_file_bytes)
    raw = direct.raw_socket(req.receive) if length is not None and 0 < s.direct_put_bytes <= length else None
    headers: dict[str, str] = {}
    try:
        more = True
        while more:
            msg = await req.receive()
            if msg["type"] == "http.disconnect":
                await sink.discard()
                return 0
            await sink.feed(msg.get("body", b""))
            more = msg.get("more_body", False)
            if length is not None and sink.size > length:
                raise InvalidInput(f"body longer than Content-Length {length}")
            if more and raw is not None and length is not None:
                headers["connection"] = "close"  # the server's parser will not see the rest
                await _receive_direct(raw, sink, length, s.body_idle_timeout)
                more = False
        if length is not None and sink.size != length:
            raise InvalidInput(f"body of {sink.size} bytes, Content-Length said {length}")
        st = await sink.finish(ep.store, path.fs)
        # Another PUT may have created the file meanwhile: `create` must still not overwrite it.
        now_there = lstat_or_none(path)
        if old is None and now_there is not None:
            ep.auth.require(caller, Access.MODIFY, path)
        sink.commit(path.fs)
    except BaseException:
        await sink.discard()
        raise
    written(ep, path, st.st_size, old if old is not None else now_there)
    headers["digest"] = digest_header(sink.checksum.values(), ["adler32", "md5"])
    await respond(req.send, 204 if old is not None else 201, b"", headers)
    return 0


async def _receive_direct(raw: direct.RawSocket, sink: FileSink, length: int, idle_timeout: float) -> None:
    """The rest of the body straight from the socket (see direct.py)."""
    raw.transport.pause_reading()
    await sink.settle()
    remaining = length - sink.size
    try:
        moved = await asyncio.to_thread(direct.copy_socket_to_file, raw.fd, sink.fd, remaining,
                                        sink.checksum, idle_timeout)
    except (direct.BodyTimeout, OSError) as exc:
        raw.transport.close()
        raise InvalidInput(f"upload abandoned after {sink.size} of {length} bytes: {exc}") from exc
    sink.size += moved
    if moved < remaining:
        raw.transport.close()
        raise InvalidInput(f"client closed the connection after {sink.size} of {length} bytes")


async def delete(ep: Endpoint, req: Request, caller: Caller) -> int:
    path = ep.resolver.resolve(req.path)
    st = lstat_or_none(path)
    if st is None:
        raise NotFound(f"{path.logical} does not exist")
    ep.auth.require(caller, Access.MODIFY, path)
    if path.is_root:
        raise Forbidden("the root collection cannot be deleted")
    if statmod.S_ISDIR(st.st_mode):
        size, files = await asyncio.to_thread(tree_usage, path)
        await asyncio.to_thread(shutil.rmtree, path.fs)
        ep.usage.removed(size, files)
    else:
        os.unlink(path.fs)
        ep.usage.removed(st.st_size)
    ep.store.forget(path.fs)
    if ep.tape is not None:
        ep.tape.on_deleted(path.relpath)
    await respond(req.send, 204)
    return 0


async def mkcol(ep: Endpoint, req: Request, caller: Caller) -> int:
    path = ep.resolver.resolve(req.path)
    ep.auth.require(caller, Access.CREATE, path)
    await req.drain()
    if lstat_or_none(path) is not None:
        raise HttpError(405, "ALREADY_EXISTS", f"{path.logical} already exists")
    try:
        os.mkdir(path.fs)
    except FileNotFoundError as exc:
        raise Conflict(f"the parent of {path.logical} does not exist (MKCOL makes one level)") from exc
    except NotADirectoryError as exc:
        raise Conflict(f"a parent of {path.logical} is a file") from exc
    await respond(req.send, 201)
    return 0


async def move(ep: Endpoint, req: Request, caller: Caller) -> int:
    src = ep.resolver.resolve(req.path)
    target = req.header("destination")
    if not target:
        raise InvalidInput("MOVE needs a Destination header")
    dst = ep.resolver.resolve_url(target)
    st = lstat_or_none(src)
    if st is None:
        raise NotFound(f"{src.logical} does not exist")
    ep.auth.require(caller, Access.MODIFY, src)
    old = lstat_or_none(dst)
    ep.auth.require(caller, Access.MODIFY if old is not None else Access.CREATE, dst)
    if src.is_root or dst.is_root:
        raise Forbidden("the root collection cannot be moved or replaced")
    if dst.relpath == src.relpath or dst.relpath.startswith(src.relpath + "/"):
        raise Forbidden(f"cannot move {src.logical} into itself")
    if old is not None and not overwrite_allowed(req):
        raise HttpError(412, "PRECONDITION_FAILED", f"{dst.logical} exists and Overwrite is F")
    make_parents(ep, dst)
    if old is not None:
        if statmod.S_ISDIR(old.st_mode):
            size, files = await asyncio.to_thread(tree_usage, dst)
            await asyncio.to_thread(shutil.rmtree, dst.fs)
        else:
            size, files = old.st_size, 1
            if statmod.S_ISDIR(st.st_mode):
                os.unlink(dst.fs)
        ep.usage.removed(size, files)
        ep.store.forget(dst.fs)
    os.replace(src.fs, dst.fs)
    ep.store.moved(src.fs, dst.fs)
    if ep.tape is not None:
        ep.tape.on_moved(src.relpath, dst.relpath)
    await respond(req.send, 204 if old is not None else 201)
    return 0
