"""WMS benchmark: bulk submission and matching, printed as JSON.

Submits N jobs in bulk (batches through the service's bulk call, one transaction per
batch) spread over T distinct task queues (100 sites × T/100 owner groups), then matches
them all with simulated pilot requests (one transaction per request, as the /wms/match
route does, no payloads). Also measures /wms/match over HTTP with concurrent clients on a
server on loopback. SQLite always; PostgreSQL when ONEGRID_TEST_POSTGRES_URL (or --pg) is set.

    python bench/wms/run.py            # 100,000 jobs over 1,000 task queues
    python bench/wms/run.py --quick    # seconds, for the test suite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from onegrid.clock import SystemClock
from onegrid.config import Settings
from onegrid.db.engine import normalize_url
from onegrid.db.migrate import upgrade
from onegrid.runtime import Runtime
from onegrid.wms.models import JobDescription, Resource
from onegrid.wms.service import jobs, matching
from onegrid.wms.tables import TaskQueue, TaskQueueJob

SITES = 100


def descriptions(n: int, task_queues: int) -> list[JobDescription]:
    groups = max(task_queues // SITES, 1)
    base = {"Executable": "python", "Arguments": "-m onegrid.wms.payloads.evtgen --events 10 --out x", "CPUTime": 3600}
    return [JobDescription.model_validate({**base, "Site": f"SITE-{i % SITES:03d}",
                                           "OwnerGroup": f"/belle/g{(i // SITES) % groups:02d}",
                                           "Priority": i % 5}) for i in range(n)]


def make_runtime(url: str, data: Path) -> Runtime:
    upgrade(url)
    rt = Runtime.create(Settings(data_dir=data, database_url=url, server_url="http://127.0.0.1:1"),
                        clock=SystemClock())
    rt.load_keys()
    return rt


def cpu_rate(n: int, cpu: float) -> dict[str, Any]:
    """CPU seconds spent and the rate per CPU second: on a shared machine the wall-clock
    rate says how busy the machine was as much as how fast the code is."""
    return {"cpu_seconds": round(cpu, 2), "per_cpu_second": round(n / cpu) if cpu > 0 else None}


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_submit(rt: Runtime, descs: list[JobDescription], batch: int) -> dict[str, Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(descs), batch):
        with rt.transaction() as s:
            jobs.submit(s, rt.clock, descs[start:start + batch], owner="bench", owner_group="/belle",
                        settings=rt.settings.wms)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    with rt.reading() as s:
        tqs = s.scalar(sa.select(sa.func.count()).select_from(TaskQueue))
        waiting = s.scalar(sa.select(sa.func.count()).select_from(TaskQueueJob))
    return {"jobs": len(descs), "batch": batch, "seconds": round(dt, 2), "jobs_per_s": round(len(descs) / dt),
            "task_queues": tqs, "waiting_after": waiting, **cpu_rate(len(descs), cpu)}


def bench_match(rt: Runtime, total: int) -> dict[str, Any]:
    rng = random.Random(1)
    sites = [f"SITE-{i:03d}" for i in range(SITES)]
    live = list(sites)
    matched, requests, first_10pct = 0, 0, None
    t0, c0 = time.perf_counter(), time.process_time()
    while live and matched < total:
        site = live[requests % len(live)]
        requests += 1
        res = Resource(site=site, queue=f"{site}-q", platform="EL9", cores=1)
        with rt.transaction() as s:
            m = matching.match(s, rt.clock, rng, res, settings=rt.settings.wms)
        if m is None:
            live.remove(site)
            continue
        matched += 1
        if first_10pct is None and matched >= total // 10:
            first_10pct = time.perf_counter() - t0
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"matched": matched, "requests": requests, "seconds": round(dt, 2),
            "matches_per_s": round(matched / dt),
            "first_10pct_matches_per_s": round((total // 10) / first_10pct) if first_10pct else None,
            **cpu_rate(matched, cpu)}


JDL = ('Executable = "python"; Arguments = "-m evtgen --events 10 --out x"; JobName = "bench_{i}"; '
       'CPUTime = 3600; Priority = {p}; Site = "SITE-{s:03d}"; JobType = "User";')


class LoopbackServer:
    """`onegrid server` as its own process on a loopback port (so the clients here do not
    share its interpreter), with a pilot and a user token."""

    def __init__(self, rt: Runtime, url: str, data: Path) -> None:
        import socket
        import subprocess

        import httpx

        from onegrid.iam import service as iam
        from onegrid.iam.issuer import mint
        from onegrid.iam.tables import AccountType

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        rt.settings.server_url = self.url = f"http://127.0.0.1:{self.port}"
        suffix = uuid.uuid4().hex[:6]
        with rt.transaction() as s:
            iam.create_account(s, rt.clock, f"pilot{suffix}", AccountType.SERVICE)
            iam.create_account(s, rt.clock, f"user{suffix}", AccountType.USER)
        self.pilot_token = mint(rt, f"pilot{suffix}", scopes=["compute.read", "compute.modify"])
        self.user_token = mint(rt, f"user{suffix}", scopes=["compute.create", "compute.read"], groups=["/belle"])
        env = {**os.environ, "ONEGRID_DATABASE_URL": url, "ONEGRID_SERVER_URL": self.url,
               "ONEGRID_DATA_DIR": str(data), "ONEGRID_LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen([sys.executable, "-m", "onegrid", "server", "--host", "127.0.0.1", "--port",
                                      str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("onegrid server did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def bench_http_submit(srv: LoopbackServer, n: int, batch: int) -> dict[str, Any]:
    """The same JDL text DiracX gets, in JSON lists of `batch` JDLs per request."""
    import httpx

    jdls = [JDL.format(i=i, p=i % 5, s=i % SITES) for i in range(n)]
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.user_token}"}, timeout=300) as h:
        t0, c0, s0 = time.perf_counter(), time.process_time(), proc_cpu(srv.proc.pid)
        for start in range(0, n, batch):
            r = h.post("/wms/jobs", json=jdls[start:start + batch])
            assert r.status_code == 201, r.text
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0 + proc_cpu(srv.proc.pid) - s0
    # CPU of client and server together, as DiracX's in-process figure counts both.
    return {"jobs": n, "batch": batch, "seconds": round(dt, 2), "jobs_per_s": round(n / dt),
            "transport": "HTTP on loopback (onegrid server process, httpx)", **cpu_rate(n, cpu)}


def bench_http_match(srv: LoopbackServer, total: int, clients: int) -> dict[str, Any]:
    import httpx

    counts = [0] * clients
    per = total // clients

    def worker(k: int) -> None:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.pilot_token}"}) as h:
            for i in range(per):
                site = f"SITE-{(k * 7 + i) % SITES:03d}"
                r = h.post("/wms/match", json={"site": site, "queue": "q"})
                if r.json()["job"]:
                    counts[k] += 1

    t0, s0 = time.perf_counter(), proc_cpu(srv.proc.pid)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt, server_cpu = time.perf_counter() - t0, proc_cpu(srv.proc.pid) - s0
    # Server CPU only: the clients stand for pilots on other machines.
    return {"requests": per * clients, "matched": sum(counts), "clients": clients, "seconds": round(dt, 2),
            "requests_per_s": round(per * clients / dt), "server_cpu_seconds": round(server_cpu, 2),
            "requests_per_server_cpu_second": round(per * clients / server_cpu) if server_cpu > 0 else None}


def run_one(url: str, data: Path, n: int, tqs: int, batch: int, http_matches: int) -> dict[str, Any]:
    rt = make_runtime(url, data)
    try:
        descs = descriptions(n + http_matches, tqs)
        out: dict[str, Any] = {"submit": bench_submit(rt, descs, batch)}
        if http_matches:
            srv = LoopbackServer(rt, url, data)
            try:
                out["http_submit_jdl_batch_1000"] = bench_http_submit(srv, 10 * http_matches // 4, 1000)
                out["http_submit_jdl_batch_20"] = bench_http_submit(srv, http_matches // 2, 20)
                out["http_match"] = bench_http_match(srv, http_matches, clients=4)
            finally:
                srv.stop()
        out["match"] = bench_match(rt, n)
        return out
    finally:
        rt.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jobs", type=int, default=100_000)
    p.add_argument("--task-queues", type=int, default=1000)
    p.add_argument("--batch", type=int, default=10_000, help="jobs per bulk submission")
    p.add_argument("--http-matches", type=int, default=4000)
    p.add_argument("--quick", action="store_true", help="2,000 jobs over 100 task queues")
    p.add_argument("--pg", default=os.environ.get("ONEGRID_TEST_POSTGRES_URL"))
    p.add_argument("--no-pg", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.jobs, a.task_queues, a.batch, a.http_matches = 2000, 100, 1000, 200
    results: dict[str, Any] = {"jobs": a.jobs, "task_queues": a.task_queues, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_one(f"sqlite:///{tmp}/bench.db", Path(tmp), a.jobs, a.task_queues, a.batch,
                                    a.http_matches)
        if a.pg and not a.no_pg:
            admin = sa.create_engine(normalize_url(a.pg), isolation_level="AUTOCOMMIT")
            name = f"onegrid_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = sa.engine.make_url(normalize_url(a.pg)).set(database=name).render_as_string(hide_password=False)
                results["postgresql"] = run_one(url, Path(tmp), a.jobs, a.task_queues, a.batch, a.http_matches)
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
    diracx = Path(__file__).with_name("diracx_result.json")
    if diracx.exists():
        results["diracx"] = json.loads(diracx.read_text())
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
