"""The endpoint's WebDAV data path: PUT/GET/HEAD with checksums, Range, PROPFIND, MKCOL, MOVE, DELETE."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from endpoint_harness import RunningEndpoint, running_endpoint


def adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


@pytest.fixture
def se(live_server: Any, tmp_path: Path) -> Iterator[RunningEndpoint]:
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token) as ep:
        yield ep


def test_put_then_get_and_head_report_adler32_and_md5(se: RunningEndpoint) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    r = se.put("mc/run1/file.root", data)
    assert r.status_code == 201, r.text
    assert (se.root / "mc/run1/file.root").read_bytes() == data
    with se.client("storage.read:/mc") as c:
        head = c.head(se.pfn("mc/run1/file.root"), headers={"Want-Digest": "adler32"})
        assert head.status_code == 200
        assert head.headers["digest"] == f"adler32={adler(data)}"
        assert int(head.headers["content-length"]) == len(data)
        got = c.get(se.pfn("mc/run1/file.root"), headers={"Want-Digest": "md5,adler32"})
        assert got.content == data
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        assert got.headers["digest"] == f"md5={md5},adler32={adler(data)}"
        modern = c.head(se.pfn("mc/run1/file.root"), headers={"Want-Repr-Digest": "adler=9, md5=1"})
        assert modern.headers["repr-digest"] == (
            f"adler=:{base64.b64encode(bytes.fromhex(adler(data))).decode()}:, md5=:{md5}:")


def test_checksums_are_kept_with_the_file_not_recomputed(se: RunningEndpoint) -> None:
    data = b"x" * 1000
    se.put("kept", data)
    path = se.root / "kept"
    stamp = os.stat(path)
    # Overwrite the bytes in place, keeping size and mtime: a HEAD that still answers the
    # old adler32 proves it was read from the kept record, not from the data.
    path.write_bytes(b"y" * 1000)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    with se.client("storage.read:/") as c:
        assert c.head(se.pfn("kept"), headers={"Want-Digest": "adler32"}).headers["digest"] == f"adler32={adler(data)}"


def test_files_that_arrived_otherwise_get_their_checksum_computed_once(se: RunningEndpoint) -> None:
    (se.root / "dropped").write_bytes(b"placed by hand")
    with se.client("storage.read:/") as c:
        r = c.head(se.pfn("dropped"), headers={"Want-Digest": "ADLER32"})
    assert r.headers["digest"] == f"adler32={adler(b'placed by hand')}"
    assert os.getxattr(se.root / "dropped", "user.onegrid.checksums")


def test_range_requests(se: RunningEndpoint) -> None:
    data = bytes(range(256)) * 100
    se.put("r", data)
    with se.client("storage.read:/") as c:
        r = c.get(se.pfn("r"), headers={"Range": "bytes=10-19"})
        assert r.status_code == 206 and r.content == data[10:20]
        assert r.headers["content-range"] == f"bytes 10-19/{len(data)}"
        assert c.get(se.pfn("r"), headers={"Range": "bytes=-5"}).content == data[-5:]
        assert c.get(se.pfn("r"), headers={"Range": "bytes=25000-"}).content == data[25000:]
        assert c.get(se.pfn("r"), headers={"Range": f"bytes={len(data)}-"}).status_code == 416


def test_put_with_wrong_content_length_leaves_nothing(se: RunningEndpoint) -> None:
    import socket

    host, port = se.url.removeprefix("http://").split(":")
    token = se.token("storage.create:/")
    with socket.create_connection((host, int(port))) as s:
        s.sendall((f"PUT {se.base_path}/short HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                   "Content-Length: 100\r\n\r\n").encode() + b"only 20 bytes here..")
        s.shutdown(socket.SHUT_WR)
        s.recv(1000)
    assert not (se.root / "short").exists()
    assert [p.name for p in se.root.iterdir() if p.name != ".onegrid"] == []


def test_create_scope_cannot_overwrite_modify_can(se: RunningEndpoint) -> None:
    assert se.put("f", b"one").status_code == 201
    r = se.put("f", b"two")
    assert r.status_code == 403 and r.json()["error"] == "FORBIDDEN"
    assert se.put("f", b"two", "storage.modify:/").status_code == 204
    assert (se.root / "f").read_bytes() == b"two"
    with se.client("storage.modify:/") as c:
        r = c.put(se.pfn("f"), content=b"three", headers={"Overwrite": "F"})
        assert r.status_code == 412


def test_propfind_depth_0_and_1(se: RunningEndpoint) -> None:
    se.put("d/a", b"aaa")
    se.put("d/sub/b", b"b")
    with se.client("storage.read:/") as c:
        r0 = c.request("PROPFIND", se.pfn("d"), headers={"Depth": "0"})
        assert r0.status_code == 207
        assert r0.text.count("<D:response>") == 1 and "<D:collection/>" in r0.text
        r1 = c.request("PROPFIND", se.pfn("d"), headers={"Depth": "1"})
        assert r1.text.count("<D:response>") == 3
        assert "<D:href>/belle/d/a</D:href>" in r1.text
        assert "<D:getcontentlength>3</D:getcontentlength>" in r1.text
        assert "<D:href>/belle/d/sub/</D:href>" in r1.text


def test_mkcol_move_delete(se: RunningEndpoint) -> None:
    with se.client("storage.modify:/") as c:
        assert c.request("MKCOL", se.pfn("new")).status_code == 201
        assert c.request("MKCOL", se.pfn("new")).status_code == 405
        assert c.request("MKCOL", se.pfn("x/y/z")).status_code == 409
        c.put(se.pfn("new/f"), content=b"12345")
        r = c.request("MOVE", se.pfn("new/f"), headers={"Destination": se.pfn("moved/g")})
        assert r.status_code == 201
        assert (se.root / "moved/g").read_bytes() == b"12345"
        h = c.head(se.pfn("moved/g"), headers={"Want-Digest": "adler32"})
        assert h.headers["digest"] == f"adler32={adler(b'12345')}"
        c.put(se.pfn("other"), content=b"o")
        r = c.request("MOVE", se.pfn("other"), headers={"Destination": se.pfn("moved/g"), "Overwrite": "F"})
        assert r.status_code == 412
        assert c.delete(se.pfn("moved")).status_code == 204
        assert not (se.root / "moved").exists()
        assert c.get(se.pfn("moved/g")).status_code == 404


def test_large_file_streams_in_bounded_memory(se: RunningEndpoint, tmp_path: Path) -> None:
    import resource

    size = 256 * 1024 * 1024
    src = tmp_path / "big"
    with open(src, "wb") as f:
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            f.write(block)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def body() -> Iterator[bytes]:
        with open(src, "rb") as f:
            while chunk := f.read(1024 * 1024):
                yield chunk

    with se.client("storage.create:/") as c:
        r = c.put(se.pfn("big"), content=body(), headers={"Content-Length": str(size)})
    assert r.status_code == 201
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 128 * 1024, f"peak memory grew by {grown_kib} KiB for a {size >> 20} MiB upload"
    assert os.path.getsize(se.root / "big") == size


def test_chunked_put_without_content_length(se: RunningEndpoint) -> None:
    def body() -> Iterator[bytes]:
        yield b"first,"
        yield b"second"

    with se.client("storage.create:/") as c:
        r = c.put(se.pfn("chunked"), content=body())
    assert r.status_code == 201
    assert (se.root / "chunked").read_bytes() == b"first,second"
    assert r.headers["digest"].startswith(f"adler32={adler(b'first,second')}")


def test_large_bodies_on_the_direct_path_keep_the_connection_consistent(se: RunningEndpoint) -> None:
    data = os.urandom(20 * 1024 * 1024 + 3)  # above direct_put_bytes/direct_get_bytes (8 MiB)
    with se.client("storage.create:/", "storage.read:/") as c:
        r = c.put(se.pfn("direct"), content=data)
        assert r.status_code == 201 and r.headers["connection"] == "close"
        assert r.headers["digest"] == f"adler32={adler(data)}"
        for _ in range(2):  # the same keep-alive connection serves the next request after a direct GET
            got = c.get(se.pfn("direct"))
            assert got.content == data
        part = c.get(se.pfn("direct"), headers={"Range": "bytes=10000000-19999999"})
        assert part.status_code == 206 and part.content == data[10_000_000:20_000_000]
        assert c.head(se.pfn("direct"), headers={"Want-Digest": "adler32"}).headers["digest"] == f"adler32={adler(data)}"


def test_direct_upload_cut_short_leaves_nothing(se: RunningEndpoint) -> None:
    import socket

    host, port = se.url.removeprefix("http://").split(":")
    token = se.token("storage.create:/")
    with socket.create_connection((host, int(port))) as s:
        s.sendall((f"PUT {se.base_path}/cut HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                   f"Content-Length: {64 * 1024 * 1024}\r\n\r\n").encode())
        s.sendall(os.urandom(12 * 1024 * 1024))
        s.shutdown(socket.SHUT_WR)
        s.settimeout(30)
        with contextlib.suppress(OSError):
            s.recv(1000)
    deadline = time.monotonic() + 10
    while any(p.name.startswith(".onegrid-part-") for p in se.root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in se.root.iterdir() if p.name != ".onegrid"] == []
