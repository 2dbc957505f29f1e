"""Submitting, checking, listing, killing, deleting and rescheduling jobs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import Conflict, Forbidden, InvalidInput
from onegrid.wms import taskqueue
from onegrid.wms.matcher import spec_for
from onegrid.wms.models import JobDescription
from onegrid.wms.service.common import description_of, get_job, log_row, log_rows, move
from onegrid.wms.settings import WmsSettings
from onegrid.wms.status import ACTIVE, FINAL, JobStatus
from onegrid.wms.tables import Job, JobLogging, JobParameter

S = JobStatus


def submit(session: Session, clock: Clock, descriptions: Sequence[JobDescription], *, owner: str, owner_group: str,
           settings: WmsSettings, production_id: int | None = None, source: str = "JobManager") -> list[int]:
    """Store the jobs (one round trip for thousands) and check at once those that need no
    input-data resolution; the others stay Received for the optimizer agent."""
    if not descriptions:
        raise InvalidInput("no job to submit")
    if len(descriptions) > settings.max_jobs_per_submission:
        raise InvalidInput(f"{len(descriptions)} jobs exceed the limit of {settings.max_jobs_per_submission} per submission")
    now = clock.now()
    groups = [d.owner_group or owner_group for d in descriptions]
    # Jobs without input data are checked here and now (sanity is the model's validation);
    # their task queues are known before the rows are written.
    specs = [spec_for(d, g) if not d.input_data else None for d, g in zip(descriptions, groups, strict=True)]
    tq_ids = taskqueue.ensure_task_queues(session, list({s for s in specs if s is not None}), now)
    rows = []
    for d, g, spec in zip(descriptions, groups, specs, strict=True):
        rows.append({
            "owner": owner, "owner_group": g, "name": d.job_name, "job_type": d.job_type,
            "job_group": d.job_group, "status": (S.WAITING if spec else S.RECEIVED).value,
            "minor_status": "Pilot Agent Submission" if spec else "Job accepted", "application_status": "",
            "priority": d.priority, "processors": d.min_processors, "task_queue_id": tq_ids[spec] if spec else None,
            "description": d.model_dump_json(by_alias=True, exclude_defaults=True),
            "reschedules": 0, "production_id": production_id, "submitted_at": now, "updated_at": now,
            "cpu_seconds": 0.0, "wall_seconds": 0.0, "memory_mb": 0.0, "kill_requested": False, "outputs": "[]",
        })
    ids = _insert_jobs(session, rows)
    logs: list[dict[str, Any]] = []
    entries: list[tuple[int, int, int]] = []
    for job_id, d, spec in zip(ids, descriptions, specs, strict=True):
        logs.append(log_row(job_id, S.RECEIVED, "Job accepted", source, now))
        if spec is not None:
            logs.append(log_row(job_id, S.CHECKING, "JobSanity", "Optimizer", now))
            logs.append(log_row(job_id, S.WAITING, "Pilot Agent Submission", "Optimizer", now))
            entries.append((job_id, tq_ids[spec], d.priority))
    log_rows(session, logs)
    taskqueue.enqueue(session, entries)
    taskqueue.cache_for(session.get_bind().engine).mark_nonempty(list({t for _, t, _ in entries}))  # type: ignore[union-attr]
    return ids


def _insert_jobs(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert job rows and return their ids in order. SQLite: this transaction holds the
    write lock (BEGIN IMMEDIATE), so ids after the current maximum are ours to give, and
    one executemany beats RETURNING row by row. PostgreSQL: batched RETURNING."""
    table = Job.__table__
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        first = (conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
        for i, row in enumerate(rows):
            row["id"] = first + i
        conn.execute(table.insert(), rows)
        return list(range(first, first + len(rows)))
    return list(conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _to_task_queues(session: Session, jobs: Sequence[tuple[int, JobDescription, str, list[str] | None]],
                    now: datetime) -> None:
    """Put checked jobs into their task queues (creating the queues as needed)."""
    if not jobs:
        return
    specs = [spec_for(d, group, candidate_sites=sites) for _, d, group, sites in jobs]
    tq_ids = taskqueue.ensure_task_queues(session, list(set(specs)), now)
    entries = [(job_id, tq_ids[spec], d.priority) for (job_id, d, _, _), spec in zip(jobs, specs, strict=True)]
    taskqueue.enqueue(session, entries)
    for job_id, tq, _ in entries:
        session.execute(sa.update(Job).where(Job.id == job_id).values(task_queue_id=tq))
    taskqueue.cache_for(session.get_bind().engine).mark_nonempty([t for _, t, _ in entries])  # type: ignore[union-attr]


def check(session: Session, clock: Clock, job: Job, *, candidate_sites: list[str] | None, source: str = "Optimizer") -> None:
    """Received → Checking → Waiting in its task queue (the optimizer's last step)."""
    now = clock.now()
    move(session, job, S.CHECKING, "JobSanity", source, now)
    if candidate_sites is not None and not candidate_sites:
        move(session, job, S.FAILED, "Input data not available at any allowed site", source, now)
        return
    job.candidate_sites = None if candidate_sites is None else json.dumps(sorted(candidate_sites))
    move(session, job, S.WAITING, "Pilot Agent Submission", source, now)
    session.flush()
    if job.production_id is not None and _production_stopped(session, job.production_id):
        # Held outside the task queues, as `production stop` holds the jobs already
        # Waiting: a job checked (or rescheduled) after the stop does not run either.
        job.minor_status = "Production stopped"
        return
    _to_task_queues(session, [(job.id, description_of(job), job.owner_group, candidate_sites)], now)


def _production_stopped(session: Session, production_id: int) -> bool:
    from onegrid.wms.status import ProductionStatus
    from onegrid.wms.tables import Production

    prod = session.get(Production, production_id)
    return prod is not None and prod.status == ProductionStatus.STOPPED.value


def _owned(job: Job, account: str, is_admin: bool) -> None:
    if not is_admin and job.owner != account:
        raise Forbidden(f"job {job.id} belongs to {job.owner}")


def kill(session: Session, clock: Clock, job_ids: Sequence[int], *, account: str, is_admin: bool,
         source: str = "JobManager") -> dict[int, str]:
    """Kill jobs: not yet running ones at once; running ones are marked for termination and
    the pilot stops them at its next heartbeat. Returns each job's new status."""
    now = clock.now()
    out: dict[int, str] = {}
    for job_id in job_ids:
        job = get_job(session, job_id, for_update=True)
        _owned(job, account, is_admin)
        status = S(job.status)
        if status in FINAL:
            raise Conflict(f"job {job_id} is already {status}")
        if status in (S.MATCHED, S.RUNNING, S.COMPLETING):
            job.kill_requested = True
            job.minor_status = "Marked for termination"
            job.updated_at = now
            log_rows(session, [log_row(job.id, status, "Marked for termination", source, now)])
        else:
            taskqueue.dequeue(session, [job.id])
            move(session, job, S.KILLED, "Killed by user" if source == "JobManager" else source, source, now)
        out[job_id] = job.status
    return out


def delete(session: Session, clock: Clock, job_ids: Sequence[int], *, account: str, is_admin: bool) -> dict[int, str]:
    now = clock.now()
    for job_id in job_ids:
        job = get_job(session, job_id, for_update=True)
        _owned(job, account, is_admin)
        if S(job.status) is S.DELETED:
            continue
        taskqueue.dequeue(session, [job.id])
        if S(job.status) in ACTIVE:
            job.kill_requested = True
        move(session, job, S.DELETED, "Deleted by user", "JobManager", now)
    return {i: S.DELETED.value for i in job_ids}


def reschedule(session: Session, clock: Clock, job: Job, *, reason: str, source: str,
               settings: WmsSettings) -> str:
    """Back to Received and through checking again, or Failed after too many times."""
    now = clock.now()
    taskqueue.dequeue(session, [job.id])
    if job.reschedules >= settings.max_reschedules:
        move(session, job, S.FAILED, f"Maximum of reschedulings reached ({reason})", source, now)
        return job.status
    move(session, job, S.RESCHEDULED, reason, source, now)
    job.reschedules += 1
    job.site = job.queue = job.pilot_id = None
    job.heartbeat_at = job.started_at = job.ended_at = None
    job.kill_requested = False
    job.cpu_seconds = job.wall_seconds = job.memory_mb = 0.0
    job.outputs = "[]"
    move(session, job, S.RECEIVED, "Job Rescheduled", source, now)
    if not description_of(job).input_data:
        check(session, clock, job, candidate_sites=None, source=source)
    return job.status


def reschedule_by_user(session: Session, clock: Clock, job_ids: Sequence[int], *, account: str, is_admin: bool,
                       settings: WmsSettings) -> dict[int, str]:
    out = {}
    for job_id in job_ids:
        job = get_job(session, job_id, for_update=True)
        _owned(job, account, is_admin)
        if S(job.status) in (S.RECEIVED, S.CHECKING, S.WAITING, S.DELETED):
            raise Conflict(f"job {job_id} is {job.status}: nothing to reschedule")
        out[job_id] = reschedule(session, clock, job, reason="Rescheduled by user", source="JobManager",
                                 settings=settings)
    return out


def list_jobs(session: Session, *, owner: str | None, status: Sequence[str] = (), production_id: int | None = None,
              job_group: str | None = None, site: str | None = None, limit: int = 1000,
              after: int = 0) -> list[Job]:
    q = sa.select(Job).where(Job.id > after).order_by(Job.id).limit(limit)
    if owner:
        q = q.where(Job.owner == owner)
    if status:
        bad = [s for s in status if s not in S.__members__.values() and s not in {m.value for m in S}]
        if bad:
            raise InvalidInput(f"unknown status {bad[0]!r}; choose from {', '.join(m.value for m in S)}")
        q = q.where(Job.status.in_(list(status)))
    if production_id is not None:
        q = q.where(Job.production_id == production_id)
    if job_group:
        q = q.where(Job.job_group == job_group)
    if site:
        q = q.where(Job.site == site)
    return list(session.scalars(q))


def logging_of(session: Session, job_id: int) -> list[JobLogging]:
    get_job(session, job_id)
    return list(session.scalars(sa.select(JobLogging).where(JobLogging.job_id == job_id).order_by(JobLogging.id)))


def set_parameters(session: Session, job_id: int, params: dict[str, Any]) -> None:
    for name, value in params.items():
        session.merge(JobParameter(job_id=job_id, name=name[:128], value=json.dumps(value)))


def parameters_of(session: Session, job_id: int) -> dict[str, Any]:
    rows = session.scalars(sa.select(JobParameter).where(JobParameter.job_id == job_id))
    return {r.name: json.loads(r.value) for r in rows}


def counts_by_status(session: Session, *, production_id: int | None = None) -> dict[str, int]:
    q = sa.select(Job.status, sa.func.count()).group_by(Job.status)
    if production_id is not None:
        q = q.where(Job.production_id == production_id)
    return {s: n for s, n in session.execute(q)}
