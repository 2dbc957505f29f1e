"""`onegrid storage --tape`: the endpoint mounts the Tape REST API and asks the tape
emulation before serving data; an evicted file answers that it is on tape only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from endpoint_harness import RunningEndpoint, running_endpoint

from onegrid.storage.settings import StorageSettings
from onegrid.storage.tape.settings import TapeSettings


@pytest.fixture
def tape_se(live_server: Any, tmp_path: Path) -> Iterator[RunningEndpoint]:
    tape = TapeSettings(migration_delay=0, buffer_capacity=1500, high_watermark=0.9, low_watermark=0.7,
                        mount_latency=0.05, seek_time=0.05, throughput=1e9, tick=0.05)
    settings = StorageSettings(marker_interval=0.2, tape=tape)
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token, name="KEK-TAPE", tape=True,
                          settings=settings) as ep:
        yield ep


def wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_evicted_file_is_on_tape_only_until_staged(tape_se: RunningEndpoint) -> None:
    se = tape_se
    assert se.put("raw/a", b"a" * 1000).status_code == 201
    assert se.put("raw/b", b"b" * 1000).status_code == 201
    token = se.token("storage.read:/", "storage.stage:/")
    auth = {"Authorization": f"Bearer {token}"}

    def offline() -> list[str]:
        return [n for n in ("a", "b") if httpx.get(se.pfn(f"raw/{n}"), headers=auth).status_code == 409]

    wait_for(lambda: bool(offline()))  # migrated, then evicted above the high watermark
    name = offline()[0]
    r = httpx.get(se.pfn(f"raw/{name}"), headers=auth)
    assert r.status_code == 409 and "tape" in r.text.lower()
    # Stat still works on the stub, with the checksum kept from the upload.
    head = httpx.head(se.pfn(f"raw/{name}"), headers={**auth, "Want-Digest": "adler32"})
    assert head.status_code == 200 and head.headers["content-length"] == "1000"
    assert head.headers["digest"].startswith("adler32=")

    discovery = httpx.get(se.url + "/.well-known/wlcg-tape-rest-api").json()
    api = discovery["endpoints"][0]["uri"]
    info = httpx.post(f"{api}/archiveinfo", json={"paths": [f"/belle/raw/{name}"]}, headers=auth).json()
    assert info[0]["locality"] == "TAPE"
    r = httpx.post(f"{api}/stage", json={"files": [{"path": f"/belle/raw/{name}"}]}, headers=auth)
    assert r.status_code == 201, r.text
    request_id = r.json()["requestId"]

    def staged() -> bool:
        status = httpx.get(f"{api}/stage/{request_id}", headers=auth).json()
        return all(f.get("state") == "COMPLETED" or f.get("onDisk") for f in status["files"])

    wait_for(staged)
    got = httpx.get(se.pfn(f"raw/{name}"), headers=auth)
    assert got.status_code == 200 and got.content == name.encode() * 1000


def test_tape_api_needs_the_stage_scope(tape_se: RunningEndpoint) -> None:
    se = tape_se
    se.put("f", b"x")
    api = httpx.get(se.url + "/.well-known/wlcg-tape-rest-api").json()["endpoints"][0]["uri"]
    body = {"files": [{"path": "/belle/f"}]}
    assert httpx.post(f"{api}/stage", json=body).status_code == 401
    read_only = {"Authorization": f"Bearer {se.token('storage.read:/')}"}
    assert httpx.post(f"{api}/stage", json=body, headers=read_only).status_code == 403


def test_tape_endpoint_reports_nearline_in_srr(tape_se: RunningEndpoint) -> None:
    s = httpx.get(tape_se.url + "/.well-known/wlcg-srr").json()["storageservice"]
    assert "nearline" in s["storagecapacity"]
    assert s["storageshares"][0]["accesslatency"] == "nearline"
    assert s["storageshares"][0]["retentionpolicy"] == "custodial"
