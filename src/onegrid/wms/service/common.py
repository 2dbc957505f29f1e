"""Shared steps of the job operations: status changes with their logging, activity names."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import utc
from onegrid.errors import NotFound
from onegrid.wms.models import JobDescription, JobPublic
from onegrid.wms.status import FINAL, JobStatus, check_transition
from onegrid.wms.tables import AccountingRecord, Job, JobLogging


class JobNotFound(NotFound):
    code = "JOB_NOT_FOUND"


# JobType → accounting activity (the dashboard's CPU plots group by it).
ACTIVITIES = {"MCSimulation": "production", "MCProduction": "production", "Production": "production",
              "DataReprocessing": "reprocessing", "Reprocessing": "reprocessing"}


def activity_of(job_type: str) -> str:
    return ACTIVITIES.get(job_type, "user")


_LOG_COLUMNS = ("job_id", "status", "minor_status", "application_status", "source", "at")


def log_rows(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Insert logging rows with the driver's executemany: submissions log three rows per
    job, and SQLAlchemy's per-row parameter processing would cost more than the insert."""
    rows = list(rows)
    if not rows:
        return
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {JobLogging.__tablename__} ({', '.join(_LOG_COLUMNS)}) "
           f"VALUES ({', '.join([mark] * len(_LOG_COLUMNS))})")
    # UtcDateTime stores naive UTC; the rows carry aware datetimes from the clock.
    naive: dict[datetime, datetime] = {}
    params = []
    for r in rows:
        at = r["at"]
        if at not in naive:
            naive[at] = utc(at).replace(tzinfo=None)
        params.append((r["job_id"], str(r["status"]), r["minor_status"], r["application_status"], r["source"],
                       naive[at]))
    conn.exec_driver_sql(sql, params)


def log_row(job_id: int, status: str, minor: str, source: str, at: datetime, app: str = "") -> dict[str, Any]:
    return {"job_id": job_id, "status": status, "minor_status": minor[:255], "application_status": app[:255],
            "source": source[:64], "at": at}


def get_job(session: Session, job_id: int, *, for_update: bool = False) -> Job:
    q = sa.select(Job).where(Job.id == job_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    job = session.scalars(q).first()
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist")
    return job


def move(session: Session, job: Job, new: JobStatus, minor: str, source: str, now: datetime,
         *, app: str | None = None) -> None:
    """Change one job's status (checked against the table) and log it."""
    check_transition(job.id, JobStatus(job.status), new)
    job.status = new.value
    job.minor_status = minor[:255]
    if app is not None:
        job.application_status = app[:255]
    job.updated_at = now
    if new in FINAL and new is not JobStatus.DELETED and job.ended_at is None:
        job.ended_at = now
    log_rows(session, [log_row(job.id, new.value, minor, source, now, job.application_status)])
    if new in (JobStatus.DONE, JobStatus.FAILED, JobStatus.KILLED):
        account(session, job, now)


def account(session: Session, job: Job, now: datetime) -> None:
    """The accounting record of a finished job (replaced if it finishes again after a reschedule)."""
    session.execute(sa.delete(AccountingRecord).where(AccountingRecord.job_id == job.id))
    session.add(AccountingRecord(
        job_id=job.id, site=job.site or "", queue=job.queue or "", owner=job.owner, owner_group=job.owner_group,
        activity=activity_of(job.job_type), processors=job.processors, cpu_seconds=job.cpu_seconds,
        wall_seconds=job.wall_seconds, status=job.status, ended_at=now,
    ))


def description_of(job: Job) -> JobDescription:
    return JobDescription.model_validate_json(job.description)


def public(job: Job) -> JobPublic:
    return JobPublic(
        id=job.id, owner=job.owner, owner_group=job.owner_group, name=job.name, job_type=job.job_type,
        job_group=job.job_group, status=JobStatus(job.status), minor_status=job.minor_status,
        application_status=job.application_status, site=job.site, queue=job.queue, pilot_id=job.pilot_id,
        priority=job.priority, processors=job.processors, reschedules=job.reschedules,
        production_id=job.production_id, submitted_at=job.submitted_at, updated_at=job.updated_at,
        started_at=job.started_at, ended_at=job.ended_at, heartbeat_at=job.heartbeat_at,
        cpu_seconds=job.cpu_seconds, wall_seconds=job.wall_seconds, memory_mb=job.memory_mb,
        output_sandbox=job.output_sandbox, outputs=json.loads(job.outputs or "[]"),
    )
