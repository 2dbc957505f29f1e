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
    for site, expect in (("DESY", None), ("KEK", both)):
        with runtime.transaction() as s:
            m = matching.match(s, clock, runtime.rng, Resource(site=site, queue="q"), settings=runtime.settings.wms)
        assert (m.job_id if m else None) == expect
