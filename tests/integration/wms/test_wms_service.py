"""The WMS operations on a real database (SQLite, and PostgreSQL in CI) on a virtual clock."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from onegrid.errors import Conflict, Forbidden, NotFound
from onegrid.runtime import Runtime
from onegrid.wms.inputdata import StaticLocations
from onegrid.wms.models import Heartbeat, JobDescription, Resource, StatusUpdate
from onegrid.wms.production import parse_definition
from onegrid.wms.service import jobs, matching, pilots, productions, sites
from onegrid.wms.service.checking import check_job
from onegrid.wms.service.common import get_job
from onegrid.wms.service.watchdog import find_stalled
from onegrid.wms.tables import AccountingRecord, Job, TaskQueueJob

SEED_PRODUCTION = """{
  "ProductionName": "MCTest_charged_BGx0",
  "ProductionGroup": "charged",
  ...
  "RunEvents": {"1003": {"0": 1000}},
  "MaxJobEvents": 200,
  "Stream": 0,
  "ResourceTag": "MultiCore,EL7orEL8"
}"""


def desc(**kw: object) -> JobDescription:
    return JobDescription.model_validate({"Executable": "/bin/true", **kw})


def submit(rt: Runtime, descs: list[JobDescription], owner: str = "alice", group: str = "/belle") -> list[int]:
    with rt.transaction() as s:
        return jobs.submit(s, rt.clock, descs, owner=owner, owner_group=group, settings=rt.settings.wms)


def match(rt: Runtime, **kw: object) -> matching.Match | None:
    res = Resource.model_validate({"site": "KEK", "queue": "kek-q", "platform": "EL9", **kw})
    with rt.transaction() as s:
        return matching.match(s, rt.clock, random.Random(1), res, settings=rt.settings.wms)


def status_of(rt: Runtime, job_id: int) -> str:
    with rt.reading() as s:
        return get_job(s, job_id).status


def test_job_runs_from_submission_to_done_with_logging_and_accounting(runtime: Runtime) -> None:
    [jid] = submit(runtime, [desc(CPUTime=100)])
    assert status_of(runtime, jid) == "Waiting"
    m = match(runtime, pilot_id="p1")
    assert m is not None and m.job_id == jid
    assert status_of(runtime, jid) == "Matched"
    with runtime.transaction() as s:
        pilots.report(s, runtime.clock, jid, "p1", StatusUpdate(status="Running", minor_status="Application"))
    runtime.clock.advance(5)
    with runtime.transaction() as s:
        assert pilots.heartbeat(s, runtime.clock, jid, "p1", Heartbeat(cpu_seconds=3, wall_seconds=5)) == {
            "kill": False, "status": "Running"}
        pilots.report(s, runtime.clock, jid, "p1", StatusUpdate(status="Done", minor_status="Execution Complete",
                                                                cpu_seconds=4, wall_seconds=6))
    with runtime.reading() as s:
        history = [r.status for r in jobs.logging_of(s, jid)]
        acc = s.get(AccountingRecord, jid)
    assert history == ["Received", "Checking", "Waiting", "Matched", "Running", "Done"]
    assert acc is not None and acc.site == "KEK" and acc.cpu_seconds == 4 and acc.activity == "user"


def test_one_job_never_goes_to_two_pilots(runtime: Runtime) -> None:
    submit(runtime, [desc() for _ in range(5)])
    got = [m.job_id for _ in range(8) if (m := match(runtime)) is not None]
    assert len(got) == 5 and len(set(got)) == 5


def test_match_honours_site_platform_tags_processors_and_site_mask(runtime: Runtime) -> None:
    [a] = submit(runtime, [desc(Site="DESY")])
    [b] = submit(runtime, [desc(Platform="EL7", Tags=["GPU"])])
    [c] = submit(runtime, [desc(NumberOfProcessors=8)])
    assert match(runtime) is None  # KEK, EL9, 1 core, no tags
    with runtime.transaction() as s:
        sites.set_banned(s, runtime.clock, "DESY", banned=True, reason="downtime", by="root")
    assert match(runtime, site="DESY") is None
    with runtime.transaction() as s:
        sites.set_banned(s, runtime.clock, "DESY", banned=False, reason="", by="root")
    m = match(runtime, site="DESY")
    assert m is not None and m.job_id == a
    m = match(runtime, container_platforms=["EL7"], tags=["GPU"])
    assert m is not None and m.job_id == b and m.platform == "EL7"
    m = match(runtime, cores=16)
    assert m is not None and m.job_id == c and m.processors == 8


def test_priority_orders_jobs_of_one_task_queue(runtime: Runtime) -> None:
    low, high = submit(runtime, [desc(Priority=1), desc(Priority=9)])
    assert match(runtime).job_id == high  # type: ignore[union-attr]
    assert match(runtime).job_id == low  # type: ignore[union-attr]


def test_illegal_transition_is_refused(runtime: Runtime) -> None:
    [jid] = submit(runtime, [desc()])
    with runtime.transaction() as s, pytest.raises(Conflict, match="cannot go from Waiting to Done"):
        pilots.report(s, runtime.clock, jid, None, StatusUpdate(status="Done"))


def test_stalled_job_is_rescheduled_after_missed_heartbeats_then_failed_after_three(runtime: Runtime) -> None:
    runtime.settings.wms.stalled_seconds = 60
    [jid] = submit(runtime, [desc()])
    for attempt in range(4):
        m = match(runtime, pilot_id=f"p{attempt}")
        assert m is not None and m.job_id == jid
        with runtime.transaction() as s:
            pilots.report(s, runtime.clock, jid, f"p{attempt}", StatusUpdate(status="Running"))
        runtime.clock.advance(61)
        with runtime.transaction() as s:
            did = find_stalled(s, runtime.clock, runtime.settings.wms, 100)
        assert did["stalled"] == 1
    assert status_of(runtime, jid) == "Failed"
    with runtime.reading() as s:
        job = get_job(s, jid)
        assert job.reschedules == 3 and "Maximum of reschedulings" in job.minor_status
        assert s.scalar(sa.select(sa.func.count()).select_from(TaskQueueJob)) == 0


def test_old_pilot_of_a_rescheduled_job_is_told_to_kill(runtime: Runtime) -> None:
    runtime.settings.wms.stalled_seconds = 60
    [jid] = submit(runtime, [desc()])
    match(runtime, pilot_id="old")
    with runtime.transaction() as s:
        pilots.report(s, runtime.clock, jid, "old", StatusUpdate(status="Running"))
    runtime.clock.advance(61)
    with runtime.transaction() as s:
        find_stalled(s, runtime.clock, runtime.settings.wms, 100)
    assert match(runtime, pilot_id="new").job_id == jid  # type: ignore[union-attr]
    with runtime.transaction() as s:
        assert pilots.heartbeat(s, runtime.clock, jid, "old", Heartbeat())["kill"] is True
        with pytest.raises(Conflict):
            pilots.report(s, runtime.clock, jid, "old", StatusUpdate(status="Done"))


def test_kill_waiting_job_at_once_and_running_job_through_heartbeat(runtime: Runtime) -> None:
    waiting, running = submit(runtime, [desc(Priority=0), desc(Priority=5)])
    assert match(runtime, pilot_id="p").job_id == running  # type: ignore[union-attr]
    with runtime.transaction() as s:
        pilots.report(s, runtime.clock, running, "p", StatusUpdate(status="Running"))
        out = jobs.kill(s, runtime.clock, [waiting, running], account="alice", is_admin=False)
    assert out == {waiting: "Killed", running: "Running"}
    assert match(runtime) is None
    with runtime.transaction() as s:
        assert pilots.heartbeat(s, runtime.clock, running, "p", Heartbeat())["kill"] is True
        pilots.report(s, runtime.clock, running, "p", StatusUpdate(status="Killed", minor_status="Killed by the WMS"))
    assert status_of(runtime, running) == "Killed"
    with runtime.transaction() as s, pytest.raises(Forbidden):
        jobs.kill(s, runtime.clock, [waiting], account="bob", is_admin=False)


def test_input_data_restricts_candidate_sites_to_those_holding_every_file(runtime: Runtime) -> None:
    [jid] = submit(runtime, [desc(InputData=["LFN:/belle/a", "/belle/b"])])
    assert status_of(runtime, jid) == "Received"
    resolver = StaticLocations(disk={"/belle/a": {"KEK", "DESY"}, "/belle/b": {"DESY", "BNL"}})
    with runtime.transaction() as s:
        check_job(s, runtime.clock, s.get(Job, jid), resolver)  # type: ignore[arg-type]
    assert status_of(runtime, jid) == "Waiting"
    assert match(runtime, site="KEK") is None and match(runtime, site="BNL") is None
    assert match(runtime, site="DESY").job_id == jid  # type: ignore[union-attr]
    [missing] = submit(runtime, [desc(InputData=["/belle/nowhere"])])
    with runtime.transaction() as s:
        check_job(s, runtime.clock, s.get(Job, missing), resolver)  # type: ignore[arg-type]
    assert status_of(runtime, missing) == "Failed"


def test_seed_production_makes_five_multicore_el7_or_el8_jobs(runtime: Runtime) -> None:
    with runtime.transaction() as s:
        created = productions.create(s, runtime.clock, parse_definition(SEED_PRODUCTION), owner="prod",
                                     settings=runtime.settings.wms)
    assert len(created["jobs"]) == 5
    assert match(runtime, platform="EL9", cores=8, tags=["MultiCore"]) is None
    assert match(runtime, platform="EL8", cores=1, tags=["MultiCore"]) is None
    m = match(runtime, platform="EL8", cores=8, tags=["MultiCore"])
    assert m is not None and m.processors >= 2
    assert m.description["OutputPath"].startswith("/belle/MC/")
    with runtime.transaction() as s:
        st = productions.status(s, "MCTest_charged_BGx0")
    assert st["jobs_total"] == 5 and st["events_total"] == 1000


def test_production_stop_holds_and_resume_releases_jobs(runtime: Runtime) -> None:
    with runtime.transaction() as s:
        productions.create(s, runtime.clock, parse_definition(SEED_PRODUCTION), owner="prod",
                           settings=runtime.settings.wms)
        assert productions.stop(s, runtime.clock, "MCTest_charged_BGx0")["held"] == 5
    res = {"platform": "EL7", "cores": 4, "tags": ["MultiCore"]}
    assert match(runtime, **res) is None
    with runtime.transaction() as s:
        assert productions.resume(s, runtime.clock, "MCTest_charged_BGx0")["released"] == 5
    runtime.clock.advance(5)
    assert match(runtime, **res) is not None
    with runtime.transaction() as s:
        ext = productions.extend(s, runtime.clock, "MCTest_charged_BGx0", {1003: {0: 300}},
                                 settings=runtime.settings.wms, owner="prod")
        assert len(ext["jobs"]) == 2
        assert productions.status(s, "1")["events_total"] == 1300


def test_a_job_checked_after_its_production_stopped_is_held_too(runtime: Runtime) -> None:
    from onegrid.wms import taskqueue
    from onegrid.wms.inputdata import NoCatalogue

    with runtime.transaction() as s:
        created = productions.create(s, runtime.clock, parse_definition(SEED_PRODUCTION), owner="prod",
                                     settings=runtime.settings.wms)
        first, second = created["jobs"][:2]
        s.execute(sa.update(Job).where(Job.id == first).values(status="Received"))  # as if not yet checked
        taskqueue.dequeue(s, [first])
        assert productions.stop(s, runtime.clock, "MCTest_charged_BGx0")["held"] == 4
    with runtime.transaction() as s:
        assert check_job(s, runtime.clock, get_job(s, first), NoCatalogue()) == "Waiting"
        assert jobs.reschedule(s, runtime.clock, get_job(s, second), reason="test", source="test",
                               settings=runtime.settings.wms) == "Waiting"
        assert {get_job(s, j).minor_status for j in (first, second)} == {"Production stopped"}
    res = {"platform": "EL7", "cores": 4, "tags": ["MultiCore"]}
    runtime.clock.advance(5)
    assert match(runtime, **res) is None
    with runtime.transaction() as s:
        assert productions.resume(s, runtime.clock, "MCTest_charged_BGx0")["released"] == 5


def test_bulk_submission_of_many_jobs_is_one_call(runtime: Runtime) -> None:
    ids = submit(runtime, [desc(CPUTime=60 * (i % 7 + 1), Site=f"S{i % 3}") for i in range(2000)])
    assert len(ids) == 2000 and ids == sorted(ids)
    with runtime.reading() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TaskQueueJob)) == 2000


def test_matched_job_that_never_starts_is_rescheduled(runtime: Runtime) -> None:
    runtime.settings.wms.matched_timeout_seconds = 300
    [jid] = submit(runtime, [desc()])
    assert match(runtime, pilot_id="lost").job_id == jid  # type: ignore[union-attr]
    runtime.clock.advance(301)
    with runtime.transaction() as s:
        assert find_stalled(s, runtime.clock, runtime.settings.wms, 100)["rescheduled"] == 1
    assert status_of(runtime, jid) == "Waiting"


def test_sandboxes_are_stored_once_by_content_limited_in_size_and_cleaned_after_retention(runtime: Runtime) -> None:
    from onegrid.errors import QuotaExceeded
    from onegrid.wms.service import sandboxes

    wms = runtime.settings.wms
    wms.sandbox_max_bytes, wms.sandbox_retention_days = 1000, 30
    with runtime.transaction() as s:
        a = sandboxes.store(s, runtime.clock, b"x" * 10, owner="alice", settings=wms)
        assert sandboxes.store(s, runtime.clock, b"x" * 10, owner="bob", settings=wms) == a
        with pytest.raises(QuotaExceeded, match="exceeds the limit of 1000"):
            sandboxes.store(s, runtime.clock, b"y" * 1001, owner="alice", settings=wms)
    runtime.clock.advance(days=29)
    with runtime.transaction() as s:
        assert sandboxes.clean(s, runtime.clock, wms) == 0
    runtime.clock.advance(days=2)
    with runtime.transaction() as s:
        assert sandboxes.clean(s, runtime.clock, wms) == 1
        with pytest.raises(NotFound):
            sandboxes.fetch(s, runtime.clock, a)
