"""A claimed batch → what to copy now, what to recall from tape, what waits or fails.

Runs in one transaction right after the claim: reads the requests, the catalogue's
topology and replicas, chooses sources (`sources.choose_sources`), asks the scheduler
which copies the links and storages have room for, marks those SUBMITTED (attempt + 1),
and gives the rest back to the queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import rses as rse_ops
from onegrid.clock import Clock
from onegrid.db import lease
from onegrid.errors import OneGridError
from onegrid.transfers import links, scheduler, sources, topology
from onegrid.transfers.copy import CopySpec
from onegrid.transfers.settings import TransferSettings
from onegrid.transfers.staging import StageItem
from onegrid.transfers.tables import RequestState, TransferRequest

T = TransferRequest
# Direct URL submissions have no RSEs: they share one pseudo link with this id on both ends.
URL_LINK_RSE = 0


@dataclass(frozen=True)
class CopyTask:
    request_id: int
    spec: CopySpec
    link: tuple[int, int]
    source_rse_id: int | None
    source_index: int | None  # for URL jobs: which of `source_urls`
    staged_handle: str | None = None
    stage_item: StageItem | None = None


@dataclass
class Plan:
    copies: list[CopyTask] = field(default_factory=list)
    stage: list[StageItem] = field(default_factory=list)
    stage_sources: dict[int, int] = field(default_factory=dict)  # request id -> tape source RSE id
    counts: dict[str, int] = field(default_factory=dict)

    def task(self, request_id: int) -> CopyTask | None:
        return next((t for t in self.copies if t.request_id == request_id), None)


def backoff(settings: TransferSettings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones (doubling, capped)."""
    return float(min(settings.max_retry_delay, settings.retry_delay * 2 ** max(attempts - 1, 0)))


def resolve_allowed(session: Session, expression: str | None, cache: dict[str, set[int] | None]) -> set[int] | None:
    """RSE ids a rule's source replica expression allows (None: any)."""
    if not expression:
        return None
    if expression not in cache:
        try:
            names = rse_ops.resolve_expression(session, expression, allow_empty=True)
            cache[expression] = set(rse_ops.rse_ids(session, names).values()) if names else set()
        except OneGridError:
            cache[expression] = set()
    return cache[expression]


@dataclass(frozen=True)
class _Recall:
    item: StageItem
    rse_id: int


@dataclass
class _Candidates:
    tasks: dict[int, CopyTask] = field(default_factory=dict)
    waiting: dict[int, str] = field(default_factory=dict)  # no usable source now: retry later
    failing: dict[int, str] = field(default_factory=dict)  # nothing will ever serve it


def _url_task(req: TransferRequest, topo: topology.Topology, settings: TransferSettings) -> CopyTask | str:
    excluded = set(req.excluded_sources or [])
    choices = [(i, u) for i, u in enumerate(req.source_urls or []) if i not in excluded]
    if not choices or not req.dest_url:
        return "no source URL left to try"
    i, src = choices[0]
    spec = CopySpec(source_url=src, dest_url=req.dest_url, source_path=_token_path(topo, src),
                    dest_path=_token_path(topo, req.dest_url), source_audience=topology.audience_of(src),
                    dest_audience=topology.audience_of(req.dest_url), bytes=req.bytes, adler32=req.adler32,
                    md5=req.md5, overwrite=req.overwrite, verify_checksum=req.verify_checksum,
                    timeout=settings.copy_timeout)
    dest = req.dest_rse_id or URL_LINK_RSE
    return CopyTask(req.id, spec, (URL_LINK_RSE, dest), None, i)


def _token_path(topo: topology.Topology, url: str) -> str:
    aud = topology.audience_of(url)
    for ep in topo.endpoints.values():
        if ep.audience == aud:
            return topology.token_path(url, ep.token_base)
    return topology.token_path(url, "/")


def _catalog_task(req: TransferRequest, topo: topology.Topology, reps: list[topology.ReplicaRow],
                  allowed: set[int] | None, settings: TransferSettings) -> CopyTask | _Recall | tuple[str, bool]:
    """A copy, a recall, or (reason, permanent) when no source can serve now."""
    dest = topo.places.get(req.dest_rse_id or -1)
    dest_ep = topo.endpoints.get(req.dest_rse_id or -1)
    if dest is None or dest_ep is None:
        return (f"destination RSE {topo.name(req.dest_rse_id)} has no usable protocol", True)
    by_rse = {r.rse_id: r for r in reps}
    excluded = set(req.excluded_sources or [])
    staged = req.stage_endpoint is not None and req.source_rse_id is not None and req.stage_request_id == "ONDISK"
    if staged:
        ranked = [sources.Source(req.source_rse_id, topo.name(req.source_rse_id), 0, False)]  # type: ignore[arg-type]
    else:
        cands = [sources.SourceReplica(topo.places[r.rse_id], r.state) for r in reps
                 if r.rse_id in topo.places and r.rse_id in topo.endpoints]
        ranked = sources.choose_sources(cands, dest, topo.distances, excluded=excluded, allowed=allowed)
        if req.attempts and req.last_error:
            ranked = sources.after_failure(ranked, req.source_rse_id)
    if not ranked:
        waiting = any(r.state == "AVAILABLE" and r.rse_id not in excluded and r.rse_id in topo.places
                      and (not topo.places[r.rse_id].readable or topo.places[r.rse_id].draining) for r in reps)
        if waiting:
            return ("every source replica is on an RSE that is down or draining", False)
        why = req.last_error if excluded and req.last_error else "no available source replica"
        return (f"no usable source: {why}", True)
    best = ranked[0]
    src_ep = topo.endpoints[best.rse_id]
    row = by_rse.get(best.rse_id)
    src_url = src_ep.url(req.scope, req.name, row.path if row else None)
    if best.needs_staging:
        return _Recall(StageItem(req.id, src_url, topology.token_path(src_url, src_ep.token_base), src_ep.audience),
                       best.rse_id)
    dest_row = by_rse.get(dest.rse_id)
    dst_url = dest_ep.url(req.scope, req.name, dest_row.path if dest_row else None)
    spec = CopySpec(source_url=src_url, dest_url=dst_url,
                    source_path=topology.token_path(src_url, src_ep.token_base),
                    dest_path=topology.token_path(dst_url, dest_ep.token_base), source_audience=src_ep.audience,
                    dest_audience=dest_ep.audience, bytes=req.bytes if req.bytes is not None else (
                        row.bytes if row else None),
                    adler32=req.adler32 or (row.adler32 if row else None), md5=req.md5 or (row.md5 if row else None),
                    overwrite=req.overwrite, verify_checksum=req.verify_checksum, timeout=settings.copy_timeout,
                    pull=dest_ep.tpc_write, push=src_ep.tpc_read)
    item = None
    if staged and req.stage_path:
        item = StageItem(req.id, req.stage_path, topology.token_path(req.stage_path, src_ep.token_base),
                         src_ep.audience)
    return CopyTask(req.id, spec, (best.rse_id, dest.rse_id), best.rse_id, None,
                    staged_handle=req.stage_endpoint if staged else None, stage_item=item)


def plan_batch(session: Session, clock: Clock, rng: random.Random, ids: list[int], worker: str,
               settings: TransferSettings, *, slots: int | None = None) -> Plan:
    """`slots`: copies that may start now (free threads); default all `threads`."""
    now = clock.now()
    reqs = list(session.scalars(sa.select(T).where(T.id.in_(ids), T.lease_owner == worker)))
    topo = topology.load_topology(session)
    reps = topology.replicas_of(session, [(r.scope, r.name) for r in reqs if not r.source_urls])
    plan = Plan()
    cands = _Candidates()
    cache: dict[str, set[int] | None] = {}
    for req in reqs:
        if req.source_urls:
            got: Any = _url_task(req, topo, settings)
        else:
            allowed = resolve_allowed(session, req.source_rse_expression, cache)
            got = _catalog_task(req, topo, reps.get((req.scope, req.name), []), allowed, settings)
        if isinstance(got, CopyTask):
            cands.tasks[req.id] = got
        elif isinstance(got, _Recall):
            plan.stage.append(got.item)
            plan.stage_sources[req.id] = got.rse_id
        else:
            (cands.failing if got[1] else cands.waiting)[req.id] = got[0]
    chosen = _schedule(session, now, rng, cands, {r.id: r for r in reqs}, ids, settings,
                       settings.threads if slots is None else slots)
    plan.copies = [cands.tasks[i] for i in chosen]
    _mark(session, now, reqs, plan, cands, settings, worker)
    plan.counts = {"submitted": len(plan.copies), "no_source": len(cands.waiting) + len(cands.failing),
                   "deferred": len(cands.tasks) - len(plan.copies)}
    return plan


def _schedule(session: Session, now: Any, rng: random.Random, cands: _Candidates, reqs: dict[int, TransferRequest],
              ids: list[int], settings: TransferSettings, slots: int) -> list[int]:
    limits = links.load_limits(session)
    flight = links.running(session, now, exclude=ids)
    per_read: dict[int, int] = {}
    per_write: dict[int, int] = {}
    for (s, d), n in flight.items():
        per_read[s] = per_read.get(s, 0) + n
        per_write[d] = per_write.get(d, 0) + n
    link_free: dict[tuple[int, int], int] = {}
    for task in cands.tasks.values():
        if task.link[0] == URL_LINK_RSE:
            link_free[task.link] = settings.threads
        elif task.link not in link_free:
            link_free[task.link] = max(0, limits.limit(task.link, settings.initial_active) - flight.get(task.link, 0))
    capacity = scheduler.Capacity(
        links=link_free,
        reads={r: max(0, m - per_read.get(r, 0)) for r, m in limits.max_reads.items()},
        writes={r: max(0, m - per_write.get(r, 0)) for r, m in limits.max_writes.items()})
    items = [scheduler.Candidate(id=t.request_id, link=t.link, activity=reqs[t.request_id].activity,
                                 priority=reqs[t.request_id].priority, order=t.request_id)
             for t in cands.tasks.values()]
    return scheduler.schedule(items, capacity, limits.weights, rng, slots)


def _mark(session: Session, now: Any, reqs: list[TransferRequest], plan: Plan, cands: _Candidates,
          settings: TransferSettings, worker: str) -> None:
    chosen = {t.request_id: t for t in plan.copies}
    staging_ids = {s.request_id for s in plan.stage}
    give_back = []
    for req in reqs:
        req.updated_at = now
        if req.id in chosen:
            task = chosen[req.id]
            req.state = RequestState.SUBMITTED.value
            req.source_rse_id = task.source_rse_id
            req.attempts += 1
            req.started_at = now
            req.bytes_transferred = 0
        elif req.id in staging_ids:
            pass  # stays claimed until the stage request is sent
        elif req.id in cands.failing:
            req.state = RequestState.FAILED.value
            req.last_error = cands.failing[req.id]
            req.finished_at = now
            req.lease_owner, req.lease_expires = None, None
        elif req.id in cands.waiting:
            req.attempts += 1
            req.last_error = cands.waiting[req.id]
            if req.attempts > req.retry_limit:
                req.state = RequestState.FAILED.value
                req.finished_at = now
            else:
                req.state = RequestState.QUEUED.value
                req.next_attempt_at = now + timedelta(seconds=backoff(settings, req.attempts))
            req.lease_owner, req.lease_expires = None, None
        else:
            # Scheduled out this cycle (link or storage full): back to the queue, a little
            # later, so that the next claims reach requests of other links behind it.
            req.state = RequestState.QUEUED.value
            req.next_attempt_at = now + timedelta(seconds=settings.defer_seconds)
            give_back.append(req.id)
    session.flush()
    if give_back:
        lease.release(session, T.__table__, key=T.__table__.c.id, owner_col=T.__table__.c.lease_owner,
                      expires_col=T.__table__.c.lease_expires, keys=give_back, owner=worker)
