"""Checking resolves input data through the catalogue: candidate sites hold every input on disk."""

from __future__ import annotations

from onegrid.catalog import replicas, rses
from onegrid.iam import service as iam
from onegrid.iam.tables import AccountType
from onegrid.runtime import Runtime
from onegrid.wms.agents import optimizer
from onegrid.wms.models import JobDescription, Resource
from onegrid.wms.service import jobs, matching
from onegrid.wms.service.common import get_job


def test_optimizer_sends_jobs_to_sites_holding_all_inputs_on_disk(runtime: Runtime) -> None:
    clock = runtime.clock
    with runtime.transaction() as s:
        iam.create_account(s, clock, "alice", AccountType.USER)
        for rse, site, kind in (("KEK-DISK", "KEK", "DISK"), ("DESY-DISK", "DESY", "DISK"),
                                ("BNL-TAPE", "BNL", "TAPE")):
            rses.add_rse(s, clock, rse, rse_type=kind)
            rses.set_attribute(s, rse, "site", site)
    with runtime.transaction() as s:
        from onegrid.catalog import scopes

        scopes.add_scope(s, clock, "belle", "alice")
    with runtime.transaction() as s:
        f = [{"scope": "belle", "name": n, "bytes": 10} for n in ("/belle/a", "/belle/b", "/belle/t")]
        replicas.add_replicas(s, clock, "alice", "KEK-DISK", f[:2])
        replicas.add_replicas(s, clock, "alice", "DESY-DISK", f[:1])
        replicas.add_replicas(s, clock, "alice", "BNL-TAPE", f[2:])
    with runtime.transaction() as s:
        both, tape, missing = jobs.submit(s, clock, [
            JobDescription.model_validate({"Executable": "x", "InputData": ["/belle/a", "belle:/belle/b"]}),
            JobDescription.model_validate({"Executable": "x", "InputData": ["/belle/t"]}),
            JobDescription.model_validate({"Executable": "x", "InputData": ["/belle/nowhere"]}),
        ], owner="alice", owner_group="/belle", settings=runtime.settings.wms)
    did = optimizer(runtime, "opt-1").run_once()
    assert did == {"checked": 1, "failed": 1, "staging": 1, "tasks": 0, "new_files": 0}
    with runtime.reading() as s:
        assert [get_job(s, j).status for j in (both, tape, missing)] == ["Waiting", "Staging", "Failed"]
        # BNL has no disk: the recall goes to any disk RSE.
        from onegrid.catalog.rules import service as rules

        assert [r["rse_expression"] for r in rules.rules_of_did(s, "belle", "/belle/t")] == ["istape=False"]
    for site, expect in (("DESY", None), ("KEK", both)):
        with runtime.transaction() as s:
            m = matching.match(s, clock, runtime.rng, Resource(site=site, queue="q"), settings=runtime.settings.wms)
        assert (m.job_id if m else None) == expect


def test_inputs_only_on_tape_are_recalled_by_a_staging_rule_and_the_job_waits_until_on_disk(
        runtime: Runtime) -> None:
    from onegrid.catalog import scopes
    from onegrid.catalog.rules import service as rules
    from onegrid.wms.service.jobs import logging_of

    clock = runtime.clock
    with runtime.transaction() as s:
        iam.create_account(s, clock, "alice", AccountType.USER)
        for rse, site, kind in (("KEK-DISK", "KEK", "DISK"), ("KEK-TAPE", "KEK", "TAPE"),
                                ("DESY-DISK", "DESY", "DISK")):
            rses.add_rse(s, clock, rse, rse_type=kind)
            rses.set_attribute(s, rse, "site", site)
        scopes.add_scope(s, clock, "belle", "alice")
    with runtime.transaction() as s:
        replicas.add_replicas(s, clock, "alice", "KEK-TAPE", [{"scope": "belle", "name": "/belle/raw/r1", "bytes": 10}])
        [job] = jobs.submit(s, clock, [JobDescription.model_validate({"Executable": "x", "InputData": ["/belle/raw/r1"]})],
                            owner="alice", owner_group="/belle", settings=runtime.settings.wms)
    opt = optimizer(runtime, "opt-1")
    assert opt.run_once()["staging"] == 1
    with runtime.reading() as s:
        assert get_job(s, job).status == "Staging" and get_job(s, job).minor_status == "Staging 1 files from tape"
        [rule] = rules.rules_of_did(s, "belle", "/belle/raw/r1")
        history = len(logging_of(s, job))
    assert (rule["rse_expression"], rule["activity"], rule["account"]) == ("site=KEK&istape=False", "Staging", "alice")
    # Still on tape: the job stays Staging, nothing is logged again and the cycle is idle.
    assert opt.run_once() == {"checked": 0, "failed": 0, "staging": 0, "tasks": 0, "new_files": 0}
    with runtime.reading() as s:
        assert get_job(s, job).status == "Staging" and len(logging_of(s, job)) == history
    with runtime.transaction() as s:  # the conveyor's work: the disk copy arrives
        replicas.update_states(s, clock, [{"scope": "belle", "name": "/belle/raw/r1", "rse": "KEK-DISK",
                                           "state": "AVAILABLE"}])
    assert opt.run_once()["checked"] == 1
    for site, expect in (("DESY", None), ("KEK", job)):
        with runtime.transaction() as s:
            m = matching.match(s, clock, runtime.rng, Resource(site=site, queue="q"), settings=runtime.settings.wms)
        assert (m.job_id if m else None) == expect
