"""Job figures: jobs per state and site, CPU per activity and site, job search, a job's
logging history, and productions with their progress. Aggregates are GROUP BYs over the
WMS tables (`wms_jobs` by its status index, `wms_accounting` by its `ended_at` index)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.errors import InvalidInput, NotFound
from onegrid.monitor.series import Span, summed_series
from onegrid.wms.status import ACTIVE, FINAL, JobStatus
from onegrid.wms.tables import AccountingRecord, ComputeQueueRow, Job, JobLogging, Production, Site

NO_SITE = "(none)"
STATUS_ORDER = [s.value for s in JobStatus]


def jobs_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(Job.status, sa.func.count()).group_by(Job.status))
    counts = dict(rows.all())
    return {s: counts[s] for s in STATUS_ORDER if s in counts}


def jobs_by_site_and_state(session: Session) -> list[dict[str, Any]]:
    """Jobs that have (or had) a site, per site and state: Matched onwards."""
    rows = session.execute(sa.select(Job.site, Job.status, sa.func.count())
                           .where(Job.site.is_not(None)).group_by(Job.site, Job.status))
    return [{"site": site, "status": status, "jobs": n} for site, status, n in rows]


def running_per_site(session: Session) -> dict[str, int]:
    active = [s.value for s in ACTIVE]
    rows = session.execute(sa.select(Job.site, sa.func.count()).where(Job.status.in_(active))
                           .group_by(Job.site))
    return {site or NO_SITE: n for site, n in rows}


def sites(session: Session) -> list[dict[str, Any]]:
    """Every site from the mask or a compute queue: status, reason, queues and cores."""
    rows: dict[str, dict[str, Any]] = {}
    for site, queues, cores in session.execute(
            sa.select(ComputeQueueRow.site, sa.func.count(), sa.func.sum(ComputeQueueRow.cores))
            .group_by(ComputeQueueRow.site)):
        rows[site] = {"site": site, "status": "Active", "reason": "", "queues": queues, "cores": int(cores or 0)}
    for mask in session.scalars(sa.select(Site)):
        row = rows.setdefault(mask.name, {"site": mask.name, "queues": 0, "cores": 0})
        row.update(status="Banned" if mask.banned else "Active", reason=mask.reason)
    return [rows[k] for k in sorted(rows)]


def cpu_usage(session: Session, since: datetime) -> dict[str, Any]:
    """CPU and wall seconds of jobs finished since `since`, per activity and per site: one
    GROUP BY (activity, site) over the `ended_at` range, rolled up both ways here (the
    groups number activities x sites, a few hundred at most)."""
    q = (sa.select(AccountingRecord.activity, AccountingRecord.site, sa.func.sum(AccountingRecord.cpu_seconds),
                   sa.func.sum(AccountingRecord.wall_seconds * AccountingRecord.processors), sa.func.count())
         .where(AccountingRecord.ended_at >= since)
         .group_by(AccountingRecord.activity, AccountingRecord.site))
    per: dict[str, dict[str, list[float]]] = {"activity": defaultdict(lambda: [0.0, 0.0, 0]),
                                              "site": defaultdict(lambda: [0.0, 0.0, 0])}
    for activity, site, cpu, wall, n in session.execute(q):
        for key, label in (("activity", activity), ("site", site or NO_SITE)):
            acc = per[key][label]
            acc[0] += float(cpu or 0)
            acc[1] += float(wall or 0)
            acc[2] += n

    def rows(groups: dict[str, list[float]]) -> list[dict[str, Any]]:
        return [{"label": label, "cpu_seconds": c, "core_wall_seconds": w, "jobs": int(n)}
                for label, (c, w, n) in sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))]

    return {"since": since.isoformat(), "per_activity": rows(per["activity"]), "per_site": rows(per["site"])}


def cpu_series(session: Session, span: Span) -> dict[str, Any]:
    """CPU seconds of finished jobs per activity and time bucket (DIRAC's accounting plot)."""
    a = AccountingRecord
    out = summed_series(session, span, label=a.activity, value=a.cpu_seconds, at=a.ended_at, where=[],
                        key="cpu_seconds")
    for s in out["series"]:
        s["activity"] = s["label"]
        s["cpu_seconds"] = [float(v) for v in s["cpu_seconds"]]
    return out


def finished_totals(session: Session) -> list[dict[str, Any]]:
    """All-time finished jobs and their CPU seconds per (activity, site, final status): one
    scan of the accounting table, for Prometheus counters."""
    a = AccountingRecord
    q = (sa.select(a.activity, a.site, a.status, sa.func.count(), sa.func.sum(a.cpu_seconds))
         .group_by(a.activity, a.site, a.status))
    return [{"activity": act, "site": site or NO_SITE, "status": status, "jobs": n, "cpu_seconds": float(cpu or 0)}
            for act, site, status, n, cpu in session.execute(q)]


def unfinished_by_site_and_state(session: Session) -> list[dict[str, Any]]:
    """Jobs not yet final, per site and state (a Waiting job has no site yet): reads only
    the unfinished rows through the status index, however long the job history."""
    unfinished = [s.value for s in JobStatus if s not in FINAL]
    rows = session.execute(sa.select(Job.site, Job.status, sa.func.count()).where(Job.status.in_(unfinished))
                           .group_by(Job.site, Job.status))
    return [{"site": site or NO_SITE, "status": status, "jobs": n} for site, status, n in rows]


def search(session: Session, *, owner: str | None = None, group: str | None = None, site: str | None = None,
           status: str | None = None, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """The newest jobs matching every filter given, `limit` at most, below id `before` (pages)."""
    if status and status not in STATUS_ORDER:
        raise InvalidInput(f"unknown status {status!r}; choose from {', '.join(STATUS_ORDER)}")
    q = sa.select(Job).order_by(Job.id.desc()).limit(limit)
    for col, value in ((Job.owner, owner), (Job.owner_group, group), (Job.site, site), (Job.status, status)):
        if value:
            q = q.where(col == value)
    if before is not None:
        q = q.where(Job.id < before)
    return [_job_row(j) for j in session.scalars(q)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _job_row(job: Job) -> dict[str, Any]:
    return {"job_id": job.id, "name": job.name, "owner": job.owner, "owner_group": job.owner_group,
            "job_type": job.job_type, "status": job.status, "minor_status": job.minor_status,
            "site": job.site, "queue": job.queue, "production_id": job.production_id,
            "processors": job.processors, "cpu_seconds": job.cpu_seconds, "wall_seconds": job.wall_seconds,
            "submitted_at": _iso(job.submitted_at), "updated_at": _iso(job.updated_at)}


def job_owner(session: Session, job_id: int) -> str:
    owner = session.scalar(sa.select(Job.owner).where(Job.id == job_id))
    if owner is None:
        raise NotFound(f"job {job_id} does not exist")
    return owner


def job_history(session: Session, job_id: int) -> dict[str, Any]:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    rows = session.scalars(sa.select(JobLogging).where(JobLogging.job_id == job_id).order_by(JobLogging.id))
    return {"job": _job_row(job), "history": [
        {"status": r.status, "minor_status": r.minor_status, "application_status": r.application_status,
         "source": r.source, "at": r.at.isoformat()} for r in rows]}


def productions(session: Session) -> list[dict[str, Any]]:
    """Every production with its jobs per state and the share of its jobs that are final."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for prod_id, status, n in session.execute(
            sa.select(Job.production_id, Job.status, sa.func.count())
            .where(Job.production_id.is_not(None)).group_by(Job.production_id, Job.status)):
        counts[prod_id][status] = n
    final = {s.value for s in FINAL}
    out = []
    for p in session.scalars(sa.select(Production).order_by(Production.id.desc())):
        jobs = counts.get(p.id, {})
        total = sum(jobs.values())
        done = jobs.get(JobStatus.DONE.value, 0)
        out.append({"production_id": p.id, "name": p.name, "group": p.production_group, "status": p.status,
                    "release": p.release, "owner": p.owner, "events_total": p.events_total,
                    "jobs": {s: jobs[s] for s in STATUS_ORDER if s in jobs}, "jobs_total": total,
                    "jobs_done": done, "jobs_final": sum(n for s, n in jobs.items() if s in final),
                    "progress": done / total if total else 0.0, "created_at": p.created_at.isoformat()})
    return out


def cpu_since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
