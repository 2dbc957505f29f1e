"""DiracX's side of the WMS benchmark: bulk JDL submission to DiracX's own server app.

Runs in a separate virtual environment with PyPI `diracx-routers` and `diracx-testing`
(never in OneGrid's), through DiracX's own test harness (`diracx.testing`: the real
FastAPI app on SQLite, in-process transport), and writes `diracx_result.json` beside
this file for `run.py` to show side by side:

    python -m venv /tmp/diracx-venv && /tmp/diracx-venv/bin/pip install diracx-routers diracx-testing
    /tmp/diracx-venv/bin/python -m pytest -q -p diracx.testing bench/wms/diracx_submit.py \
        --rootdir bench/wms -o addopts="" -s

DIRACX_BENCH_JOBS (default 10,000) jobs go in requests of DIRACX_BENCH_BATCH (default 20, the most DiracX 0.7 accepts from a normal user in one request).
OneGrid's `run.py --http-submit` measures the same JDL over the same kind of transport.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

JDL = ('Executable = "python"; Arguments = "-m evtgen --events 10 --out x"; JobName = "bench_{i}"; '
       'CPUTime = 3600; Priority = {p}; Site = "SITE-{s:03d}"; JobType = "User";')

pytestmark = pytest.mark.enabled_dependencies(
    ["AuthSettings", "ConfigSource", "DevelopmentSettings", "JobDB", "JobLoggingDB", "WMSAccessPolicy",
     "TaskQueueDB", "SandboxMetadataDB", "JobParametersDB"])


@pytest.fixture
def normal_user_client(client_factory):  # type: ignore[no-untyped-def]
    with client_factory.normal_user() as client:
        yield client


def test_diracx_bulk_jdl_submission_rate(normal_user_client) -> None:  # type: ignore[no-untyped-def]
    n = int(os.environ.get("DIRACX_BENCH_JOBS", "10000"))
    batch = int(os.environ.get("DIRACX_BENCH_BATCH", "20"))
    jdls = [JDL.format(i=i, p=i % 5, s=i % 100) for i in range(n)]
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, n, batch):
        r = normal_user_client.post("/api/jobs/jdl", json=jdls[start:start + batch])
        assert r.status_code == 201, r.text
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    import diracx.routers

    # Client and server share this process, so its CPU time counts both (load-independent).
    result = {"jobs": n, "batch": batch, "seconds": round(dt, 2), "jobs_per_s": round(n / dt),
              "cpu_seconds": round(cpu, 2), "per_cpu_second": round(n / cpu) if cpu > 0 else None,
              "transport": "in-process ASGI (fastapi TestClient)", "database": "SQLite (aiosqlite, in memory)",
              "diracx_routers": getattr(diracx.routers, "__version__", "0.7.0")}
    Path(__file__).with_name("diracx_result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
