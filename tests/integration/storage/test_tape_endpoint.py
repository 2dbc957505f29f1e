"""`onegrid storage --tape` end to end: the real endpoint, real tokens, the real background loop.

What only the whole endpoint shows: an evicted file still answers HEAD with its kept
adler32 and is still listed by PROPFIND; a recalled file's bytes match that checksum;
MOVE and DELETE carry the tape copies along; the Tape REST API takes WLCG token scopes
(`storage.stage` to stage, `storage.read` for archiveinfo).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from endpoint_harness import RunningEndpoint, running_endpoint

from onegrid.storage.settings import StorageSettings
from onegrid.storage.tape.backend import TAPE_API_PREFIX
from onegrid.storage.tape.settings import TapeSettings

FAST = TapeSettings(
    migration_delay=0.1,
    buffer_capacity=500,
    high_watermark=0.5,
    low_watermark=0.1,
    mount_latency=0.2,
    seek_time=0.05,
    throughput=1e6,
    files_per_tape=4,
    drives=1,
    default_disk_lifetime=600,
    tick=0.02,
)


def adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.03)


@pytest.fixture
def se(live_server: Any, tmp_path: Path) -> Iterator[RunningEndpoint]:
    settings = StorageSettings(marker_interval=0.2, tape=FAST)
    with running_endpoint(
        tmp_path / "se",
        live_server.url,
        live_server.token,
        tape=True,
        settings=settings,
        tape_root=tmp_path / "tapes",
    ) as ep:
        yield ep


def localities(se: RunningEndpoint, *names: str) -> dict[str, str]:
    with se.client("storage.read:/") as c:
        r = c.post(f"{TAPE_API_PREFIX}/archiveinfo", json={"paths": [f"/belle/{n}" for n in names]})
    assert r.status_code == 200, r.text
    return {e["path"].removeprefix("/belle/"): e.get("locality", "error") for e in r.json()}


def test_tape_story_on_the_real_endpoint(se: RunningEndpoint, tmp_path: Path) -> None:
    data = {f"run/f{i}": bytes([97 + i]) * 300 for i in range(3)}
    for name, body in data.items():
        assert se.put(name, body).status_code == 201
    # one 300 B copy is above 50 % of 500 B: every migrated copy goes (down to 10 %)
    wait_for(lambda: set(localities(se, *data).values()) == {"TAPE"})
    assert sorted(p.name for p in (tmp_path / "tapes/T00000/run").iterdir()) == ["f0", "f1", "f2"]

    with se.client("storage.read:/") as c:
        r = c.get(se.pfn("run/f1"))
        assert r.status_code == 409 and "tape" in r.text.lower()
        head = c.head(se.pfn("run/f1"), headers={"Want-Digest": "adler32"})
        assert head.status_code == 200 and int(head.headers["content-length"]) == 300
        assert head.headers["digest"] == f"adler32={adler(data['run/f1'])}"  # kept across eviction
        listing = c.request("PROPFIND", se.pfn("run"), headers={"Depth": "1"})
        assert listing.status_code == 207 and "f1" in listing.text and ".tape-" not in listing.text

    files = [{"path": f"/belle/{n}", "diskLifetime": "PT10M"} for n in data]
    with se.client("storage.read:/") as c:  # a read token cannot stage
        assert c.post(f"{TAPE_API_PREFIX}/stage", json={"files": files}).status_code == 403
    with se.client("storage.stage:/run") as c:
        r = c.post(f"{TAPE_API_PREFIX}/stage", json={"files": files})
        assert r.status_code == 201, r.text
        status_url = r.headers["location"]
        wait_for(lambda: c.get(status_url).json().get("completedAt") is not None)
        status = c.get(status_url).json()
        assert [f["state"] for f in status["files"]] == ["COMPLETED"] * 3
        assert all(f["onDisk"] for f in status["files"])
    assert se.app.endpoint.tape is not None and se.app.endpoint.tape.mounts_started == 1
    with se.client("storage.read:/") as c:
        for name, body in data.items():
            got = c.get(se.pfn(name), headers={"Want-Digest": "adler32"})
            assert got.content == body and got.headers["digest"] == f"adler32={adler(body)}"
    assert set(localities(se, *data).values()) == {"DISK_AND_TAPE"}  # pinned for 10 minutes

    with se.client("storage.modify:/") as c:
        assert c.request(
            "MOVE", se.pfn("run/f0"), headers={"Destination": se.pfn("moved/f0")}
        ).status_code in (201, 204)
        assert c.delete(se.pfn("run/f2")).status_code in (200, 204)
    assert localities(se, "moved/f0", "run/f0", "run/f2") == {
        "moved/f0": "DISK_AND_TAPE",
        "run/f0": "error",
        "run/f2": "error",
    }
    assert (tmp_path / "tapes/T00000/moved/f0").read_bytes() == data["run/f0"]
    assert not (tmp_path / "tapes/T00000/run/f2").exists()


def test_discovery_is_served_without_a_token(se: RunningEndpoint) -> None:
    with se.client() as c:
        doc = c.get("/.well-known/wlcg-tape-rest-api").json()
    assert doc["endpoints"][0]["uri"] == se.url + TAPE_API_PREFIX and doc["endpoints"][0]["version"] == "v1"
    with se.client() as c:
        r = c.post(f"{TAPE_API_PREFIX}/archiveinfo", json={"paths": ["/belle/x"]})
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_a_token_for_some_files_of_a_request_may_follow_and_release_those(se: RunningEndpoint) -> None:
    for name in ("a/x", "b/y"):
        assert se.put(name, b"z" * 300).status_code == 201
    files = [{"path": "/belle/a/x"}, {"path": "/belle/b/y"}]
    with se.client("storage.stage:/") as c:
        status_url = c.post(f"{TAPE_API_PREFIX}/stage", json={"files": files}).headers["location"]
    request_id = status_url.rsplit("/", 1)[1]
    with se.client("storage.stage:/a") as c:  # narrowed, as the conveyor polls
        assert c.get(status_url).status_code == 200
        assert (
            c.post(f"{TAPE_API_PREFIX}/release/{request_id}", json={"paths": ["/belle/a/x"]}).status_code
            == 200
        )
        assert (
            c.post(f"{TAPE_API_PREFIX}/release/{request_id}", json={"paths": ["/belle/b/y"]}).status_code
            == 403
        )
        assert (
            c.post(f"{TAPE_API_PREFIX}/stage/{request_id}/cancel", json={"paths": ["/belle/b/y"]}).status_code
            == 403
        )
        assert c.delete(status_url).status_code == 403  # it would cancel b/y too
    with se.client("storage.stage:/c") as c:
        assert c.get(status_url).status_code == 403
    with se.client("storage.stage:/") as c:
        assert c.delete(status_url).status_code == 200
