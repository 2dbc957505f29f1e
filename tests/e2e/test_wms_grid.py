"""The WMS end to end on loopback: a server, compute queues at two sites, real
`onegrid pilot` processes started by the site director, real payloads."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridtest import LiveServer, free_port, run_cli
from onegrid.client import OneGridClient
from onegrid.iam.tables import AccountType
from onegrid.storage.client.http import HttpStorage
from onegrid.wms.agents import SiteDirector, Watchdog
from onegrid.wms.backends.local import LocalBackend

pytestmark = pytest.mark.slow

# Reads its input, writes an output with the input's checksum in it (and its own).
PAYLOAD = """
import hashlib, sys, time, zlib
src, dst, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = open(src, 'rb').read()
time.sleep(pause)
out = f"input={src} sha256={hashlib.sha256(data).hexdigest()} bytes={len(data)}\\n".encode() * 10
open(dst, 'wb').write(out)
print('wrote', dst, format(zlib.adler32(out) & 0xffffffff, '08x'))
"""


def sandbox(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def expected_output(name: str, content: bytes) -> bytes:
    import hashlib

    return f"input={name} sha256={hashlib.sha256(content).hexdigest()} bytes={len(content)}\n".encode() * 10


@pytest.fixture
def grid(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[LiveServer, SiteDirector, Watchdog]]:
    wms = live_server.runtime.settings.wms
    wms.heartbeat_seconds, wms.pilot_poll_seconds, wms.pilot_idle_seconds = 0.5, 0.2, 3
    wms.stalled_seconds, wms.stalled_fail_seconds, wms.jobs_per_pilot = 3, 0, 4
    wms.director_workdir = str(tmp_path / "pilots")
    rt = live_server.runtime
    director = SiteDirector(rt, "director-test")
    watchdog = Watchdog(rt, "watchdog-test")
    yield live_server, director, watchdog
    for backend in director.backends.values():
        if isinstance(backend, LocalBackend):
            backend.stop_all()


def add_queue(live: LiveServer, root_token: str, **q: object) -> None:
    r = live.client(root_token).put(f"/wms/queues/{q['name']}", json=q)
    assert r.status_code == 200, r.text


def user_client(live: LiveServer) -> httpx.Client:
    live.add_account("alice", groups=("/belle",))
    return live.client(live.token("alice", scopes=["compute.create", "compute.read", "compute.cancel"],
                                  groups=["/belle"]))


def wait_for(predicate: object, timeout: float, step: object = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step:
            step()  # type: ignore[operator]
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_fifty_jobs_run_concurrently_to_done_on_pilots_at_two_sites(
        grid: tuple[LiveServer, SiteDirector, Watchdog], root_token: str) -> None:
    live, director, watchdog = grid
    add_queue(live, root_token, name="a-q", site="SITE-A", platform="EL9", cores=4, max_pilots=3)
    add_queue(live, root_token, name="b-q", site="SITE-B", platform="EL9", cores=4, max_pilots=3)
    c = user_client(live)
    inputs = {f"in_{i}.dat": os.urandom(1000 + i) for i in range(50)}
    jobs = []
    for i, (name, content) in enumerate(inputs.items()):
        sb = c.post("/wms/sandboxes", content=sandbox({"payload.py": PAYLOAD.encode(), name: content})).json()
        jobs.append({"Executable": "python", "Arguments": f"payload.py {name} out_{i}.dat 0.3",
                     "InputSandbox": [sb["sandbox"]], "OutputData": [f"out_{i}.dat"], "OutputSandbox": ["*.log"],
                     "CPUTime": 300})
    ids = c.post("/wms/jobs", json=jobs).json()["job_ids"]

    def all_done() -> bool:
        states = {j["status"] for j in c.get("/wms/jobs", params={"limit": 100}).json()}
        assert not states & {"Failed", "Killed"}, states
        return states == {"Done"}

    wait_for(all_done, 90, step=lambda: (director.run_once(), watchdog.run_once()))
    sites = set()
    for i, job_id in enumerate(ids):
        job = c.get(f"/wms/jobs/{job_id}").json()
        sites.add(job["site"])
        [out] = job["outputs"]
        want = expected_output(f"in_{i}.dat", inputs[f"in_{i}.dat"])
        assert out["bytes"] == len(want) and out["adler32"] == f"{zlib.adler32(want) & 0xFFFFFFFF:08x}"
        assert out["lfn"] == f"/belle/user/alice/jobs/{job_id}/out_{i}.dat"
    assert sites == {"SITE-A", "SITE-B"}
    acc = c.get("/wms/accounting", params={"group_by": "site"}).json()
    assert sum(a["jobs"] for a in acc) == 50
    pilots = c.get("/wms/pilots").json()
    assert 2 <= len(pilots) <= 6 and all(p["backend"] == "local" for p in pilots)
    # The output sandbox has the payload's stdout.
    job = c.get(f"/wms/jobs/{ids[0]}").json()
    content = c.get(f"/wms/sandboxes/{job['output_sandbox'][3:]}").content
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        assert b"wrote out_0.dat" in tar.extractfile("std.out").read()  # type: ignore[union-attr]


def start_pilot(live: LiveServer, site: str, queue: str, tmp: Path) -> subprocess.Popen[bytes]:
    live.add_account("pilot", type=AccountType.SERVICE) if not hasattr(live, "_pilot") else None
    live._pilot = True  # type: ignore[attr-defined]
    token = live.token("pilot", scopes=["compute.read", "compute.modify"])
    env = {**os.environ, "ONEGRID_PILOT_TOKEN": token, "ONEGRID_WMS__HEARTBEAT_SECONDS": "0.5"}
    return subprocess.Popen(
        [sys.executable, "-m", "onegrid", "pilot", "--server", live.url, "--site", site, "--queue", queue,
         "--idle", "5", "--poll", "0.2", "--workdir", str(tmp / site)], env=env,
        stdout=subprocess.DEVNULL, stderr=open(tmp / f"{site}.log", "wb"))


def test_pilot_killed_mid_job_stalls_the_job_which_is_rescheduled_and_done_elsewhere(
        grid: tuple[LiveServer, SiteDirector, Watchdog], tmp_path: Path) -> None:
    live, _, watchdog = grid
    c = user_client(live)
    sb = c.post("/wms/sandboxes", content=sandbox({"payload.py": PAYLOAD.encode(), "in.dat": b"x" * 100})).json()
    [job_id] = c.post("/wms/jobs", json={"Executable": "python", "Arguments": "payload.py in.dat out.dat 2",
                                         "InputSandbox": [sb["sandbox"]], "OutputData": ["out.dat"]}).json()["job_ids"]
    first = start_pilot(live, "SITE-A", "a-q", tmp_path)
    try:
        wait_for(lambda: c.get(f"/wms/jobs/{job_id}").json()["status"] == "Running", 30)
        first.send_signal(signal.SIGKILL)
        first.wait()
        wait_for(lambda: c.get(f"/wms/jobs/{job_id}").json()["status"] == "Waiting", 30, step=watchdog.run_once)
        second = start_pilot(live, "SITE-B", "b-q", tmp_path)
        try:
            wait_for(lambda: c.get(f"/wms/jobs/{job_id}").json()["status"] == "Done", 30)
        finally:
            second.terminate()
            second.wait()
    finally:
        if first.poll() is None:
            first.kill()
    job = c.get(f"/wms/jobs/{job_id}").json()
    assert job["site"] == "SITE-B" and job["reschedules"] == 1
    history = [h["status"] for h in c.get(f"/wms/jobs/{job_id}/logging").json()]
    assert history[history.index("Running"):] == [
        "Running", "Stalled", "Rescheduled", "Received", "Checking", "Waiting", "Matched", "Running", "Completing",
        "Done"]


@pytest.fixture
def storage_endpoint(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real `onegrid storage` process serving /belle from a folder, trusting the server's tokens."""
    port = free_port()
    root = tmp_path / "kek-disk"
    with open(tmp_path / "storage.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "onegrid", "storage", "--root", str(root), "--port", str(port), "--base-path",
             "/belle", "--issuer", live_server.url, "--name", "KEK-DISK"], stdout=subprocess.DEVNULL, stderr=log)
    try:
        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "storage.log").read_text()
            try:
                return httpx.request("OPTIONS", f"http://127.0.0.1:{port}/belle/", timeout=2).status_code < 500
            except httpx.TransportError:
                return False

        wait_for(up, 30)
        yield port, root
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_seed_production_completes_with_five_output_files_uploaded_and_registered(
        grid: tuple[LiveServer, SiteDirector, Watchdog], root_token: str, tmp_path: Path,
        storage_endpoint: tuple[int, Path]) -> None:
    live, director, watchdog = grid
    port, storage_root = storage_endpoint
    add_queue(live, root_token, name="kek-mc", site="KEK", platform="EL8", tags=["MultiCore"], cores=4, max_pilots=2)
    with OneGridClient(live.url, root_token) as c:  # KEK's disk: the endpoint, LFN = path
        c.catalog.add_scope("belle", "root")
        c.catalog.add_rse("KEK-DISK")
        c.catalog.set_rse_attribute("KEK-DISK", "site", "KEK")
        c.catalog.set_rse_attribute("KEK-DISK", "lfn2pfn_algorithm", "identity")
        c.catalog.add_protocol("KEK-DISK", "http", "127.0.0.1", port, "/")
        c.catalog.add_rse("KEK-TAPE", rse_type="TAPE")
        c.catalog.set_rse_attribute("KEK-TAPE", "site", "KEK")
    live.add_account("prodmgr", groups=("/belle/production",))
    token = live.token("prodmgr", scopes=["compute.create", "compute.read", "compute.modify"])
    env = {"ONEGRID_SERVER": live.url, "ONEGRID_TOKEN": token}
    seed = Path("/work/shared/seed/000_2551d61d08345707.txt")
    definition = seed.read_text().split("```")[1] if seed.exists() else json.dumps({
        "ProductionName": "MCTest_charged_BGx0", "ProductionGroup": "charged", "RunEvents": {"1003": {"0": 1000}},
        "MaxJobEvents": 200, "Stream": 0, "ResourceTag": "MultiCore,EL7orEL8"})
    (tmp_path / "prod.json").write_text(definition)
    out = json.loads(run_cli("production", "submit", str(tmp_path / "prod.json"), "--json", env=env).stdout)
    assert len(out["jobs"]) == 5

    def done() -> bool:
        st = json.loads(run_cli("production", "status", "MCTest_charged_BGx0", "--json", env=env).stdout)
        assert set(st["jobs"]) <= {"Waiting", "Matched", "Running", "Completing", "Done"}, st["jobs"]
        return st["jobs"] == {"Done": 5}

    wait_for(done, 90, step=lambda: (director.run_once(), watchdog.run_once()))
    st = json.loads(run_cli("production", "status", "MCTest_charged_BGx0", "--json", env=env).stdout)
    assert st["events_done"] == 1000 and len(st["outputs"]) == 5 and st["status"] == "Completed"
    lfns = sorted(o["lfn"] for o in st["outputs"])
    assert all(lfn.startswith("/belle/MC/release-08-00-00/MCTest_charged_BGx0/s0/r1003/") for lfn in lfns)
    assert len(set(lfns)) == 5 and all(o["bytes"] > 0 for o in st["outputs"])
    assert all(o["registered"] and o["se"] == "KEK-DISK" for o in st["outputs"])
    [dataset] = st["output_datasets"]
    assert dataset == "belle:/belle/MC/release-08-00-00/MCTest_charged_BGx0/s0/r1003"
    reader = live.token("root", scopes=["storage.read:/"], audience=f"http://127.0.0.1:{port}")
    with OneGridClient(live.url, root_token) as c, HttpStorage(token=reader) as storage:
        assert sorted(d["name"] for d in c.catalog.list_files("belle", dataset.split(":", 1)[1])) == lfns
        replicas = {r["name"]: r for r in c.catalog.list_replicas([{"scope": "belle", "name": lfn} for lfn in lfns])}
        events = 0
        for out in st["outputs"]:
            rep = replicas[out["lfn"]]
            [pfn] = rep["rses"]["KEK-DISK"]
            assert pfn == f"http://127.0.0.1:{port}{out['lfn']}" and rep["adler32"] == out["adler32"]
            got = storage.get(pfn, tmp_path / "check.root")
            data = (tmp_path / "check.root").read_bytes()
            assert got.adler32 == out["adler32"] == f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"
            assert (storage_root / out["lfn"].removeprefix("/belle/")).read_bytes() == data
            meta = c.catalog.get_metadata("belle", out["lfn"])
            assert (meta["datatype"], meta["project"], meta["run_number"], meta["stream_name"]) == (
                "mdst", "MCTest_charged_BGx0", 1003, "0")
            assert json.loads(data.splitlines()[0])["events"] == meta["events"]
            events += meta["events"]
        assert events == 1000
    # Multi-core jobs on 4-core pilots: side by side, never more cores at once than the pilot has.
    jobs = json.loads(run_cli("job", "list", "--production", str(st["production_id"]), "--json",
                              env=env).stdout)
    assert len(jobs) == 5 and all(j["processors"] >= 2 for j in jobs)
    for pilot in {j["pilot_id"] for j in jobs}:
        mine = [j for j in jobs if j["pilot_id"] == pilot]
        for j in mine:
            busy = sum(o["processors"] for o in mine if o["started_at"] <= j["started_at"] < o["ended_at"])
            assert busy <= 4, mine


def test_kill_request_reaches_the_running_payload_through_the_heartbeat(
        grid: tuple[LiveServer, SiteDirector, Watchdog], tmp_path: Path) -> None:
    live, _, _ = grid
    c = user_client(live)
    [job_id] = c.post("/wms/jobs", json={"Executable": "python", "Arguments": "-c 'import time; time.sleep(60)'"}
                      ).json()["job_ids"]
    pilot = start_pilot(live, "SITE-A", "a-q", tmp_path)
    try:
        wait_for(lambda: c.get(f"/wms/jobs/{job_id}").json()["status"] == "Running", 30)
        assert c.post("/wms/jobs/kill", json={"job_ids": [job_id]}).json() == {str(job_id): "Running"}
        wait_for(lambda: c.get(f"/wms/jobs/{job_id}").json()["status"] == "Killed", 20)
    finally:
        pilot.terminate()
        pilot.wait()
    job = c.get(f"/wms/jobs/{job_id}").json()
    assert job["wall_seconds"] < 30 and job["minor_status"] == "Killed by the WMS"


def test_payload_over_its_memory_limit_is_stopped_and_failed(
        grid: tuple[LiveServer, SiteDirector, Watchdog], tmp_path: Path) -> None:
    live, _, _ = grid
    c = user_client(live)
    hog = "-c 'import time; x = bytearray(300 * 1024 * 1024); x[::4096] = b\"x\" * len(x[::4096]); time.sleep(30)'"
    [job_id] = c.post("/wms/jobs", json={"Executable": "python", "Arguments": hog, "MaxRAM": 100}).json()["job_ids"]
    pilot = start_pilot(live, "SITE-A", "a-q", tmp_path)
    try:
        wait_for(lambda: c.get(f"/wms/jobs/{job_id}").json()["status"] == "Failed", 30)
    finally:
        pilot.terminate()
        pilot.wait()
    assert c.get(f"/wms/jobs/{job_id}").json()["minor_status"] == "Memory limit of 100 MB exceeded"
