"""The WMS over real HTTP on loopback: submission formats, errors, authorization, and
atomic matching with concurrent pilots on two server replicas sharing one database."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx

from gridtest import LiveServer, free_port, make_settings, run_cli, serve_in_thread
from onegrid.clock import SystemClock
from onegrid.iam.tables import AccountType
from onegrid.runtime import Runtime

JDL = """[
  Executable = "python";   // DIRAC-style comment
  Arguments = "-c 'print(%s)'";
  JobName = "param_%n";
  CPUTime = 600;
  Parameters = 3; ParameterStart = 10; ParameterStep = 5;
  Platform = {"EL9"};
]"""


def user(live: LiveServer, name: str = "alice", scopes: tuple[str, ...] = (
        "compute.create", "compute.read", "compute.cancel", "compute.modify")) -> httpx.Client:
    live.add_account(name, groups=("/belle",))
    return live.client(live.token(name, scopes=scopes, groups=["/belle"]))


def pilot(live: LiveServer, name: str = "pilot") -> httpx.Client:
    live.add_account(name, type=AccountType.SERVICE)
    return live.client(live.token(name, scopes=["compute.read", "compute.modify"]))


def test_jdl_parametric_submission_makes_one_job_per_parameter(live_server: LiveServer) -> None:
    c = user(live_server)
    r = c.post("/wms/jobs", content=JDL, headers={"Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    ids = r.json()["job_ids"]
    assert len(ids) == 3
    descs = [c.get(f"/wms/jobs/{i}/description").json() for i in ids]
    assert [d["Arguments"] for d in descs] == ["-c 'print(10)'", "-c 'print(15)'", "-c 'print(20)'"]
    assert [c.get(f"/wms/jobs/{i}").json()["name"] for i in ids] == ["param_0", "param_1", "param_2"]


def test_invalid_description_is_refused_naming_the_attribute(live_server: LiveServer) -> None:
    c = user(live_server)
    r = c.post("/wms/jobs", json={"Executable": "x", "Priority": 42})
    assert r.status_code == 400 and "Priority" in r.json()["message"]
    r = c.post("/wms/jobs", json=[{"Executable": "x"}, {"Executable": "y", "Colour": "red"}])
    assert r.status_code == 400 and r.json()["message"].startswith("job 1: Colour: unknown attribute")
    r = c.post("/wms/jobs", content="[ Executable = ; ]", headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and "JDL line 1" in r.json()["message"]


def test_every_wms_route_requires_its_authorization(live_server: LiveServer) -> None:
    reader = user(live_server, "reader", scopes=("compute.read",))
    assert reader.post("/wms/jobs", json={"Executable": "x"}).status_code == 403
    writer = user(live_server, "writer")
    assert writer.post("/wms/match", json={"site": "KEK", "queue": "q"}).status_code == 403
    assert writer.post("/wms/sites/KEK/ban", json={"reason": "x"}).status_code == 403
    assert httpx.get(f"{live_server.url}/wms/jobs").status_code == 401
    [jid] = writer.post("/wms/jobs", json={"Executable": "x"}).json()["job_ids"]
    other = user(live_server, "bob")
    assert other.get(f"/wms/jobs/{jid}").status_code == 403
    assert other.post("/wms/jobs/kill", json={"job_ids": [jid]}).status_code == 403
    assert pilot(live_server).post("/wms/match", json={"site": "KEK", "queue": "q"}).json()["job"]["job_id"] == jid


def test_site_ban_is_recorded_and_stops_matching(live_server: LiveServer, root_token: str) -> None:
    c = user(live_server)
    c.post("/wms/jobs", json={"Executable": "x"})
    root = live_server.client(root_token)
    r = root.post("/wms/sites/KEK/ban", json={"reason": "storage down"})
    assert r.json()["status"] == "Banned" and r.json()["reason"] == "storage down"
    p = pilot(live_server)
    assert p.post("/wms/match", json={"site": "KEK", "queue": "q"}).json()["job"] is None
    root.post("/wms/sites/KEK/allow", json={})
    assert p.post("/wms/match", json={"site": "KEK", "queue": "q"}).json()["job"] is not None


def _drain(urls: list[str], token: str, n_threads: int, per_thread_limit: int) -> list[int]:
    got: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as h:
            misses = 0
            for i in range(per_thread_limit):
                r = h.post(f"{urls[(k + i) % len(urls)]}/wms/match",
                           json={"site": "KEK", "queue": "q", "pilot_id": f"t{k}"})
                assert r.status_code == 200, r.text
                job = r.json()["job"]
                if job is None:
                    misses += 1
                    if misses > 3:
                        return
                    continue
                with lock:
                    got.append(job["job_id"])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def test_concurrent_pilots_on_two_server_replicas_never_share_a_job(live_server: LiveServer, db_url: str,
                                                                     tmp_path: Path) -> None:
    c = user(live_server)
    ids = c.post("/wms/jobs", json=[{"Executable": "x", "CPUTime": 60 * (1 + i % 4)} for i in range(300)]).json()[
        "job_ids"]
    port = free_port()
    other = Runtime.create(make_settings(db_url, tmp_path / "replica", live_server.url), clock=SystemClock())
    stop = serve_in_thread(other, port)
    try:
        p = pilot(live_server)
        token = p.headers["Authorization"].split()[1]
        got = _drain([live_server.url, f"http://127.0.0.1:{port}"], token, n_threads=12, per_thread_limit=100)
    finally:
        stop()
        other.close()
    assert len(got) == len(set(got)), "a job was given to two pilots"
    assert sorted(got) == sorted(ids)


def test_cli_submits_json_and_jdl_and_shows_status(live_server: LiveServer, tmp_path: Path) -> None:
    live_server.add_account("carol", groups=("/belle",))
    token = live_server.token("carol", scopes=["compute.create", "compute.read", "compute.cancel"])
    env = {"ONEGRID_SERVER": live_server.url, "ONEGRID_TOKEN": token}
    (tmp_path / "hello.py").write_text("print('hello')\n")
    (tmp_path / "job.json").write_text(json.dumps({"Executable": "python", "Arguments": "hello.py",
                                                   "InputSandbox": ["hello.py"], "JobName": "hello"}))
    (tmp_path / "job.jdl").write_text('Executable = "/bin/echo"; Arguments = "hi";')
    out = run_cli("job", "submit", str(tmp_path / "job.json"), str(tmp_path / "job.jdl"), env=env)
    ids = [int(x) for x in out.stdout.split()]
    assert len(ids) == 2
    st = json.loads(run_cli("job", "status", str(ids[0]), "--json", env=env).stdout)
    assert st["status"] == "Waiting" and st["name"] == "hello"
    listed = json.loads(run_cli("job", "list", "--json", env=env).stdout)
    assert {j["id"] for j in listed} == set(ids) and all(j["status"] == "Waiting" for j in listed)
    run_cli("job", "kill", str(ids[1]), env=env)
    logging = json.loads(run_cli("job", "logging", str(ids[1]), "--json", env=env).stdout)
    assert [x["status"] for x in logging][-1] == "Killed"
    bad = run_cli("job", "kill", str(ids[1]), env=env, check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("error: job")
