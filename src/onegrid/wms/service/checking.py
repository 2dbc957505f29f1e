"""The optimizer's work on Received jobs: resolve input data, then into a task queue."""

from __future__ import annotations

from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.wms.inputdata import InputDataResolver, candidate_sites
from onegrid.wms.service.common import description_of, move
from onegrid.wms.service.jobs import check
from onegrid.wms.status import JobStatus
from onegrid.wms.tables import Job


def check_job(session: Session, clock: Clock, job: Job, resolver: InputDataResolver) -> str:
    """Received → Checking → Waiting (or Failed when an input exists nowhere on disk)."""
    desc = description_of(job)
    if JobStatus(job.status) is not JobStatus.RECEIVED:
        return job.status
    if not desc.input_data:
        check(session, clock, job, candidate_sites=None)
        return job.status
    loc = resolver.locate(desc.input_data)
    if loc is None:
        check(session, clock, job, candidate_sites=None)
        return job.status
    now = clock.now()
    if loc.missing:
        move(session, job, JobStatus.CHECKING, "InputData", "Optimizer", now)
        move(session, job, JobStatus.FAILED, f"Input data not found: {loc.missing[0]}", "Optimizer", now)
        return job.status
    on_tape_only = [lfn for lfn in desc.input_data if lfn not in loc.disk]
    if on_tape_only:
        # Staging goes through the transfer service; until it is wired, the job waits
        # in Staging and the optimizer looks again in its next cycle.
        move(session, job, JobStatus.CHECKING, "InputData", "Optimizer", now)
        move(session, job, JobStatus.STAGING, f"Waiting for {len(on_tape_only)} files on tape", "Optimizer", now)
        return job.status
    check(session, clock, job, candidate_sites=sorted(candidate_sites(loc, desc.input_data)))
    return job.status
