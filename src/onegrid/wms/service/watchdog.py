"""Stalled jobs: no heartbeat → Stalled → rescheduled (or Failed after too many)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.wms.service.common import move
from onegrid.wms.service.jobs import reschedule
from onegrid.wms.settings import WmsSettings
from onegrid.wms.status import JobStatus
from onegrid.wms.tables import Job

S = JobStatus


def _claim(session: Session, q: sa.Select[tuple[Job]]) -> list[Job]:
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(session.scalars(q))


def find_stalled(session: Session, clock: Clock, settings: WmsSettings, limit: int) -> dict[str, int]:
    """One watchdog pass: mark silent jobs Stalled, reschedule Stalled ones past their
    grace period and Matched ones that never started."""
    now = clock.now()
    did = {"stalled": 0, "rescheduled": 0, "failed": 0}
    silent = now - timedelta(seconds=settings.stalled_seconds)
    for job in _claim(session, sa.select(Job).where(
            Job.status.in_([S.RUNNING.value, S.COMPLETING.value]), Job.heartbeat_at < silent).limit(limit)):
        move(session, job, S.STALLED, f"No heartbeat for {settings.stalled_seconds:.0f} s", "Watchdog", now)
        did["stalled"] += 1
    session.flush()
    grace = now - timedelta(seconds=settings.stalled_fail_seconds)
    never_started = now - timedelta(seconds=settings.matched_timeout_seconds)
    for job in _claim(session, sa.select(Job).where(sa.or_(
            sa.and_(Job.status == S.STALLED.value, Job.updated_at <= grace),
            sa.and_(Job.status == S.MATCHED.value, Job.heartbeat_at < never_started))).limit(limit)):
        reason = "Job stalled" if job.status == S.STALLED.value else "Matched job never started"
        status = reschedule(session, clock, job, reason=reason, source="Watchdog", settings=settings)
        did["failed" if status == S.FAILED.value else "rescheduled"] += 1
    return did
