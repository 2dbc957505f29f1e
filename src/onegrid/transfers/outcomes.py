"""What copies and recalls did, written back in one transaction per batch.

A copy's outcome is applied only while the request is still this conveyor's SUBMITTED
request (a request cancelled meanwhile, or taken over after a lost lease, is left alone;
its history row is still written). DONE marks the destination replica AVAILABLE in the
catalogue; a corrupt source replica is declared BAD and excluded; recoverable errors wait
with backoff; the rest try the next source or end FAILED with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import replicas as replica_ops
from onegrid.catalog.tables import RSE, Replica, ReplicaState
from onegrid.clock import Clock
from onegrid.storage.client import StageState
from onegrid.transfers import topology
from onegrid.transfers.copy import CopyResult, Outcome
from onegrid.transfers.planning import Plan, backoff
from onegrid.transfers.settings import TransferSettings
from onegrid.transfers.staging import StageItem, StagePoll, StageSubmitted
from onegrid.transfers.tables import RequestState, TransferHistory, TransferRequest

T = TransferRequest
# The account named on BAD declarations and replicas registered by direct transfer jobs.
SERVICE_ACCOUNT = "root"


def _mine(session: Session, worker: str, ids: Sequence[int], state: RequestState) -> dict[int, TransferRequest]:
    rows = session.scalars(sa.select(T).where(T.id.in_(list(ids)), T.lease_owner == worker, T.state == state.value))
    return {r.id: r for r in rows}


def record(session: Session, clock: Clock, worker: str, plan: Plan, results: dict[int, tuple[CopyResult, float]],
           settings: TransferSettings) -> dict[str, int]:
    now = clock.now()
    counts: Counter[str] = Counter()
    mine = _mine(session, worker, list(results), RequestState.SUBMITTED)
    names = {r.id: r.name for r in session.scalars(sa.select(RSE))}
    history = []
    done_replicas: list[TransferRequest] = []
    for task in plan.copies:
        if task.request_id not in results:
            continue
        res, seconds = results[task.request_id]
        req = mine.get(task.request_id)
        history.append({
            "request_id": task.request_id, "scope": req.scope if req else "", "name": req.name if req else "",
            "source_rse_id": task.source_rse_id, "dest_rse_id": task.link[1] or None,
            "source_url": task.spec.source_url, "dest_url": task.spec.dest_url,
            "activity": req.activity if req else "", "attempt": req.attempts if req else 0,
            "bytes": res.bytes if res.outcome is Outcome.DONE else 0, "duration": seconds, "mode": res.mode,
            "outcome": "DONE" if res.outcome is Outcome.DONE else "FAILED", "error": res.error, "finished_at": now})
        if req is None:
            counts["orphaned"] += 1
            continue
        req.updated_at = now
        req.lease_owner, req.lease_expires = None, None
        if res.outcome is Outcome.DONE:
            req.state = RequestState.DONE.value
            req.finished_at = now
            req.bytes_transferred = res.bytes or (req.bytes or 0)
            req.last_error = None
            done_replicas.append(req)
            counts["done"] += 1
            continue
        req.last_error = (res.error or res.outcome.value)[:4000]
        if res.outcome is Outcome.NEXT_SOURCE:
            _exclude(req, task.source_rse_id if task.source_index is None else task.source_index)
            if res.source_corrupt and task.source_rse_id is not None:
                replica_ops.declare_bad(session, clock, SERVICE_ACCOUNT, [
                    {"scope": req.scope, "name": req.name, "rse": names[task.source_rse_id]}], req.last_error)
                counts["declared_bad"] += 1
            _clear_stage(req)
            req.state = RequestState.QUEUED.value
            req.next_attempt_at = now
            counts["next_source"] += 1
        elif res.outcome is Outcome.RETRY and req.attempts <= req.retry_limit:
            req.state = RequestState.QUEUED.value
            req.next_attempt_at = now + timedelta(seconds=backoff(settings, req.attempts))
            counts["retry"] += 1
        else:
            req.state = RequestState.FAILED.value
            req.finished_at = now
            counts["failed"] += 1
    if history:
        session.execute(sa.insert(TransferHistory), history)
    _mark_available(session, clock, done_replicas, names)
    session.flush()
    return dict(counts)


def _exclude(req: TransferRequest, source: int | None) -> None:
    if source is not None:
        req.excluded_sources = sorted({*(req.excluded_sources or []), source})


def _clear_stage(req: TransferRequest) -> None:
    req.stage_endpoint = req.stage_request_id = req.stage_path = None


def _mark_available(session: Session, clock: Clock, reqs: list[TransferRequest], names: dict[int, str]) -> None:
    """Destination replicas of finished catalogue requests → AVAILABLE, in one statement per
    RSE and scope, from the states the catalogue's transition table lets go to AVAILABLE
    (`replicas.TRANSITIONS`). Replicas a direct job brought that the catalogue did not
    expect are registered (one bulk call per RSE)."""
    reqs = [r for r in reqs if r.dest_rse_id is not None and not r.source_urls]
    if not reqs:
        return
    now = clock.now()
    movable = [st for st, nxt in replica_ops.TRANSITIONS.items()
               if ReplicaState.AVAILABLE in nxt and st is not ReplicaState.AVAILABLE]
    groups: dict[tuple[int, str], list[TransferRequest]] = {}
    for r in reqs:
        groups.setdefault((r.dest_rse_id, r.scope), []).append(r)  # type: ignore[arg-type]
    for (rse_id, scope), group in groups.items():
        wanted = [r.name for r in group]
        session.execute(sa.update(Replica).where(Replica.rse_id == rse_id, Replica.scope == scope,
                                                 Replica.name.in_(wanted), Replica.state.in_(movable))
                        .values(state=ReplicaState.AVAILABLE, updated_at=now))
        unknown = [r for r in group if r.rule_id is None]
        if not unknown:
            continue
        present = set(session.scalars(sa.select(Replica.name).where(
            Replica.rse_id == rse_id, Replica.scope == scope, Replica.name.in_([r.name for r in unknown]))))
        new = [{"scope": r.scope, "name": r.name, "bytes": r.bytes or r.bytes_transferred, "adler32": r.adler32,
                "md5": r.md5} for r in unknown if r.name not in present]
        if new:
            replica_ops.add_replicas(session, clock, SERVICE_ACCOUNT, names[rse_id], new)


# -- tape ----------------------------------------------------------------------------


def stage_items(session: Session, rows: Sequence[tuple[int, str | None, int | None]]) -> dict[int, StageItem]:
    """Rebuild the stage items (URL, token path, audience) of STAGING requests."""
    topo = topology.load_topology(session)
    out = {}
    for rid, url, rse_id in rows:
        ep = topo.endpoints.get(rse_id or -1)
        if url and ep:
            out[rid] = StageItem(rid, url, topology.token_path(url, ep.token_base), ep.audience)
    return out


def record_stage_submissions(session: Session, clock: Clock, worker: str, plan: Plan,
                             submitted: Sequence[StageSubmitted], settings: TransferSettings) -> None:
    now = clock.now()
    mine = _mine(session, worker, [s.request_id for s in submitted], RequestState.QUEUED)
    mine.update(_mine(session, worker, [s.request_id for s in submitted], RequestState.SUBMITTED))
    urls = {i.request_id: i.url for i in plan.stage}
    for sub in submitted:
        req = mine.get(sub.request_id)
        if req is None:
            continue
        req.updated_at = now
        req.lease_owner, req.lease_expires = None, None
        if sub.handle:
            req.state = RequestState.STAGING.value
            req.stage_endpoint, req.stage_request_id, req.stage_path = sub.handle, "SUBMITTED", urls[req.id]
            req.source_rse_id = plan.stage_sources.get(req.id)
            req.next_attempt_at = now + timedelta(seconds=settings.stage_poll_interval)
        else:
            req.attempts += 1
            req.last_error = sub.error
            _retry_or_fail(req, now, settings)
    session.flush()


def record_stage_polls(session: Session, clock: Clock, worker: str, ids: Sequence[int], polls: Sequence[StagePoll],
                       settings: TransferSettings) -> dict[str, int]:
    now = clock.now()
    counts: Counter[str] = Counter()
    mine = _mine(session, worker, ids, RequestState.STAGING)
    seen = set()
    for p in polls:
        req = mine.get(p.request_id)
        if req is None:
            continue
        seen.add(req.id)
        req.updated_at = now
        req.lease_owner, req.lease_expires = None, None
        if p.state is StageState.COMPLETED:
            req.state = RequestState.QUEUED.value
            req.stage_request_id = "ONDISK"
            req.next_attempt_at = now
            counts["staged"] += 1
        elif p.state in (StageState.FAILED, StageState.CANCELLED):
            req.last_error = f"recall from tape failed: {p.error or p.state.value}"
            _exclude(req, req.source_rse_id)
            _clear_stage(req)
            req.attempts += 1
            _retry_or_fail(req, now, settings, immediately=True)
            counts["stage_failed"] += 1
        else:
            req.next_attempt_at = now + timedelta(seconds=settings.stage_poll_interval)
    for rid, req in mine.items():
        if rid not in seen:  # lost its stage handle: start over
            _clear_stage(req)
            req.state = RequestState.QUEUED.value
            req.lease_owner, req.lease_expires = None, None
    session.flush()
    return dict(counts)


def _retry_or_fail(req: TransferRequest, now: Any, settings: TransferSettings, *, immediately: bool = False) -> None:
    if req.attempts > req.retry_limit:
        req.state = RequestState.FAILED.value
        req.finished_at = now
    else:
        req.state = RequestState.QUEUED.value
        req.next_attempt_at = now if immediately else now + timedelta(seconds=backoff(settings, req.attempts))


