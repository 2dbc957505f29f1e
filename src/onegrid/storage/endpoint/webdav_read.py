"""Reading: GET (with a single Range), HEAD, PROPFIND depth 0/1, OPTIONS.

`Want-Digest` is answered from the checksums kept with the file; a file whose checksums
are not kept yet is read once in a worker thread and then they are.
"""

from __future__ import annotations

import asyncio
import os
import stat as statmod
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

from onegrid.errors import InvalidInput, NotFound
from onegrid.storage.endpoint import direct
from onegrid.storage.endpoint.auth import Access, Caller
from onegrid.storage.endpoint.bodyio import file_chunks
from onegrid.storage.endpoint.checksums import (
    digest_header,
    parse_want_digest,
    parse_want_repr_digest,
    repr_digest_header,
)
from onegrid.storage.endpoint.http import HttpError, Request, respond, start
from onegrid.storage.endpoint.paths import StoragePath, is_hidden_name
from onegrid.storage.endpoint.state import Endpoint

ALLOW = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, MOVE, COPY, PROPFIND"


def stat_or_404(path: StoragePath) -> os.stat_result:
    try:
        return os.stat(path.fs)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound(f"{path.logical} does not exist") from exc


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as (start, length); None to send the whole file (RFC 9110 §14)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # other units and multipart ranges: the whole representation is allowed
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise _unsatisfiable(size)
            start = max(size - suffix, 0)
            end = size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or start < 0:
        raise _unsatisfiable(size)
    if end < start:
        return None
    end = min(end, size - 1)
    return start, end - start + 1


def _unsatisfiable(size: int) -> HttpError:
    return HttpError(416, "RANGE_NOT_SATISFIABLE", f"range outside the file of {size} bytes",
                     {"content-range": f"bytes */{size}"})


def file_headers(st: os.stat_result) -> dict[str, str]:
    return {
        "last-modified": formatdate(st.st_mtime, usegmt=True),
        "etag": f'"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"',
        "accept-ranges": "bytes",
    }


async def digest_for(ep: Endpoint, path: StoragePath, st: os.stat_result, req: Request) -> dict[str, str]:
    """`Digest` for `Want-Digest` (RFC 3230) and `Repr-Digest` for `Want-Repr-Digest` (RFC 9530)."""
    legacy = parse_want_digest(req.header("want-digest"))
    modern = parse_want_repr_digest(req.header("want-repr-digest"))
    algorithms = list(dict.fromkeys(legacy + modern))
    if not algorithms:
        return {}
    values = ep.store.load(path.fs, st)
    missing = not all(a in values for a in algorithms)
    # An evicted tape file is a sparse stub on disk: its kept checksums hold, a fresh one would not.
    if missing and (ep.tape is None or ep.tape.is_online(path.relpath)):
        values = await asyncio.to_thread(ep.store.ensure, path.fs, algorithms)
    out = {"digest": digest_header(values, legacy), "repr-digest": repr_digest_header(values, modern)}
    return {k: v for k, v in out.items() if v}


async def get(ep: Endpoint, req: Request, caller: Caller, *, head: bool) -> int:
    path = ep.resolver.resolve(req.path)
    st = stat_or_404(path)
    ep.auth.require(caller, Access.STAT if head else Access.READ, path)
    if statmod.S_ISDIR(st.st_mode):
        if head:
            await respond(req.send, 200, b"", {"content-type": "httpd/unix-directory"}, head=True)
            return 0
        raise HttpError(405, "IS_A_DIRECTORY", f"{path.logical} is a directory: list it with PROPFIND")
    if not head and ep.tape is not None and not ep.tape.is_online(path.relpath):
        response = ep.tape.offline_response(path.relpath)
        await response(req.scope, req.receive, req.send)
        return 0
    headers = {"content-type": "application/octet-stream", **file_headers(st)}
    headers.update(await digest_for(ep, path, st, req))
    rng = parse_range(req.header("range"), st.st_size)
    status, start_at, length = 200, 0, st.st_size
    if rng is not None:
        status, (start_at, length) = 206, rng
        headers["content-range"] = f"bytes {start_at}-{start_at + length - 1}/{st.st_size}"
    headers["content-length"] = str(length)
    if head:
        await start(req.send, status, headers)
        await req.send({"type": "http.response.body", "body": b""})
        return 0
    return await _send_file(ep, req, path, status, headers, start_at, length)


async def _send_file(ep: Endpoint, req: Request, path: StoragePath, status: int, headers: dict[str, str],
                     start_at: int, length: int) -> int:
    fd = os.open(path.fs, os.O_RDONLY | os.O_CLOEXEC)
    try:
        sent = None
        if length >= ep.settings.direct_get_bytes > 0:
            sent = await _send_direct(ep, req, fd, status, headers, start_at, length)
        if sent is None:
            sent = 0
            await start(req.send, status, headers)
            async for chunk in file_chunks(fd, start_at, length, ep.settings.read_chunk_bytes):
                sent += len(chunk)
                await req.send({"type": "http.response.body", "body": chunk, "more_body": sent < length})
            if length == 0:
                await req.send({"type": "http.response.body", "body": b""})
    finally:
        os.close(fd)
    if ep.tape is not None:
        ep.tape.on_read(path.relpath)
    return sent


async def _send_direct(ep: Endpoint, req: Request, fd: int, status: int, headers: dict[str, str],
                       start_at: int, length: int) -> int | None:
    """The body by `sendfile` from a worker thread (see direct.py); None: not possible here."""
    raw = direct.raw_socket(req.receive)
    cycle = direct.httptools_cycle(req.receive)
    if raw is None or cycle is None:
        return None
    await start(req.send, status, headers)
    if raw.transport.get_write_buffer_size():
        # The head is still queued in the transport: send the body the normal way.
        async for chunk in file_chunks(fd, start_at, length, ep.settings.read_chunk_bytes):
            await req.send({"type": "http.response.body", "body": chunk, "more_body": True})
        await req.send({"type": "http.response.body", "body": b""})
        return length
    try:
        sent = await asyncio.to_thread(direct.send_file_to_socket, raw.fd, fd, start_at, length,
                                       ep.settings.body_idle_timeout)
    except (direct.BodyTimeout, OSError):
        raw.transport.close()
        return 0
    if sent != length:
        raw.transport.close()  # the client cannot tell a short body from a slow one otherwise
        return sent
    cycle.expected_content_length = 0  # the bytes went past the server: settle its bookkeeping
    await req.send({"type": "http.response.body", "body": b""})
    return sent


# -- PROPFIND -----------------------------------------------------------------------------


def _entry(href: str, name: str, st: os.stat_result) -> str:
    is_dir = statmod.S_ISDIR(st.st_mode)
    props = [
        f"<D:displayname>{escape(name)}</D:displayname>",
        "<D:resourcetype><D:collection/></D:resourcetype>" if is_dir else "<D:resourcetype/>",
        f"<D:getlastmodified>{formatdate(st.st_mtime, usegmt=True)}</D:getlastmodified>",
    ]
    if not is_dir:
        props.append(f"<D:getcontentlength>{st.st_size}</D:getcontentlength>")
        props.append('<D:getcontenttype>application/octet-stream</D:getcontenttype>')
    if is_dir and not href.endswith("/"):
        href += "/"
    return (f"<D:response><D:href>{escape(quote(href))}</D:href><D:propstat><D:prop>{''.join(props)}"
            "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>")


def _children(directory: Path) -> list[tuple[str, os.stat_result]]:
    out = []
    with os.scandir(directory) as it:
        for entry in it:
            if is_hidden_name(entry.name) or entry.name == ".onegrid":
                continue
            try:
                out.append((entry.name, entry.stat()))
            except OSError:
                continue  # removed while we listed
    return sorted(out)


async def propfind(ep: Endpoint, req: Request, caller: Caller) -> int:
    path = ep.resolver.resolve(req.path)
    st = stat_or_404(path)
    ep.auth.require(caller, Access.STAT, path)
    depth = (req.header("depth") or "infinity").strip().lower()
    if depth not in ("0", "1", "infinity"):
        raise InvalidInput(f"Depth must be 0 or 1, not {depth!r}")
    await req.drain()
    name = path.logical.rsplit("/", 1)[-1] or "/"
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">',
             _entry(path.logical, name, st)]
    if depth != "0" and statmod.S_ISDIR(st.st_mode):
        # Depth infinity is answered as 1, as dCache and nginx do (RFC 4918 lets servers refuse it).
        children = await asyncio.to_thread(_children, path.fs)
        base = path.logical.rstrip("/")
        parts.extend(_entry(f"{base}/{child}", child, cst) for child, cst in children)
    parts.append("</D:multistatus>\n")
    body = "".join(parts).encode()
    await respond(req.send, 207, body, {"content-type": 'application/xml; charset="utf-8"'})
    return len(body)


async def options(req: Request) -> int:
    await respond(req.send, 200, b"", {"allow": ALLOW, "dav": "1, 2", "accept-ranges": "bytes"})
    return 0
