"""The storage client against OneGrid's own endpoint (`onegrid storage`): checksums from
`Digest` headers, token scopes, HTTP-TPC pull and push with markers and typed failures,
and the Tape REST API (discovery, stage, poll, release, cancel, archiveinfo)."""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from endpoint_harness import RunningEndpoint, running_endpoint

from onegrid.errors import Conflict, Forbidden, NotFound, OneGridError, Unauthenticated
from onegrid.storage.client import (
    Locality,
    PerfMarker,
    StageState,
    TransferFailed,
    is_recoverable,
    third_party_copy,
)
from onegrid.storage.client.http import HttpStorage
from onegrid.storage.settings import StorageSettings
from onegrid.storage.tape.settings import TapeSettings


def adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


@pytest.fixture
def two(live_server: Any, tmp_path: Path) -> Iterator[tuple[RunningEndpoint, RunningEndpoint]]:
    with running_endpoint(tmp_path / "a", live_server.url, live_server.token, name="SE-A") as a, \
            running_endpoint(tmp_path / "b", live_server.url, live_server.token, name="SE-B") as b:
        yield a, b


def test_stat_reads_checksums_from_digest_without_reading_the_file(two, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    data = os.urandom(2 * 1024 * 1024 + 5)
    src = tmp_path / "f"
    src.write_bytes(data)
    with HttpStorage(a.token("storage.modify:/", "storage.read:/")) as client:
        put = client.put(src, a.pfn("mc/f"))
        assert put.adler32 == adler(data)
        stat = client.stat(a.pfn("mc/f"))  # HEAD + Want-Digest: the endpoint answers both
        assert (stat.size, stat.adler32, stat.md5) == (len(data), put.adler32, put.md5)
        got = client.get(a.pfn("mc/f"), tmp_path / "back")
        assert got.md5 == put.md5
        assert [e.url.rsplit("/", 1)[-1] for e in client.list(a.pfn("mc"))] == ["f"]
        assert client.delete(a.pfn("mc/f"))


def test_scopes_are_enforced_and_errors_carry_the_servers_message(two, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, _ = two
    src = tmp_path / "f"
    src.write_bytes(b"data")
    with HttpStorage(a.token("storage.read:/")) as reader, pytest.raises(Forbidden) as err:
        reader.put(src, a.pfn("x/f"))
    assert "403" in err.value.message and not is_recoverable(err.value)
    with HttpStorage() as anonymous, pytest.raises(Unauthenticated):
        anonymous.put(src, a.pfn("x/f"))
    assert not (a.root / "x/f").exists()


def _seed(ep: RunningEndpoint, path: str, data: bytes) -> None:
    assert ep.put(path, data).status_code == 201


@pytest.mark.parametrize("mode", ["pull", "push"])
def test_third_party_copy_moves_the_bytes_and_reports_markers(two, mode: str) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    data = os.urandom(6 * 1024 * 1024)
    _seed(a, "raw/r1", data)
    markers: list[PerfMarker] = []
    result = third_party_copy(a.pfn("raw/r1"), b.pfn("copy/r1"), mode=mode,  # type: ignore[arg-type]
                              source_token=a.token("storage.read:/raw"),
                              dest_token=b.token("storage.modify:/copy", "storage.read:/copy"),
                              on_marker=markers.append)
    assert result.bytes_transferred == len(data) and result.message.startswith("success")
    assert (b.root / "copy/r1").read_bytes() == data
    assert all(m.bytes_transferred <= len(data) for m in markers)
    with HttpStorage(b.token("storage.read:/")) as client:
        assert client.stat(b.pfn("copy/r1")).adler32 == adler(data)


def test_third_party_copy_failures_are_typed_and_say_if_a_retry_can_help(two) -> None:  # type: ignore[no-untyped-def]
    a, b = two
    dest_token = b.token("storage.modify:/", "storage.read:/")
    with pytest.raises((TransferFailed, NotFound)) as missing:
        third_party_copy(a.pfn("nothing/here"), b.pfn("copy/x"), source_token=a.token("storage.read:/"),
                         dest_token=dest_token)
    assert not is_recoverable(missing.value)
    _seed(a, "raw/r2", b"abc")
    _seed(b, "copy/r2", b"old")
    with pytest.raises(OneGridError) as exists:  # a refusal before 202, or a `failure:` line
        third_party_copy(a.pfn("raw/r2"), b.pfn("copy/r2"), source_token=a.token("storage.read:/"),
                         dest_token=dest_token, overwrite=False)
    assert not is_recoverable(exists.value)
    assert (b.root / "copy/r2").read_bytes() == b"old"
    # A source that cannot be reached: the network may come back, so it is recoverable.
    with pytest.raises(TransferFailed) as down:
        third_party_copy("http://127.0.0.1:9/belle/x", b.pfn("copy/y"), dest_token=dest_token)
    assert down.value.recoverable


FAST_TAPE = TapeSettings(migration_delay=0, buffer_capacity=1000, high_watermark=0.5, low_watermark=0.2,
                         mount_latency=0.2, seek_time=0, throughput=1e9, files_per_tape=10, drives=1,
                         default_disk_lifetime=60, tick=0.05)


def _wait(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_tape_rest_client_stages_polls_and_releases(live_server: Any, tmp_path: Path) -> None:
    settings = StorageSettings(marker_interval=0.2, tape=FAST_TAPE)
    with running_endpoint(tmp_path / "t", live_server.url, live_server.token, tape=True, settings=settings) as t:
        for i in range(4):
            _seed(t, f"data/f{i}", bytes([65 + i]) * 200)
        urls = [t.pfn(f"data/f{i}") for i in range(4)]
        with HttpStorage(t.token("storage.read:/", "storage.stage:/", "storage.modify:/")) as client:
            # Written, migrated, and (800 B > 50 % of 1000 B) evicted down to the low watermark.
            _wait(lambda: Locality.TAPE in client.archive_info(urls).values())
            info = client.archive_info([*urls, t.pfn("data/none")])
            on_tape = [u for u in urls if info[u] == Locality.TAPE]
            assert on_tape and isinstance(info[t.pfn("data/none")], str)
            with pytest.raises(Conflict) as offline:  # 409 + RFC 7807 problem
                client.get(on_tape[0], tmp_path / "nope")
            assert "tape" in str(offline.value).lower()
            request = client.stage(on_tape, disk_lifetime=60)
            assert request.startswith(t.url) and "/stage/" in request
            _wait(lambda: client.stage_status(request).done)
            status = client.stage_status(request)
            assert {f.state for f in status.files} == {StageState.COMPLETED}
            assert {f.url for f in status.files} == set(on_tape)
            got = client.get(on_tape[0], tmp_path / "recalled")
            assert got.size == 200
            client.release(request, on_tape)
            second = client.stage(on_tape[:1])
            client.cancel_stage(second)  # the whole request (DELETE)
            with pytest.raises(NotFound):
                client.stage_status(second)


def test_our_endpoint_pulls_from_nginx_by_third_party_copy(two, nginx) -> None:  # type: ignore[no-untyped-def]
    """Interop: the copy's source is a storage we did not write (no tokens, no Digest)."""
    _, b = two
    data = os.urandom(3 * 1024 * 1024 + 1)
    (nginx.root / "raw").mkdir()
    (nginx.root / "raw/n1").write_bytes(data)
    markers: list[PerfMarker] = []
    result = third_party_copy(nginx.url + "/raw/n1", b.pfn("from-nginx/n1"), mode="pull",
                              dest_token=b.token("storage.create:/from-nginx", "storage.read:/from-nginx"),
                              on_marker=markers.append)
    assert result.bytes_transferred == len(data)
    assert (b.root / "from-nginx/n1").read_bytes() == data
    # nginx cannot push (its COPY only copies within itself): a typed refusal, not a hang.
    with pytest.raises(OneGridError) as err:
        third_party_copy(nginx.url + "/raw/n1", b.pfn("from-nginx/n2"), mode="push",
                         dest_token=b.token("storage.create:/", "storage.read:/"), timeout=30)
    assert not (b.root / "from-nginx/n2").exists()
    assert err.value.message.startswith("COPY ") and "500" in err.value.message
