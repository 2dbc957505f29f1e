"""A small grid's worth of state for the monitor's tests, put in place as the grid would:
RSEs, attributes, replicas, queues, the site mask and jobs through the real HTTP API
(root, a user and a pilot); transfer history and rules as rows of their own tables, since
their daemons need storage endpoints to produce them (that is the edge of this test).

`EXPECTED` holds the figures the dashboard must show for this state.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from onegrid.catalog.rules.tables import Grouping, Notification, Rule, RuleState
from onegrid.catalog.tables import RSE, DIDType
from onegrid.client import OneGridClient
from onegrid.iam.tables import AccountType
from onegrid.transfers.tables import TransferHistory, TransferLink, TransferRequest

GB = 10**9
TB = 10**12

# name, site, country, site type, tape?, capacity (bytes)
RSES = [
    ("KEK-DISK", "KEK", "Japan", "TIER0", False, 14 * TB),
    ("KEK-TAPE", "KEK", "Japan", "TIER0", True, 4 * TB),
    ("KIT-DISK", "KIT", "Germany", "RAW_DATA_CENTRE", False, 2 * TB),
    ("DESY-DISK", "DESY", "Germany", "RAW_DATA_CENTRE", False, 1 * TB),
    ("NAPOLI-DISK", "Napoli", "Italy", "DISK_SITE", False, 1 * TB),
]
# rse -> file sizes registered there
FILES = {
    "KEK-DISK": [4 * GB, 4 * GB, 2 * GB],
    "KEK-TAPE": [4 * GB, 4 * GB],
    "KIT-DISK": [3 * GB],
    "DESY-DISK": [1 * GB, 1 * GB],
    "NAPOLI-DISK": [5 * GB],
}
QUEUES = [
    {"name": "KEK-CC", "site": "KEK", "platform": "EL9", "cores": 4},
    {"name": "KIT-MCORE", "site": "KIT", "platform": "EL8", "cores": 8, "tags": ["MultiCore"]},
    {"name": "DESY-MCORE", "site": "DESY", "platform": "EL8", "cores": 8, "tags": ["MultiCore"]},
]
PRODUCTION = """{
  "ProductionName": "MCTest_charged_BGx0",
  "ProductionGroup": "charged",
  "RunEvents": {"1003": {"0": 1000}},
  "MaxJobEvents": 200,
  "Stream": 0,
  "ResourceTag": "MultiCore,EL7orEL8"
}"""

EXPECTED: dict[str, Any] = {
    "per_country": {"Japan": 18 * GB, "Germany": 5 * GB, "Italy": 5 * GB},
    "per_site_type": {"TIER0": 18 * GB, "RAW_DATA_CENTRE": 5 * GB, "DISK_SITE": 5 * GB},
    "files": 9,
    "bytes": 28 * GB,
    # 2 user jobs run at KEK (1 Done, 1 Running); 4 production jobs at KIT (3 Done, 1 Running);
    # 4 user jobs and 1 production job wait.
    "jobs_by_state": {"Waiting": 5, "Running": 2, "Done": 4},
    "running": {"KEK": 1, "KIT": 1},
    "cpu_per_activity": {"production": 3 * 7200.0, "user": 1800.0},
    "cpu_per_site": {"KIT": 3 * 7200.0, "KEK": 1800.0},
    "transfer_bytes": {"T0 Export": 6 * GB, "User Subscriptions": 1 * GB},
    "rules_by_state": {"OK": 2, "REPLICATING": 1, "STUCK": 1},
}


def seed_grid(live: Any) -> dict[str, Any]:
    """Fill `live` (the `live_server` fixture) and return the accounts' tokens."""
    root = OneGridClient(live.url, live.token("root"))
    live.add_account("alice", password="alice-password", groups=("/belle",))
    alice = OneGridClient(live.url, live.token("alice", scopes=["compute.create", "compute.read"], groups=["/belle"]))
    live.add_account("pilot", type=AccountType.SERVICE)
    pilot = OneGridClient(live.url, live.token("pilot", scopes=["compute.read", "compute.modify"]))

    _storage(root)
    _jobs(root, alice, pilot)
    root.wms.ban_site("DESY", "SRM endpoint down")
    _transfers_and_rules(live)
    return {"root": root.transport.token, "alice": alice.transport.token}


def _storage(root: OneGridClient) -> None:
    root.catalog.add_scope("data", "root")
    for name, site, country, site_type, tape, capacity in RSES:
        root.catalog.add_rse(name, rse_type="TAPE" if tape else "DISK")
        for key, value in (("site", site), ("country", country), ("site_type", site_type)):
            root.catalog.set_rse_attribute(name, key, value)
        if name == "NAPOLI-DISK":  # no storage report: the operator's declared size
            root.catalog.set_rse_limit(name, "TotalSpace", capacity)
        else:
            root.catalog.set_rse_usage(name, "srr", used=0, total=capacity)
    for rse, sizes in FILES.items():
        files = [{"scope": "data", "name": f"{rse.lower()}.{i}.root", "bytes": size, "adler32": f"{i + 1:08x}"}
                 for i, size in enumerate(sizes)]
        root.catalog.add_replicas(rse, files)


def _finish(pilot: OneGridClient, job_id: int, pilot_id: str, *, done: bool, cpu: float) -> None:
    pilot.wms.set_status(job_id, pilot_id, "Running", "Application")
    if done:
        pilot.wms.set_status(job_id, pilot_id, "Done", "Execution Complete", cpu_seconds=cpu, wall_seconds=cpu)


def _jobs(root: OneGridClient, alice: OneGridClient, pilot: OneGridClient) -> None:
    for queue in QUEUES:
        root.wms.put_queue(queue)
    alice.wms.submit([{"Executable": "/bin/true", "JobName": f"analysis_{i}", "Platform": "EL9"} for i in range(6)])
    root.wms.submit_production(PRODUCTION)
    kek = {"site": "KEK", "queue": "KEK-CC", "platform": "EL9", "cores": 4, "pilot_id": "kek-pilot"}
    for n, done in enumerate((True, False)):
        job = pilot.wms.match(kek)
        assert job is not None, f"no user job matched at KEK (#{n})"
        _finish(pilot, job["job_id"], "kek-pilot", done=done, cpu=1800.0)
    kit = {"site": "KIT", "queue": "KIT-MCORE", "platform": "EL8", "cores": 8, "tags": ["MultiCore"],
           "pilot_id": "kit-pilot"}
    for n, done in enumerate((True, True, True, False)):
        job = pilot.wms.match(kit)
        assert job is not None, f"no production job matched at KIT (#{n})"
        _finish(pilot, job["job_id"], "kit-pilot", done=done, cpu=7200.0)


def _transfers_and_rules(live: Any) -> None:
    rt = live.runtime
    now = rt.clock.now()
    with rt.transaction() as session:
        ids = {name: rid for rid, name in session.execute(sa.select(RSE.id, RSE.name))}
        kek, kit, desy = ids["KEK-DISK"], ids["KIT-DISK"], ids["DESY-DISK"]
        history = [
            ("T0 Export", kek, kit, 2 * GB, "DONE", None, now - timedelta(hours=3)),
            ("T0 Export", kek, kit, 4 * GB, "DONE", None, now - timedelta(minutes=30)),
            ("User Subscriptions", kek, desy, 1 * GB, "DONE", None, now - timedelta(minutes=20)),
            ("T0 Export", kek, desy, 0, "FAILED", "checksum mismatch: adler32 00000001 != 0badf00d",
             now - timedelta(minutes=10)),
        ]
        for i, (activity, src, dst, nbytes, outcome, error, at) in enumerate(history):
            session.add(TransferHistory(request_id=i + 1, scope="data", name=f"t{i}.root", source_rse_id=src,
                                        dest_rse_id=dst, activity=activity, attempt=1, bytes=nbytes,
                                        duration=10.0, mode="pull", outcome=outcome, error=error, finished_at=at))
        for i, state in enumerate(("SUBMITTED", "SUBMITTED", "QUEUED")):
            session.add(TransferRequest(scope="data", name=f"active{i}.root", source_rse_id=kek if state != "QUEUED"
                                        else None, dest_rse_id=kit, activity="T0 Export", bytes=GB, state=state,
                                        created_at=now, updated_at=now))
        session.add(TransferLink(source_rse_id=kek, dest_rse_id=kit, active_limit=4, ema_throughput=2.5e8,
                                 success_rate=1.0, decision="+1: rate good, throughput up", decided_at=now))
        for state, error, age in (("OK", None, 1), ("OK", None, 1), ("REPLICATING", None, 0.5),
                                  ("STUCK", "no space left on KIT-DISK", 5)):
            created = now - timedelta(hours=age)
            session.add(Rule(id=uuid.uuid4().hex, scope="data", name="kek-disk.0.root", did_type=DIDType.FILE,
                             account="root", copies=1, rse_expression="tier=1", grouping=Grouping.DATASET,
                             activity="T0 Export", notification=Notification.NO, state=RuleState(state),
                             error=error, stuck_at=created if state == "STUCK" else None,
                             created_at=created, updated_at=created))
