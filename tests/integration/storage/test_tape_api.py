"""The tape emulation over real HTTP on loopback: migration, eviction, recalls in mounts,
and the WLCG Tape REST API v1 exactly as specified.

The WebDAV side here is a tiny Starlette stand-in that calls the backend's hooks the way
`onegrid storage` does (PUT → on_written, GET → is_online/offline_response/on_read);
tests/integration/storage/test_tape_endpoint.py runs the same story on the real endpoint.
Time is a ManualClock driven by `run_once()`, except in the test of the background loop.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from onegrid.clock import Clock, ManualClock, SystemClock
from onegrid.errors import Forbidden
from onegrid.storage.client.tape import TapeApi
from onegrid.storage.tape.backend import TAPE_API_PREFIX, TapeBackend
from onegrid.storage.tape.settings import TapeSettings
from onegrid.storage.tape.stage import StageFile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SMALL = TapeSettings(
    migration_delay=60,
    buffer_capacity=1000,
    high_watermark=0.5,
    low_watermark=0.2,
    mount_latency=30,
    seek_time=10,
    throughput=100,
    files_per_tape=3,
    drives=1,
    default_disk_lifetime=600,
)


def tiny_app(backend: TapeBackend) -> Starlette:
    """Just enough WebDAV to write and read files under /belle, wired like the endpoint."""

    async def files(request: Request) -> Response:
        relpath = request.path_params["path"]
        disk = backend.disk_path(relpath)
        if request.method == "PUT":
            body = await request.body()
            disk.parent.mkdir(parents=True, exist_ok=True)
            disk.write_bytes(body)
            backend.on_written(relpath, len(body))
            return Response(status_code=201)
        if not disk.is_file():
            return Response(status_code=404)
        if not backend.is_online(relpath):
            return backend.offline_response(relpath)
        backend.on_read(relpath)
        return FileResponse(disk)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette):
        await backend.start()
        yield
        await backend.stop()

    return Starlette(
        routes=[*backend.routes(), Route("/belle/{path:path}", files, methods=["GET", "PUT"])],
        lifespan=lifespan,
    )


@dataclass
class TapeSite:
    url: str
    backend: TapeBackend
    clock: Clock
    http: httpx.Client

    @property
    def api(self) -> str:
        return self.url + TAPE_API_PREFIX

    def put(self, name: str, data: bytes) -> None:
        assert self.http.put(f"/belle/data/{name}", content=data).status_code == 201

    def stage(self, *names: str, lifetime: str | None = None) -> str:
        files = [
            {"path": f"/belle/data/{n}", **({"diskLifetime": lifetime} if lifetime else {})} for n in names
        ]
        r = self.http.post(f"{TAPE_API_PREFIX}/stage", json={"files": files})
        assert r.status_code == 201, r.text
        request_id = r.json()["requestId"]
        assert r.headers["Location"].endswith(f"{TAPE_API_PREFIX}/stage/{request_id}")
        return request_id

    def status(self, request_id: str) -> dict:
        r = self.http.get(f"{TAPE_API_PREFIX}/stage/{request_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def states(self, request_id: str) -> dict[str, str]:
        return {f["path"].rsplit("/", 1)[1]: f["state"] for f in self.status(request_id)["files"]}

    def localities(self, *names: str) -> dict[str, str]:
        r = self.http.post(
            f"{TAPE_API_PREFIX}/archiveinfo", json={"paths": [f"/belle/data/{n}" for n in names]}
        )
        assert r.status_code == 200, r.text
        return {
            e["path"].rsplit("/", 1)[1]: e.get("locality", "error: " + e.get("error", "")) for e in r.json()
        }

    def tick(self, seconds: float = 0) -> None:
        assert isinstance(self.clock, ManualClock)
        self.clock.advance(seconds)
        self.backend.run_once()


@contextlib.contextmanager
def serve(backend: TapeBackend, *, lifespan: str = "off") -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(tiny_app(backend), host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "tape test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def make_backend(tmp: Path, clock: Clock, settings: TapeSettings = SMALL, **kw: object) -> TapeBackend:
    (tmp / "disk").mkdir(exist_ok=True)
    return TapeBackend(tmp / "disk", tmp / "tape", settings, clock, base_path="/belle", **kw)  # type: ignore[arg-type]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[TapeSite]:
    clock = ManualClock()
    backend = make_backend(tmp_path, clock)
    with serve(backend) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield TapeSite(url, backend, clock, http)
    backend.close()


def payload(i: int) -> bytes:
    return bytes([65 + i]) * 200


def fill_and_evict(site: TapeSite) -> None:
    """f0..f3 (200 B each) written a second apart, f0 read last; then migrated and evicted.

    Capacity 1000 B, watermarks 50 %/20 %: 800 B on disk must fall to 200 B, so the three
    least recently used (f1, f2, f3) lose their disk copies; f0, read last, keeps its copy.
    Cartridges hold 3 files: f0..f2 on T00000 (positions 0..2), f3 on T00001.
    """
    for i in range(4):
        site.put(f"f{i}", payload(i))
        site.tick(1)
    assert site.http.get("/belle/data/f0").content == payload(0)
    site.tick(60)


def test_a_write_is_migrated_after_the_delay_then_evicted_under_pressure(site: TapeSite) -> None:
    for i in range(4):
        site.put(f"f{i}", payload(i))
        site.tick(1)
    # 800 B > 50 % of 1000 B, but nothing is on tape yet: nothing may be evicted
    assert site.localities("f0", "f3") == {"f0": "DISK", "f3": "DISK"}
    assert site.http.get("/belle/data/f2").content == payload(2)
    site.tick(1)
    assert site.http.get("/belle/data/f0").content == payload(0)  # read last: evicted last
    site.tick(60)
    assert site.localities("f0", "f1", "f2", "f3") == {
        "f0": "DISK_AND_TAPE",
        "f1": "TAPE",
        "f2": "TAPE",
        "f3": "TAPE",
    }
    tape = site.backend.tape_root
    assert (tape / "T00000/data/f0").read_bytes() == payload(0)
    assert (tape / "T00000/data/f2").read_bytes() == payload(2)
    assert (tape / "T00001/data/f3").read_bytes() == payload(3)
    stub = os.stat(site.backend.disk_root / "data/f1")
    assert stub.st_size == 200 and stub.st_blocks == 0  # the name and size stay, the bytes are gone


def test_a_get_of_a_file_only_on_tape_says_so(site: TapeSite) -> None:
    fill_and_evict(site)
    r = site.http.get("/belle/data/f1")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 409 and "tape" in problem["title"].lower()
    assert "stage" in problem["detail"]
    assert site.http.get("/belle/data/f0").content == payload(0)


def test_archiveinfo_reports_every_locality_and_errors_per_path(site: TapeSite) -> None:
    fill_and_evict(site)
    site.put("fresh", b"new")
    (site.backend.disk_root / "data/adir").mkdir()
    (site.backend.tape_root / "T00000/data/f2").unlink()  # the cartridge lost it
    got = site.localities("f0", "f1", "fresh", "adir", "f2", "nothere")
    assert got == {
        "f0": "DISK_AND_TAPE",
        "f1": "TAPE",
        "fresh": "DISK",
        "adir": "NONE",
        "f2": "LOST",
        "nothere": "error: No such file or directory",
    }
    r = site.http.post(f"{TAPE_API_PREFIX}/archiveinfo", json={"paths": ["/elsewhere/x"]})
    assert r.json() == [{"path": "/elsewhere/x", "error": "path is outside this storage's namespace"}]


def test_several_requests_for_one_cartridge_are_served_by_one_mount(site: TapeSite) -> None:
    fill_and_evict(site)
    a = site.stage("f1")
    b = site.stage("f2", lifetime="PT1H")
    c = site.stage("f3")  # on T00001: waits for the only drive
    d = site.stage("f0")  # already on disk: completed at once
    assert site.states(a) == {"f1": "SUBMITTED"} and site.status(a)["files"][0]["onDisk"] is False
    assert site.states(d) == {"f0": "COMPLETED"} and site.status(d)["files"][0]["onDisk"] is True
    assert "completedAt" in site.status(d)

    site.tick(0)  # the scheduler mounts T00000 for a and b together
    assert site.backend.mounts_started == 1
    assert (site.states(a), site.states(b), site.states(c)) == (
        {"f1": "STARTED"},
        {"f2": "STARTED"},
        {"f3": "SUBMITTED"},
    )
    # mount 30 s + seek to position 1 (10 s * 1/3) + 200 B at 100 B/s = 35.3 s
    site.tick(35)
    assert site.states(a) == {"f1": "STARTED"}
    assert site.http.get("/belle/data/f1").status_code == 409
    site.tick(1)
    assert site.states(a) == {"f1": "COMPLETED"}
    assert site.http.get("/belle/data/f1").content == payload(1)
    assert site.states(b) == {"f2": "STARTED"}
    # f2 is 3.3 s of seek + 2 s of reading further; then the drive swaps to T00001
    site.tick(5)
    assert site.states(b) == {"f2": "COMPLETED"}
    assert site.states(c) == {"f3": "STARTED"} and site.backend.mounts_started == 2
    site.tick(33)
    assert site.states(c) == {"f3": "COMPLETED"}
    assert site.http.get("/belle/data/f3").content == payload(3)
    status = site.status(a)
    file = status["files"][0]
    assert (
        status["createdAt"]
        <= status["startedAt"]
        <= file["startedAt"]
        <= file["finishedAt"]
        == status["completedAt"]
    )
    assert site.localities("f1", "f2", "f3") == {
        "f1": "DISK_AND_TAPE",
        "f2": "DISK_AND_TAPE",
        "f3": "DISK_AND_TAPE",
    }


def test_recalled_files_stay_pinned_until_released(site: TapeSite) -> None:
    fill_and_evict(site)
    a = site.stage("f1", "f2", lifetime="P1D")
    site.tick(0)
    site.tick(41)
    assert site.states(a) == {"f1": "COMPLETED", "f2": "COMPLETED"}
    # 3 copies on disk (600 B > 500 B): f0 is the only evictable one, the pinned stay
    assert site.localities("f0", "f1", "f2") == {"f0": "TAPE", "f1": "DISK_AND_TAPE", "f2": "DISK_AND_TAPE"}
    r = site.http.post(f"{TAPE_API_PREFIX}/release/{a}", json={"paths": ["/belle/data/f1", "/belle/data/f2"]})
    assert r.status_code == 200
    site.put("g", b"x" * 200)  # pressure again: 600 B
    site.tick(61)  # g migrates; released f1, f2 (least recently used) are evicted
    assert site.localities("f1", "f2", "g") == {"f1": "TAPE", "f2": "TAPE", "g": "DISK_AND_TAPE"}
    assert site.states(a) == {"f1": "COMPLETED", "f2": "COMPLETED"}  # release does not change the state


def test_cancel_delete_and_the_problems_they_answer(site: TapeSite) -> None:
    fill_and_evict(site)
    a = site.stage("f1", "f2")
    api = TAPE_API_PREFIX
    r = site.http.post(f"{api}/stage/{a}/cancel", json={"paths": ["/belle/data/f3"]})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "f3" in r.json()["detail"]
    assert site.http.post(f"{api}/stage/{a}/cancel", json={"paths": ["/belle/data/f1"]}).status_code == 200
    assert site.states(a) == {"f1": "CANCELLED", "f2": "SUBMITTED"}
    site.tick(0)
    assert [len(m.reads) for m in site.backend.mounts] == [1]  # the cancelled file is not read
    site.tick(41)
    assert site.states(a) == {"f1": "CANCELLED", "f2": "COMPLETED"}
    assert site.localities("f1") == {"f1": "TAPE"}
    assert "completedAt" in site.status(a)

    assert site.http.delete(f"{api}/stage/{a}").status_code == 200
    for method, path, body in [
        ("GET", f"{api}/stage/{a}", None),
        ("DELETE", f"{api}/stage/{a}", None),
        ("POST", f"{api}/stage/{a}/cancel", {"paths": ["/belle/data/f1"]}),
        ("POST", f"{api}/release/{a}", {"paths": ["/belle/data/f1"]}),
    ]:
        r = site.http.request(method, path, json=body)
        assert r.status_code == 404, (method, path)
        assert r.json()["status"] == 404 and r.json()["title"]

    for body in [
        {},
        {"files": []},
        {"files": [{"nopath": 1}]},
        {"files": [{"path": "/belle/data/f1", "diskLifetime": "one hour"}]},
        {"files": [{"path": "/belle/data/f1", "targetedMetadata": 3}]},
    ]:
        r = site.http.post(f"{api}/stage", json=body)
        assert r.status_code == 400 and r.json()["status"] == 400, body
    assert site.http.post(f"{api}/stage", content=b"{not json").status_code == 400
    assert site.http.post(f"{api}/archiveinfo", json={"paths": "x"}).status_code == 400


def test_a_deleted_request_stops_its_recalls(site: TapeSite) -> None:
    fill_and_evict(site)
    a = site.stage("f1")
    assert site.http.delete(f"{TAPE_API_PREFIX}/stage/{a}").status_code == 200
    site.tick(0)
    assert site.backend.mounts == [] and site.backend.mounts_started == 0


def test_stage_requests_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    backend = make_backend(tmp_path, clock)
    with serve(backend) as url, httpx.Client(base_url=url, timeout=30) as http:
        site = TapeSite(url, backend, clock, http)
        fill_and_evict(site)
        a = site.stage("f1", "f3")
        site.tick(0)  # T00000 mounted, f1 being read ... and the power goes
        before = site.status(a)
        assert site.states(a) == {"f1": "STARTED", "f3": "SUBMITTED"}
    backend.close()

    backend = make_backend(tmp_path, clock)
    with serve(backend) as url, httpx.Client(base_url=url, timeout=30) as http:
        site = TapeSite(url, backend, clock, http)
        after = site.status(a)
        assert (after["id"], after["createdAt"]) == (before["id"], before["createdAt"])
        assert site.states(a) == {"f1": "SUBMITTED", "f3": "SUBMITTED"}  # the drives were unloaded
        assert site.localities("f0", "f1") == {"f0": "DISK_AND_TAPE", "f1": "TAPE"}
        site.tick(0)
        site.tick(80)
        site.tick(80)
        assert site.states(a) == {"f1": "COMPLETED", "f3": "COMPLETED"}
        assert site.http.get("/belle/data/f3").content == payload(3)
    backend.close()


def test_discovery_document_leads_the_client_to_the_api(site: TapeSite) -> None:
    doc = site.http.get("/.well-known/wlcg-tape-rest-api").json()
    assert doc["sitename"] and doc["description"]
    assert doc["endpoints"] == [{"uri": site.url + TAPE_API_PREFIX, "version": "v1", "metadata": {}}]
    api = TapeApi(site.http, {})
    assert api.endpoint(site.url + "/belle/data/f0") == site.url + TAPE_API_PREFIX


def test_the_authorize_hook_guards_every_route(tmp_path: Path) -> None:
    seen: list[tuple[str, tuple[str, ...]]] = []

    async def authorize(request: Request, scope: str, paths: Sequence[str]) -> None:
        seen.append((scope, tuple(paths)))
        if request.headers.get("authorization") != "Bearer good":
            raise Forbidden(f"token lacks {scope} for {', '.join(paths)}")

    backend = make_backend(tmp_path, ManualClock(), authorize=authorize)
    with serve(backend) as url, httpx.Client(base_url=url, timeout=30) as http:
        http.put("/belle/data/x", content=b"x")
        api = TAPE_API_PREFIX
        r = http.post(f"{api}/stage", json={"files": [{"path": "/belle/data/x"}]})
        assert r.status_code == 403 and r.json() == {
            "title": "Forbidden",
            "status": 403,
            "detail": "token lacks storage.stage for /belle/data/x",
        }
        r = http.post(f"{api}/archiveinfo", json={"paths": ["/belle/data/x"]})
        assert r.status_code == 403
        good = {"Authorization": "Bearer good"}
        request_id = http.post(
            f"{api}/stage", json={"files": [{"path": "/belle/data/x"}]}, headers=good
        ).json()["requestId"]
        assert http.get(f"{api}/stage/{request_id}").status_code == 403
        assert http.get(f"{api}/stage/{request_id}", headers=good).status_code == 200
        assert http.post(f"{api}/release/{request_id}", json={"paths": ["/belle/data/x"]}).status_code == 403
        assert http.delete(f"{api}/stage/{request_id}").status_code == 403
    backend.close()
    assert ("storage.read", ("/belle/data/x",)) in seen
    assert all(scope in ("storage.stage", "storage.read") for scope, _ in seen)


def test_the_background_loop_migrates_evicts_and_recalls_in_real_time(tmp_path: Path) -> None:
    fast = TapeSettings(
        migration_delay=0.05,
        buffer_capacity=300,
        high_watermark=0.5,
        low_watermark=0.1,
        mount_latency=0.1,
        seek_time=0.05,
        throughput=1e5,
        files_per_tape=10,
        drives=2,
        tick=0.02,
    )
    backend = make_backend(tmp_path, SystemClock(), fast)
    with serve(backend, lifespan="on") as url, httpx.Client(base_url=url, timeout=30) as http:
        site = TapeSite(url, backend, SystemClock(), http)
        for i in range(3):
            site.put(f"f{i}", payload(i))
        wait_for(lambda: site.localities("f0", "f1", "f2") == {"f0": "TAPE", "f1": "TAPE", "f2": "TAPE"})
        api = TapeApi(http, {})
        request = api.stage([f"{url}/belle/data/f{i}" for i in range(3)], disk_lifetime=3600)
        wait_for(lambda: all(f.on_disk for f in api.stage_status(request).files))
        assert backend.mounts_started == 1
        assert [http.get(f"/belle/data/f{i}").content for i in range(3)] == [payload(i) for i in range(3)]
        api.release(request, [f"{url}/belle/data/f{i}" for i in range(3)])
        wait_for(lambda: set(site.localities("f0", "f1", "f2").values()) == {"TAPE"})
    backend.close()


def wait_for(condition, timeout: float = 60.0) -> None:  # shared CPUs: generous
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_files_already_on_the_disk_buffer_are_adopted_at_start(tmp_path: Path) -> None:
    clock = ManualClock()
    disk = tmp_path / "disk"
    (disk / "old/run").mkdir(parents=True)
    (disk / "old/run/a").write_bytes(b"a" * 50)
    (disk / ".onegrid").mkdir()
    (disk / ".onegrid/checksums.sqlite").write_bytes(b"bookkeeping")
    (disk / "old/.onegrid-part-123").write_bytes(b"partial upload")
    (disk / "old/run/.a.tape-99-1").write_bytes(b"a stub a crash left behind")
    backend = make_backend(tmp_path, clock)
    assert backend.adopt_existing() == 1
    assert backend.adopt_existing() == 0
    assert [r.path for r in backend.state.files()] == ["old/run/a"]
    assert sorted(p.name for p in (disk / "old/run").iterdir()) == ["a"]
    assert (disk / "old/.onegrid-part-123").exists()  # the endpoint's, not ours to remove
    clock.advance(61)
    backend.run_once()
    assert backend.locality("old/run/a") == "DISK_AND_TAPE"
    assert (backend.tape_root / "T00000/old/run/a").read_bytes() == b"a" * 50
    backend.close()


def test_moving_or_deleting_a_directory_carries_its_tape_copies(site: TapeSite) -> None:
    fill_and_evict(site)
    backend = site.backend
    os.rename(backend.disk_root / "data", backend.disk_root / "archive")  # what the endpoint's MOVE did
    backend.on_moved("data", "archive")
    assert backend.locality("archive/f1") == "TAPE" and backend.locality("data/f1") == "NONE"
    assert (backend.tape_root / "T00000/archive/f1").read_bytes() == payload(1)
    assert not (backend.tape_root / "T00000/data/f1").exists()
    a = site.http.post(f"{TAPE_API_PREFIX}/stage", json={"files": [{"path": "/belle/archive/f1"}]}).json()[
        "requestId"
    ]
    site.tick(0)
    site.tick(40)
    assert site.states(a) == {"f1": "COMPLETED"}
    assert (backend.disk_root / "archive/f1").read_bytes() == payload(1)
    backend.on_deleted("archive")
    assert backend.state.files() == []
    assert not any(p.is_file() for p in (backend.tape_root / "T00000").rglob("*"))


def test_every_api_route_but_discovery_calls_authorize(tmp_path: Path) -> None:
    """Each route, called with an authorizer that refuses everything, must refuse (403)."""

    async def refuse(request: Request, scope: str, paths: Sequence[str]) -> None:
        raise Forbidden(f"no {scope}")

    backend = make_backend(tmp_path, ManualClock(), authorize=refuse)
    (backend.disk_root / "x").write_bytes(b"x")
    request_id = backend.requests.create([StageFile("/belle/x", 60)])
    routes = backend.routes()
    assert len(routes) == 7
    with serve(backend) as url, httpx.Client(base_url=url, timeout=30) as client:
        for route in routes:
            path = route.path.replace("{request_id}", request_id)  # type: ignore[attr-defined]
            for method in sorted(route.methods - {"HEAD"}):  # type: ignore[attr-defined]
                r = client.request(
                    method, path, json={"files": [{"path": "/belle/x"}], "paths": ["/belle/x"]}
                )
                expected = 200 if path == "/.well-known/wlcg-tape-rest-api" else 403
                assert r.status_code == expected, (method, path, r.text)
    backend.close()


def test_a_lost_tape_copy_fails_its_recall_and_a_cancel_beats_a_finishing_read(site: TapeSite) -> None:
    fill_and_evict(site)
    (site.backend.tape_root / "T00000/data/f1").unlink()
    a = site.stage("f1", "f2")
    site.tick(0)
    assert site.states(a) == {"f1": "STARTED", "f2": "STARTED"}
    r = site.http.post(f"{TAPE_API_PREFIX}/stage/{a}/cancel", json={"paths": ["/belle/data/f2"]})
    assert r.status_code == 200  # cancelled while its cartridge is already being read
    site.tick(45)
    status = site.status(a)
    f1, f2 = status["files"]
    assert f1["state"] == "FAILED" and "lost" in f1["error"] and f1["onDisk"] is False
    assert f2["state"] == "CANCELLED"  # the read that completed afterwards did not undo it
    assert site.localities("f1") == {"f1": "LOST"}
    assert "completedAt" in status


def test_paths_are_normalised_and_never_climb_out(site: TapeSite) -> None:
    fill_and_evict(site)
    api = TAPE_API_PREFIX
    files = [
        {"path": "/belle//data/./f1"},
        {"path": "/belle/data/../../etc/passwd"},
        {"path": "/other/f1"},
        {"path": f"{site.url}/belle/data/f2"},
    ]
    request_id = site.http.post(f"{api}/stage", json={"files": files}).json()["requestId"]
    got = {f["path"]: (f["state"], f.get("error")) for f in site.status(request_id)["files"]}
    assert got == {
        "/belle//data/./f1": ("SUBMITTED", None),
        "/belle/data/../../etc/passwd": ("FAILED", "path is outside this storage's namespace"),
        "/other/f1": ("FAILED", "path is outside this storage's namespace"),
        f"{site.url}/belle/data/f2": ("SUBMITTED", None),
    }
    # the client may name a file of the request in another spelling of the same path
    r = site.http.post(f"{api}/stage/{request_id}/cancel", json={"paths": ["/belle/data/f1"]})
    assert r.status_code == 200
    assert site.status(request_id)["files"][0]["state"] == "CANCELLED"
    assert site.localities("../f1") == {"f1": "error: path is outside this storage's namespace"}


def test_space_report_for_srr(site: TapeSite) -> None:
    fill_and_evict(site)
    assert site.backend.space() == {
        "online": {"totalsize": 1000, "usedsize": 200, "reservedsize": 0},
        "nearline": {"totalsize": 800, "usedsize": 800, "reservedsize": 0},
    }


def test_a_pin_ends_with_its_disk_lifetime(site: TapeSite) -> None:
    fill_and_evict(site)
    a = site.stage("f1", "f2", lifetime="PT2M")
    site.tick(0)
    site.tick(41)
    assert site.states(a) == {"f1": "COMPLETED", "f2": "COMPLETED"}
    site.put("g", b"g" * 200)
    site.put("h", b"h" * 200)
    site.tick(61)  # 800 B on disk: only g and h may go, f1 and f2 are pinned
    assert site.localities("f1", "f2", "g", "h") == {
        "f1": "DISK_AND_TAPE",
        "f2": "DISK_AND_TAPE",
        "g": "TAPE",
        "h": "TAPE",
    }
    site.put("i", b"i" * 200)
    site.tick(61)  # two minutes after the recall the pins are over: f1 and f2 go first (LRU)
    assert site.localities("f1", "f2", "i") == {"f1": "TAPE", "f2": "TAPE", "i": "DISK_AND_TAPE"}
