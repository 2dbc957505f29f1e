"""Monitor benchmark: how long each dashboard endpoint and /metrics take on a large grid.

Fills a database with N jobs (and their accounting records), N transfer attempts over 30
days, N/10 transfer requests, N/10 rules, 100 RSEs with attributes and usage and 50
sites, then times every endpoint the dashboard calls, through the whole HTTP stack
in-process (median and worst of R calls). Printed as JSON. SQLite always; PostgreSQL when
ONEGRID_TEST_POSTGRES_URL (or --pg) is set.

    python bench/monitor/run.py            # 200,000 jobs and transfer attempts
    python bench/monitor/run.py --quick    # seconds, for the test suite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from onegrid.api import create_app
from onegrid.catalog.rules.tables import Rule
from onegrid.catalog.tables import RSE, RSEAttribute, RSEUsage
from onegrid.clock import SystemClock
from onegrid.config import Settings
from onegrid.db.engine import normalize_url
from onegrid.db.migrate import upgrade
from onegrid.runtime import Runtime
from onegrid.transfers.tables import TransferHistory, TransferLink, TransferRequest
from onegrid.wms.tables import AccountingRecord, ComputeQueueRow, Job, JobLogging

SITES, RSES = 50, 100
STATES = ["Done"] * 70 + ["Failed"] * 5 + ["Running"] * 10 + ["Waiting"] * 15
ACTIVITIES = ["T0 Export", "Data Consolidation", "User Subscriptions", "Production Output", "Staging"]
ENDPOINTS = [
    "/monitor/api/overview", "/monitor/api/storage", "/monitor/api/cpu", "/monitor/api/cpu/series",
    "/monitor/api/jobs/states",
    "/monitor/api/productions", "/monitor/api/transfers/volume", "/monitor/api/transfers/volume?hours=720&bucket_minutes=1440",
    "/monitor/api/transfers/states", "/monitor/api/transfers/links", "/monitor/api/transfers/failures",
    "/monitor/api/rules", "/monitor/api/rules/stuck", "/monitor/api/jobs?owner=user007",
    "/monitor/api/jobs?site=SITE-07&status=Done", "/monitor/api/jobs/1/history", "/metrics",
]


def fill(rt: Runtime, n: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    with rt.transaction() as s:
        s.execute(sa.insert(RSE), [{"id": i + 1, "name": f"SITE-{i % SITES:02d}-{'DISK' if i < SITES else 'TAPE'}",
                                    "rse_type": "DISK" if i < SITES else "TAPE", "deterministic": True,
                                    "volatile": False, "staging_area": False, "availability_read": True,
                                    "availability_write": True, "availability_delete": True,
                                    "created_at": now, "updated_at": now} for i in range(RSES)])
        s.execute(sa.insert(RSEAttribute), [{"rse_id": i + 1, "key": k, "value": v} for i in range(RSES)
                                            for k, v in (("site", f"SITE-{i % SITES:02d}"),
                                                         ("country", f"C{i % 12}"), ("site_type", f"T{i % 3}"))])
        s.execute(sa.insert(RSEUsage), [{"rse_id": i + 1, "source": src, "used": rng.randint(0, 10**15),
                                         "total": 10**15 if src == "srr" else None, "files": rng.randint(0, 10**6),
                                         "updated_at": now} for i in range(RSES) for src in ("rucio", "srr")])
        s.execute(sa.insert(ComputeQueueRow), [{"name": f"Q-{i:02d}", "site": f"SITE-{i:02d}", "platform": "EL9",
                                                "container_platforms": "[]", "tags": "[]", "cores": 8, "ram_mb": 0,
                                                "backend": "local", "max_pilots": 4, "options": "{}",
                                                "created_at": now} for i in range(SITES)])
    batch = 20_000
    for start in range(0, n, batch):
        jobs, acct, logs, hist = [], [], [], []
        for i in range(start, min(n, start + batch)):
            status = STATES[i % len(STATES)]
            site = None if status == "Waiting" else f"SITE-{i % SITES:02d}"
            at = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
            jobs.append({"id": i + 1, "owner": f"user{i % 100:03d}", "owner_group": f"/belle/g{i % 7}", "job_type": "User",
                         "status": status, "minor_status": "", "application_status": "", "site": site,
                         "priority": 1, "processors": 1, "description": "{}", "reschedules": 0,
                         "production_id": None, "submitted_at": at, "updated_at": at, "cpu_seconds": 0.0,
                         "wall_seconds": 0.0, "memory_mb": 0.0, "kill_requested": False, "outputs": "[]"})
            logs.append({"job_id": i + 1, "status": "Received", "minor_status": "", "application_status": "",
                         "source": "JobManager", "at": at})
            if status in ("Done", "Failed"):
                acct.append({"job_id": i + 1, "site": site, "queue": "q", "owner": "u", "owner_group": "g",
                             "activity": ("user", "production", "reprocessing")[i % 3], "processors": 1,
                             "cpu_seconds": rng.uniform(60, 36000), "wall_seconds": 3600.0, "status": status,
                             "ended_at": at})
            src, dst = rng.randrange(RSES) + 1, rng.randrange(RSES) + 1
            ok = rng.random() < 0.95
            hist.append({"request_id": i + 1, "scope": "data", "name": f"f{i}", "source_rse_id": src,
                         "dest_rse_id": dst, "activity": ACTIVITIES[i % len(ACTIVITIES)], "attempt": 1,
                         "bytes": rng.randint(10**6, 10**10) if ok else 0, "duration": 10.0, "mode": "pull",
                         "outcome": "DONE" if ok else "FAILED", "error": None if ok else "timeout", "finished_at": at})
        with rt.transaction() as s:
            s.execute(sa.insert(Job), jobs)
            s.execute(sa.insert(JobLogging), logs)
            s.execute(sa.insert(AccountingRecord), acct)
            s.execute(sa.insert(TransferHistory), hist)
    with rt.transaction() as s:
        s.execute(sa.insert(TransferRequest), [
            {"scope": "data", "name": f"r{i}", "source_rse_id": rng.randrange(RSES) + 1, "dest_rse_id": rng.randrange(RSES) + 1,
             "activity": ACTIVITIES[i % len(ACTIVITIES)], "state": ("QUEUED", "SUBMITTED", "DONE", "FAILED")[i % 4],
             "bytes": 10**9, "priority": 3, "overwrite": True, "verify_checksum": True, "attempts": 0,
             "retry_limit": 3, "bytes_transferred": 0, "notified": False, "created_at": now, "updated_at": now}
            for i in range(n // 10)])
        s.execute(sa.insert(TransferLink), [{"source_rse_id": a + 1, "dest_rse_id": b + 1, "active_limit": 10,
                                             "decision": ""} for a in range(SITES) for b in range(0, SITES, 5)])
        s.execute(sa.insert(Rule), [
            {"id": uuid.uuid4().hex, "scope": "data", "name": f"d{i}", "did_type": "DATASET", "account": "root",
             "copies": 1, "rse_expression": "tier=1", "grouping": "DATASET", "locked": False, "activity": "T0 Export",
             "priority": 3, "notification": "NO", "purge_replicas": False, "ignore_availability": False,
             "ignore_account_limit": False, "state": ("OK", "OK", "REPLICATING", "STUCK")[i % 4],
             "locks_ok_cnt": 0, "locks_replicating_cnt": 0, "locks_stuck_cnt": 0, "eval_attempts": 0,
             "error": "no space" if i % 4 == 3 else None, "created_at": now - timedelta(hours=i % 48),
             "updated_at": now} for i in range(n // 10)])


def run_one(url: str, data: Path, n: int, repeats: int) -> dict[str, Any]:
    upgrade(url)
    settings = Settings(data_dir=data, database_url=url, server_url="http://testserver",
                        monitor={"read_access": "public"})
    rt = Runtime.create(settings, clock=SystemClock())
    t0 = time.perf_counter()
    fill(rt, n, random.Random(7))
    if url.startswith("postgresql"):
        with rt.engine.connect() as c:
            c.execute(sa.text("ANALYZE"))
            c.commit()
    out: dict[str, Any] = {"fill_s": round(time.perf_counter() - t0, 1), "endpoints_ms": {}}
    with TestClient(create_app(rt)) as client:
        for path in ENDPOINTS:
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"
            out["endpoints_ms"][path] = {"median": round(statistics.median(times), 1), "max": round(max(times), 1)}
        out["metrics_bytes"] = len(client.get("/metrics").content)
    rt.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jobs", type=int, default=200_000, help="jobs, and transfer attempts, to fill in")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="5,000 jobs, 2 calls per endpoint")
    p.add_argument("--pg", default=os.environ.get("ONEGRID_TEST_POSTGRES_URL"))
    p.add_argument("--no-pg", action="store_true")
    a = p.parse_args(argv)
    if a.quick:
        a.jobs, a.repeats = 5000, 2
    results: dict[str, Any] = {"jobs": a.jobs, "transfer_attempts": a.jobs, "rules": a.jobs // 10,
                               "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run_one(f"sqlite:///{tmp}/bench.db", Path(tmp), a.jobs, a.repeats)
        if a.pg and not a.no_pg:
            admin = sa.create_engine(normalize_url(a.pg), isolation_level="AUTOCOMMIT")
            name = f"onegrid_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = sa.engine.make_url(normalize_url(a.pg)).set(database=name).render_as_string(hide_password=False)
                results["postgresql"] = run_one(url, Path(tmp), a.jobs, a.repeats)
            finally:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
