"""The optimizer's work on Received and Staging jobs: resolve input data, ask for tape
recalls, then into a task queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.wms.inputdata import InputDataResolver, Locations, candidate_sites
from onegrid.wms.service.common import description_of, move
from onegrid.wms.service.jobs import check
from onegrid.wms.status import JobStatus
from onegrid.wms.tables import Job


@runtime_checkable
class Stager(Protocol):
    def stage(self, session: Session, clock: Clock, owner: str, lfns: Sequence[str], loc: Locations) -> str:
        """Ask for disk copies of files that are only on tape (in the caller's
        transaction); returns a line for the job's minor status."""
        ...


def check_job(session: Session, clock: Clock, job: Job, resolver: InputDataResolver,
              stager: Stager | None = None) -> str:
    """Received → Checking → Waiting (or Failed when an input exists nowhere, or Staging
    while some are only on tape). A Staging job is looked at again each cycle: it stays
    Staging, without a new log line, until every input is on disk."""
    status = JobStatus(job.status)
    if status not in (JobStatus.RECEIVED, JobStatus.STAGING):
        return job.status
    staging = status is JobStatus.STAGING
    desc = description_of(job)
    loc = resolver.locate(desc.input_data) if desc.input_data else None
    if loc is None:
        check(session, clock, job, candidate_sites=None)
        return job.status
    now = clock.now()
    if loc.missing:
        if not staging:
            move(session, job, JobStatus.CHECKING, "InputData", "Optimizer", now)
        move(session, job, JobStatus.FAILED, f"Input data not found: {loc.missing[0]}", "Optimizer", now)
        return job.status
    on_tape_only = [lfn for lfn in desc.input_data if lfn not in loc.disk]
    if on_tape_only:
        if staging:
            return job.status
        move(session, job, JobStatus.CHECKING, "InputData", "Optimizer", now)
        minor = f"Waiting for {len(on_tape_only)} files on tape"
        if stager is not None:
            minor = stager.stage(session, clock, job.owner, on_tape_only, loc)
        move(session, job, JobStatus.STAGING, minor, "Optimizer", now)
        return job.status
    check(session, clock, job, candidate_sites=sorted(candidate_sites(loc, desc.input_data)))
    return job.status
