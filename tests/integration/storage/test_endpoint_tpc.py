"""HTTP third-party copy between our endpoints (and nginx): pull, push, markers, failures."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from endpoint_harness import RunningEndpoint, parse_tpc_body, running_endpoint


def adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


@pytest.fixture
def pair(live_server: Any, tmp_path: Path) -> Iterator[tuple[RunningEndpoint, RunningEndpoint]]:
    with (running_endpoint(tmp_path / "a", live_server.url, live_server.token, name="A") as a,
          running_endpoint(tmp_path / "b", live_server.url, live_server.token, name="B") as b):
        yield a, b


def copy(ep: RunningEndpoint, path: str, headers: dict[str, str], *scopes: str) -> tuple[int, list[dict[str, str]], str]:
    with ep.client(*scopes) as c:
        r = c.request("COPY", ep.pfn(path), headers=headers, timeout=120)
    if r.status_code != 202:
        return r.status_code, [], r.text
    assert r.headers["content-type"].startswith("text/plain")
    markers, last = parse_tpc_body(r.text)
    return r.status_code, markers, last


def test_pull_copies_the_file_with_markers_and_checksum(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    data = os.urandom(5 * 1024 * 1024 + 3)
    a.put("raw/f1", data)
    status, markers, last = copy(b, "raw/f1", {
        "Source": a.pfn("raw/f1"),
        "TransferHeaderAuthorization": f"Bearer {a.token('storage.read:/raw')}",
    }, "storage.create:/raw")
    assert (status, last) == (202, "success: Created")
    assert markers and set(markers[0]) >= {"Timestamp", "Stripe Index", "Stripe Bytes Transferred",
                                           "Total Stripe Count"}
    assert markers[0]["Total Stripe Count"] == "1"
    assert (b.root / "raw/f1").read_bytes() == data
    with b.client("storage.read:/") as c:
        assert c.head(b.pfn("raw/f1"), headers={"Want-Digest": "adler32"}).headers["digest"] == f"adler32={adler(data)}"
    assert httpx.get(b.url + "/.well-known/wlcg-srr").json()["storageservice"]["storageshares"][0]["numberoffiles"] == 1


def test_push_copies_the_file(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    data = os.urandom(2 * 1024 * 1024)
    a.put("f", data)
    status, _markers, last = copy(a, "f", {
        "Destination": b.pfn("pushed/f"),
        "TransferHeaderAuthorization": f"Bearer {b.token('storage.create:/')}",
    }, "storage.read:/")
    assert (status, last) == (202, "success: Created")
    assert (b.root / "pushed/f").read_bytes() == data


def test_overwrite_false_is_honoured(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    a.put("f", b"new")
    b.put("f", b"old")
    auth_a = f"Bearer {a.token('storage.read:/')}"
    status, _, _ = copy(b, "f", {"Source": a.pfn("f"), "TransferHeaderAuthorization": auth_a,
                                 "Overwrite": "F"}, "storage.modify:/")
    assert status == 412
    status, _, last = copy(a, "f", {"Destination": b.pfn("f"), "Overwrite": "F",
                                    "TransferHeaderAuthorization": f"Bearer {b.token('storage.modify:/', 'storage.read:/')}"},
                           "storage.read:/")
    assert status == 202 and last.startswith("failure:") and "Overwrite is F" in last
    assert (b.root / "f").read_bytes() == b"old"
    # Overwrite T (the default) with modify replaces it; with create only it may not.
    status, _, _ = copy(b, "f", {"Source": a.pfn("f"), "TransferHeaderAuthorization": auth_a}, "storage.create:/")
    assert status == 403
    status, _, last = copy(b, "f", {"Source": a.pfn("f"), "TransferHeaderAuthorization": auth_a}, "storage.modify:/")
    assert last == "success: Created" and (b.root / "f").read_bytes() == b"new"


def test_missing_source_ends_with_a_failure_line_and_leaves_nothing(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    status, _, last = copy(b, "g", {"Source": a.pfn("nope"),
                                    "TransferHeaderAuthorization": f"Bearer {a.token('storage.read:/')}"},
                           "storage.create:/")
    assert status == 202 and last.startswith("failure:") and "404" in last
    assert not (b.root / "g").exists()
    assert [p.name for p in b.root.iterdir()] == [".onegrid"]  # no partial file left behind


def test_source_without_delegated_token_fails_with_its_401(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    a.put("f", b"data")
    status, _, last = copy(b, "g", {"Source": a.pfn("f")}, "storage.create:/")
    assert status == 202 and last.startswith("failure:") and "401" in last


def test_checksum_mismatch_fails_the_copy(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    a.put("f", b"A" * 4096)
    # Rot the bytes behind the endpoint's back (size and mtime kept): the source now sends
    # different bytes than the adler32 it reports.
    path = a.root / "f"
    st = os.stat(path)
    path.write_bytes(b"B" * 4096)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    status, _, last = copy(b, "f", {"Source": a.pfn("f"),
                                    "TransferHeaderAuthorization": f"Bearer {a.token('storage.read:/')}"},
                           "storage.create:/")
    assert status == 202 and last.startswith("failure: checksum mismatch")
    assert not (b.root / "f").exists()


def test_copy_needs_source_or_destination_and_credential_none(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    _a, b = pair
    assert copy(b, "f", {}, "storage.create:/")[0] == 400
    assert copy(b, "f", {"Source": "http://x/y", "Credential": "gridsite"}, "storage.create:/")[0] == 400


@pytest.fixture
def trickling_source() -> Iterator[str]:
    """An HTTP server that sends 20 bytes over about two seconds: a slow remote."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):  # the HEAD for a checksum hangs up early
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n")
                for _ in range(20):
                    time.sleep(0.1)
                    conn.sendall(b"z")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/slow"
    stop.set()
    thread.join()
    server.close()


def test_markers_come_while_a_slow_copy_runs(pair: tuple[RunningEndpoint, RunningEndpoint], trickling_source: str) -> None:
    _a, b = pair  # markers every 0.2 s in these tests
    status, markers, last = copy(b, "slow", {"Source": trickling_source}, "storage.create:/")
    assert (status, last) == (202, "success: Created")
    assert len(markers) >= 5
    done = [int(m["Stripe Bytes Transferred"]) for m in markers]
    assert done == sorted(done) and 0 < done[len(done) // 2] < 20
    assert (b.root / "slow").read_bytes() == b"z" * 20


def test_pull_from_and_push_to_nginx(pair: tuple[RunningEndpoint, RunningEndpoint], nginx: Any) -> None:
    a, _b = pair
    data = os.urandom(1024 * 1024 + 5)
    (nginx.root / "in").write_bytes(data)
    status, _, last = copy(a, "from-nginx", {"Source": f"{nginx.url}/in"}, "storage.create:/")
    assert (status, last) == (202, "success: Created")
    assert (a.root / "from-nginx").read_bytes() == data
    status, _, last = copy(a, "from-nginx", {"Destination": f"{nginx.url}/out/copy"}, "storage.read:/")
    assert (status, last) == (202, "success: Created")
    assert (nginx.root / "out/copy").read_bytes() == data


def test_large_pull_on_the_direct_path(pair: tuple[RunningEndpoint, RunningEndpoint]) -> None:
    a, b = pair
    data = os.urandom(24 * 1024 * 1024 + 7)  # above direct_put_bytes: socket → disk in a worker thread
    a.put("big", data)
    status, markers, last = copy(b, "big", {
        "Source": a.pfn("big"), "TransferHeaderAuthorization": f"Bearer {a.token('storage.read:/')}"},
        "storage.create:/")
    assert (status, last) == (202, "success: Created")
    assert int(markers[-1]["Stripe Bytes Transferred"]) == len(data)
    assert (b.root / "big").read_bytes() == data


@pytest.fixture
def truncating_source() -> Iterator[str]:
    """An HTTP server that promises 16 MiB and hangs up after 9 MiB."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n" + b"t" * (9 * 1024 * 1024))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/cut"
    server.close()
    thread.join(timeout=5)


def test_source_that_hangs_up_early_fails_the_copy(pair: tuple[RunningEndpoint, RunningEndpoint],
                                                   truncating_source: str) -> None:
    _a, b = pair
    status, _, last = copy(b, "cut", {"Source": truncating_source}, "storage.create:/")
    assert status == 202 and last.startswith("failure:") and "of 16777216 bytes" in last
    assert [p.name for p in b.root.iterdir()] == [".onegrid"]


def test_large_push_on_the_direct_path(pair: tuple[RunningEndpoint, RunningEndpoint], nginx: Any) -> None:
    a, b = pair
    data = os.urandom(20 * 1024 * 1024 + 1)  # sendfile from a worker thread
    a.put("big", data)
    for target, token in ((b.pfn("pushed"), b.token("storage.create:/")), (f"{nginx.url}/pushed", None)):
        headers = {"Destination": target}
        if token:
            headers["TransferHeaderAuthorization"] = f"Bearer {token}"
        status, _, last = copy(a, "big", headers, "storage.read:/")
        assert (status, last) == (202, "success: Created"), target
    assert (b.root / "pushed").read_bytes() == data
    assert (nginx.root / "pushed").read_bytes() == data
