"""Data-driven transformations over the catalogue: N files per job, late files picked up,
each file processed once, failed tasks retried to a limit."""

from __future__ import annotations

import random

from onegrid.catalog import dids, scopes
from onegrid.iam import service as iam
from onegrid.iam.tables import AccountType
from onegrid.runtime import Runtime
from onegrid.wms.models import Resource, StatusUpdate
from onegrid.wms.service import matching, pilots
from onegrid.wms.service import transformations as tf
from onegrid.wms.service.common import get_job


def add_dataset(rt: Runtime, name: str, files: list[str], datatype: str) -> None:
    with rt.transaction() as s:
        dids.ensure_files(s, rt.clock, "alice", [{"scope": "belle", "name": f, "bytes": 1} for f in files])
        dids.add_dids(s, rt.clock, "alice", [{"scope": "belle", "name": name, "type": "DATASET",
                                              "meta": {"datatype": datatype}}])
        dids.attach(s, rt.clock, "belle", name, [{"scope": "belle", "name": f} for f in files])


def run_cycle(rt: Runtime) -> dict[str, int]:
    with rt.transaction() as s:
        return tf.cycle(s, rt.clock, rt.settings.wms, tf.get(s, "reco"))


def finish_one(rt: Runtime, status: str) -> int:
    with rt.transaction() as s:
        m = matching.match(s, rt.clock, random.Random(0), Resource(site="KEK", queue="q"), settings=rt.settings.wms)
        assert m is not None
        pilots.report(s, rt.clock, m.job_id, None, StatusUpdate(status="Running"))
        pilots.report(s, rt.clock, m.job_id, None, StatusUpdate(status=status))
        return m.job_id


def test_transformation_processes_each_matching_file_once_and_picks_up_later_files(runtime: Runtime) -> None:
    rt = runtime
    with rt.transaction() as s:
        iam.create_account(s, rt.clock, "alice", AccountType.USER)
    with rt.transaction() as s:
        scopes.add_scope(s, rt.clock, "belle", "alice")
    add_dataset(rt, "raw.1", ["/belle/raw/f1", "/belle/raw/f2", "/belle/raw/f3"], "RAW")
    add_dataset(rt, "mdst.1", ["/belle/mdst/x"], "MDST")
    with rt.transaction() as s:
        tf.create(s, rt.clock, tf.TransformationCreate(name="reco", scope="belle", query="datatype=RAW",
                                                       files_per_job=2, max_attempts=2,
                                                       job={"Executable": "reco.sh"}),
                  owner="alice", owner_group="/belle")
    assert run_cycle(rt) == {"new_files": 3, "processed": 0, "retried": 0, "problematic": 0, "tasks": 2}
    with rt.reading() as s:
        st = tf.status(s, "reco")
    assert st["files"] == {"Assigned": 3} and st["jobs"] == {"Received": 2}
    assert run_cycle(rt)["tasks"] == 0  # nothing new, nothing finished
    add_dataset(rt, "raw.2", ["/belle/raw/f4"], "RAW")
    assert run_cycle(rt)["tasks"] == 1
    # Check the jobs (no catalogue replicas here: they may run anywhere), run them.
    from onegrid.wms.inputdata import NoCatalogue
    from onegrid.wms.service.checking import check_job
    from onegrid.wms.tables import Job

    with rt.transaction() as s:
        for job in s.query(Job).filter(Job.status == "Received"):
            check_job(s, rt.clock, job, NoCatalogue())
    first_failed = finish_one(rt, "Failed")
    for _ in range(2):
        finish_one(rt, "Done")
    did = run_cycle(rt)
    assert did["processed"] >= 1 and did["retried"] >= 1 and did["tasks"] >= 1
    with rt.reading() as s:
        assert get_job(s, first_failed).status == "Failed"
        st = tf.status(s, "reco")
    assert st["files"]["Processed"] + st["files"]["Assigned"] == 4
    # The retried task fails again: its files become Problematic (max_attempts=2).
    with rt.transaction() as s:
        for job in s.query(Job).filter(Job.status == "Received"):
            check_job(s, rt.clock, job, NoCatalogue())
    finish_one(rt, "Failed")
    did = run_cycle(rt)
    assert did["problematic"] >= 1 and did["tasks"] == 0
    with rt.reading() as s:
        files = tf.status(s, "reco")["files"]
    assert files.get("Unused", 0) == 0 and files["Processed"] + files["Problematic"] == 4
