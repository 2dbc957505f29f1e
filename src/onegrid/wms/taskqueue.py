"""Task queues in the database: finding or creating them in bulk, enqueueing waiting jobs,
taking one job atomically, and a per-process cache of their (immutable) requirements.

Taking a job is deleting its `wms_tq_jobs` row: on PostgreSQL the row is chosen with
`FOR UPDATE SKIP LOCKED`, so concurrent pilots served by any number of server replicas
skip each other's rows and never get the same job; on SQLite the writer transaction
(`BEGIN IMMEDIATE`) serialises them. The job's own status change is conditional on
`status = 'Waiting'` as a second guard.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.wms.matcher import TaskQueueSpec, matching_queues
from onegrid.wms.models import Resource
from onegrid.wms.tables import TaskQueue, TaskQueueJob


def _spec_of(row: TaskQueue) -> TaskQueueSpec:
    return TaskQueueSpec(
        owner_group=row.owner_group, cpu_time=row.cpu_time, sites=tuple(json.loads(row.sites)),
        banned_sites=tuple(json.loads(row.banned_sites)), platforms=tuple(json.loads(row.platforms)),
        tags=tuple(json.loads(row.tags)), min_processors=row.min_processors,
        max_processors=row.max_processors, ram_mb=row.ram_mb,
    )


def _insert_ignore(session: Session, table: sa.Table, rows: list[dict[str, object]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    else:
        session.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)


def ensure_task_queues(session: Session, specs: Sequence[TaskQueueSpec], now: datetime) -> dict[TaskQueueSpec, int]:
    """The id of each spec's task queue, creating those that do not exist (concurrent
    submitters creating the same one are harmless: the key is unique)."""
    by_key = {s.key: s for s in specs}
    out: dict[TaskQueueSpec, int] = {}
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for tq_id, key in session.execute(sa.select(TaskQueue.id, TaskQueue.key).where(TaskQueue.key.in_(chunk))):
            out[by_key[key]] = tq_id
    missing = [s for k, s in by_key.items() if s not in out]
    if missing:
        _insert_ignore(session, TaskQueue.__table__, [  # type: ignore[arg-type]
            {"key": s.key, "owner_group": s.owner_group, "cpu_time": s.cpu_time, "sites": json.dumps(s.sites),
             "banned_sites": json.dumps(s.banned_sites), "platforms": json.dumps(s.platforms),
             "tags": json.dumps(s.tags), "min_processors": s.min_processors, "max_processors": s.max_processors,
             "ram_mb": s.ram_mb, "created_at": now} for s in missing])
        mk = {s.key: s for s in missing}
        mkeys = list(mk)
        for start in range(0, len(mkeys), 500):
            q = sa.select(TaskQueue.id, TaskQueue.key).where(TaskQueue.key.in_(mkeys[start:start + 500]))
            for tq_id, key in session.execute(q):
                out[mk[key]] = tq_id
    return out


def enqueue(session: Session, entries: Sequence[tuple[int, int, int]]) -> None:
    """Put waiting jobs in their task queues: (job_id, tq_id, priority)."""
    if entries:
        session.connection().execute(TaskQueueJob.__table__.insert(),
                                     [{"job_id": j, "tq_id": t, "rank": 10 - p} for j, t, p in entries])


def dequeue(session: Session, job_ids: Sequence[int]) -> None:
    for start in range(0, len(job_ids), 1000):
        session.execute(sa.delete(TaskQueueJob).where(TaskQueueJob.job_id.in_(job_ids[start:start + 1000])))


_TAKE = ("DELETE FROM wms_tq_jobs WHERE job_id = (SELECT job_id FROM wms_tq_jobs WHERE tq_id = :tq "
         "ORDER BY rank, job_id LIMIT 1{lock}) RETURNING job_id")
TAKE_SQLITE = sa.text(_TAKE.format(lock=""))
TAKE_POSTGRES = sa.text(_TAKE.format(lock=" FOR UPDATE SKIP LOCKED"))


def take_job(session: Session, tq_id: int) -> int | None:
    """Remove and return the best waiting job of one task queue (priority, then age).
    Plain SQL: this is the hot path of every pilot request."""
    conn = session.connection()
    stmt = TAKE_POSTGRES if conn.dialect.name == "postgresql" else TAKE_SQLITE
    return conn.execute(stmt, {"tq": tq_id}).scalar()


def waiting_per_queue(session: Session) -> dict[int, int]:
    q = sa.select(TaskQueueJob.tq_id, sa.func.count()).group_by(TaskQueueJob.tq_id)
    return {tq: n for tq, n in session.execute(q)}


class TaskQueueCache:
    """Per process: the requirements of every task queue (they never change once created),
    which of them had waiting jobs lately, and the matching set per pilot description."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.specs: dict[int, TaskQueueSpec] = {}
        self.max_id = 0
        self.nonempty: set[int] = set()
        self.banned: set[str] = set()
        self.refreshed_at = float("-inf")
        self.stale = True
        self.memo: dict[tuple[object, ...], dict[str, list[int]]] = {}

    def refresh(self, session: Session, monotonic: float, ttl: float) -> None:
        """Reload what other server replicas may have changed, at most every `ttl` seconds
        (at once after this process changed it): new task queues, which ones have waiting
        jobs, the banned sites."""
        if not self.stale and monotonic - self.refreshed_at < ttl:
            return
        from onegrid.wms.tables import Site

        rows = list(session.scalars(sa.select(TaskQueue).where(TaskQueue.id > self.max_id)))
        nonempty = set(session.scalars(sa.select(TaskQueueJob.tq_id).distinct()))
        banned = set(session.scalars(sa.select(Site.name).where(Site.banned.is_(True))))
        with self.lock:
            self.banned = banned
            self.refreshed_at = monotonic
            self.stale = False
            for row in rows:
                self.specs[row.id] = _spec_of(row)
                self.max_id = max(self.max_id, row.id)
            if rows:
                self.memo.clear()
            self.nonempty = nonempty

    def matching(self, resource: Resource) -> dict[str, list[int]]:
        key = (resource.site, resource.platform, tuple(resource.container_platforms), tuple(sorted(resource.tags)),
               resource.cores, resource.ram_mb, resource.cpu_time)
        with self.lock:
            found = self.memo.get(key)
            if found is None:
                if len(self.memo) > 10_000:
                    self.memo.clear()
                found = self.memo[key] = matching_queues(self.specs, resource)
            return {g: [t for t in tqs if t in self.nonempty] for g, tqs in found.items()}

    def mark_empty(self, tq_id: int) -> None:
        with self.lock:
            self.nonempty.discard(tq_id)

    def mark_nonempty(self, tq_ids: Sequence[int]) -> None:
        with self.lock:
            self.nonempty.update(tq_ids)
            if any(t not in self.specs for t in tq_ids):
                self.stale = True

    def invalidate(self) -> None:
        with self.lock:
            self.stale = True


_CACHES: weakref.WeakKeyDictionary[sa.Engine, TaskQueueCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(engine: sa.Engine) -> TaskQueueCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = TaskQueueCache()
        return cache
