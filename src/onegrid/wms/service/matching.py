"""Giving a pilot a job: the site mask, the matching task queues, fair shares, one atomic take."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.db.base import UtcDateTime
from onegrid.wms import taskqueue
from onegrid.wms.matcher import order_groups, platform_choice, processors_for
from onegrid.wms.models import Resource
from onegrid.wms.settings import WmsSettings
from onegrid.wms.status import PilotStatus
from onegrid.wms.tables import Pilot, Site

# Task queues tried per request before giving up (each try is one indexed statement).
MAX_TRIES_PER_REQUEST = 50


@dataclass
class Match:
    job_id: int
    description: dict[str, Any]
    processors: int
    platform: str  # "" when the job asks for none; else the (possibly container) platform
    owner: str
    owner_group: str

    def as_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "description": self.description, "processors": self.processors,
                "platform": self.platform, "owner": self.owner, "owner_group": self.owner_group}


_ASSIGN = sa.text(
    "UPDATE wms_jobs SET status = 'Matched', minor_status = 'Assigned', site = :site, queue = :queue, "
    "pilot_id = :pilot, processors = :cores, updated_at = :now, heartbeat_at = :now "
    "WHERE id = :id AND status = 'Waiting' RETURNING id, description, owner, owner_group"
).bindparams(sa.bindparam("now", type_=UtcDateTime()))
_LOG = sa.text(
    "INSERT INTO wms_job_logging (job_id, status, minor_status, application_status, source, at) "
    "VALUES (:id, 'Matched', 'Assigned', '', :source, :now)"
).bindparams(sa.bindparam("now", type_=UtcDateTime()))


# PostgreSQL: take, assign and log in one round trip (data-modifying CTEs all run).
_TAKE_ASSIGN_PG = sa.text(
    "WITH taken AS (DELETE FROM wms_tq_jobs WHERE job_id = (SELECT job_id FROM wms_tq_jobs WHERE tq_id = :tq "
    "  ORDER BY rank, job_id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING job_id), "
    "assigned AS (UPDATE wms_jobs SET status = 'Matched', minor_status = 'Assigned', site = :site, queue = :queue, "
    "  pilot_id = :pilot, processors = :cores, updated_at = :now, heartbeat_at = :now FROM taken "
    "  WHERE wms_jobs.id = taken.job_id AND wms_jobs.status = 'Waiting' "
    "  RETURNING wms_jobs.id, wms_jobs.description, wms_jobs.owner, wms_jobs.owner_group), "
    "logged AS (INSERT INTO wms_job_logging (job_id, status, minor_status, application_status, source, at) "
    "  SELECT id, 'Matched', 'Assigned', '', :source, :now FROM assigned RETURNING job_id) "
    "SELECT (SELECT job_id FROM taken) AS taken_id, a.id, a.description, a.owner, a.owner_group "
    "FROM (SELECT 1) AS one LEFT JOIN assigned AS a ON true"
).bindparams(sa.bindparam("now", type_=UtcDateTime()))


def _take_and_assign(session: Session, tq_id: int, params: dict[str, Any]) -> tuple[str, Any]:
    """("empty", None) when the task queue has no free job, ("stale", None) when its entry
    pointed at a job that is no longer Waiting, else ("ok", row)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        row = conn.execute(_TAKE_ASSIGN_PG, {"tq": tq_id, **params}).one()
        if row.taken_id is None:
            return "empty", None
        return ("stale", None) if row.id is None else ("ok", row)
    job_id = taskqueue.take_job(session, tq_id)
    if job_id is None:
        return "empty", None
    row = conn.execute(_ASSIGN, {**params, "id": job_id}).first()
    if row is None:
        return "stale", None
    conn.execute(_LOG, {"id": job_id, "source": params["source"], "now": params["now"]})
    return "ok", row


def site_banned(session: Session, site: str) -> bool:
    return bool(session.scalar(sa.select(Site.banned).where(Site.name == site)))


def match(session: Session, clock: Clock, rng: random.Random, resource: Resource, *, settings: WmsSettings,
          source: str = "Matcher") -> Match | None:
    """Take the best job `resource` can run, or None. Atomic across server replicas."""
    engine = session.get_bind().engine  # type: ignore[union-attr]
    cache = taskqueue.cache_for(engine)
    cache.refresh(session, clock.monotonic(), settings.tq_refresh_seconds)
    if resource.site in cache.banned:
        return None
    candidates = cache.matching(resource)
    if not any(candidates.values()):
        return None
    now = clock.now()
    tries = 0
    for group in order_groups(candidates, settings.group_shares, rng):
        tqs = list(candidates[group])
        rng.shuffle(tqs)
        for tq_id in tqs:
            tries += 1
            if tries > MAX_TRIES_PER_REQUEST:
                return None
            spec = cache.specs[tq_id]
            cores = processors_for(spec, resource)
            outcome, row = _take_and_assign(session, tq_id, {
                "site": resource.site, "queue": resource.queue, "pilot": resource.pilot_id, "cores": cores,
                "now": now, "source": source[:64]})
            if outcome == "empty":
                cache.mark_empty(tq_id)
                continue
            if outcome == "stale":  # a queue entry of a job killed meanwhile: dropped, go on
                continue
            if resource.pilot_id:
                _pilot_seen(session, resource, now, matched=1)
            return Match(job_id=row.id, description=json.loads(row.description), processors=cores,
                         platform=platform_choice(spec, resource) or "", owner=row.owner, owner_group=row.owner_group)
    return None


def _pilot_seen(session: Session, resource: Resource, now: Any, matched: int = 0) -> None:
    assert resource.pilot_id
    updated = session.execute(
        sa.update(Pilot).where(Pilot.id == resource.pilot_id)
        .values(last_seen_at=now, status=PilotStatus.RUNNING.value, jobs_matched=Pilot.jobs_matched + matched)
    ).rowcount
    if not updated:
        session.add(Pilot(id=resource.pilot_id, queue=resource.queue, site=resource.site, backend="external",
                          backend_ref="", status=PilotStatus.RUNNING.value, submitted_at=now, last_seen_at=now,
                          jobs_matched=matched))


