"""What pilots report about the jobs they run: heartbeats, status changes, their own end."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import Conflict
from onegrid.wms.models import Heartbeat, StatusUpdate
from onegrid.wms.service.common import get_job, log_row, log_rows, move
from onegrid.wms.status import FINAL, JobStatus, PilotStatus
from onegrid.wms.tables import Pilot

S = JobStatus
# Statuses a pilot may report for the job it holds.
PILOT_REPORTABLE = frozenset({S.RUNNING, S.COMPLETING, S.DONE, S.FAILED, S.KILLED})


def heartbeat(session: Session, clock: Clock, job_id: int, pilot_id: str | None, hb: Heartbeat) -> dict[str, Any]:
    """Record a heartbeat; the reply tells the pilot to kill the payload when the job was
    killed, deleted or taken from it (rescheduled while the pilot was silent)."""
    now = clock.now()
    job = get_job(session, job_id, for_update=True)
    status = S(job.status)
    if status in FINAL or (pilot_id and job.pilot_id != pilot_id) or status not in (
            S.MATCHED, S.RUNNING, S.COMPLETING, S.STALLED):
        return {"kill": True, "status": job.status}
    job.heartbeat_at = now
    job.cpu_seconds, job.wall_seconds, job.memory_mb = hb.cpu_seconds, hb.wall_seconds, hb.memory_mb
    if hb.application_status is not None:
        job.application_status = hb.application_status[:255]
    job.updated_at = now
    if status is S.STALLED:
        move(session, job, S.RUNNING, "Job resumed heartbeating", "Watchdog", now)
    return {"kill": bool(job.kill_requested), "status": job.status}


def report(session: Session, clock: Clock, job_id: int, pilot_id: str | None, update: StatusUpdate) -> dict[str, Any]:
    """A pilot's status change for its job (Running, Completing, Done, Failed, Killed)."""
    now = clock.now()
    job = get_job(session, job_id, for_update=True)
    if pilot_id and job.pilot_id != pilot_id:
        raise Conflict(f"job {job_id} is no longer assigned to pilot {pilot_id}")
    if update.status not in PILOT_REPORTABLE:
        raise Conflict(f"a pilot may not set status {update.status}")
    for attr in ("cpu_seconds", "wall_seconds", "memory_mb"):
        value = getattr(update, attr)
        if value is not None:
            setattr(job, attr, value)
    if update.outputs is not None:
        job.outputs = json.dumps(update.outputs)
    if update.output_sandbox is not None:
        job.output_sandbox = update.output_sandbox
    current = S(job.status)
    if update.status is S.RUNNING and current is S.RUNNING:
        # Only the minor/application status changed.
        job.minor_status = update.minor_status[:255] or job.minor_status
        if update.application_status is not None:
            job.application_status = update.application_status[:255]
        job.updated_at = now
        log_rows(session, [log_row(job.id, current, job.minor_status, "JobWrapper", now, job.application_status)])
    else:
        if update.status is S.RUNNING and job.started_at is None:
            job.started_at = now
        job.heartbeat_at = now
        move(session, job, update.status, update.minor_status, "JobWrapper", now, app=update.application_status)
    return {"status": job.status, "kill": bool(job.kill_requested)}


def pilot_finished(session: Session, clock: Clock, pilot_id: str, *, failed: bool) -> None:
    now = clock.now()
    session.execute(sa.update(Pilot).where(Pilot.id == pilot_id).values(
        status=(PilotStatus.FAILED if failed else PilotStatus.DONE).value, last_seen_at=now))
