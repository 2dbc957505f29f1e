"""Links, storage limits and activity shares: what the scheduler reads, what the optimizer
writes, what operators set.

`tune_links` is the optimizer's shell: it summarises each busy link's recent history,
calls the pure `optimizer.decide`, and stores the new active limit with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import InvalidInput
from onegrid.transfers import optimizer
from onegrid.transfers.tables import (
    ActivityShare,
    RequestState,
    StorageLimit,
    TransferHistory,
    TransferLink,
    TransferRequest,
)

Link = tuple[int, int]


@dataclass(frozen=True)
class LinkLimits:
    active: dict[Link, int]  # current active limit per known link
    bounds: dict[Link, optimizer.Bounds]
    max_reads: dict[int, int]
    max_writes: dict[int, int]
    weights: dict[str, float]

    def limit(self, link: Link, initial: int) -> int:
        if link in self.active:
            return self.active[link]
        return optimizer.clamp(initial, self.bounds_of(link))

    def bounds_of(self, link: Link) -> optimizer.Bounds:
        if link in self.bounds:
            return self.bounds[link]
        return optimizer.link_bounds(None, None, self.max_reads.get(link[0]), self.max_writes.get(link[1]))


def load_limits(session: Session) -> LinkLimits:
    reads: dict[int, int] = {}
    writes: dict[int, int] = {}
    for s in session.scalars(sa.select(StorageLimit)):
        if s.max_reads is not None:
            reads[s.rse_id] = s.max_reads
        if s.max_writes is not None:
            writes[s.rse_id] = s.max_writes
    active: dict[Link, int] = {}
    bounds: dict[Link, optimizer.Bounds] = {}
    for row in session.scalars(sa.select(TransferLink)):
        link = (row.source_rse_id, row.dest_rse_id)
        b = optimizer.link_bounds(row.min_active, row.max_active, reads.get(link[0]), writes.get(link[1]))
        bounds[link] = b
        active[link] = optimizer.clamp(row.active_limit, b)
    weights = {a.activity: a.weight for a in session.scalars(sa.select(ActivityShare))}
    return LinkLimits(active=active, bounds=bounds, max_reads=reads, max_writes=writes, weights=weights)


def running(session: Session, now: Any, exclude: Iterable[int] = ()) -> dict[Link, int]:
    """Copies in flight per link (SUBMITTED under a live lease), other than `exclude`."""
    t = TransferRequest
    q = (sa.select(t.source_rse_id, t.dest_rse_id, sa.func.count())
         .where(t.state == RequestState.SUBMITTED.value, t.lease_expires > now, t.source_rse_id.is_not(None))
         .group_by(t.source_rse_id, t.dest_rse_id))
    ex = list(exclude)
    if ex:
        q = q.where(t.id.not_in(ex))
    return {(s, d): int(n) for s, d, n in session.execute(q) if d is not None}


def _link_row(session: Session, link: Link, initial: int) -> TransferLink:
    row = session.get(TransferLink, link)
    if row is None:
        row = TransferLink(source_rse_id=link[0], dest_rse_id=link[1], active_limit=initial, decision="")
        session.add(row)
    return row


def tune_links(session: Session, clock: Clock, *, initial: int, aggressive: bool = False) -> int:
    """One optimizer round over every link with recent history; returns links decided."""
    now = clock.now()
    since = now - timedelta(seconds=1800)
    h = TransferHistory
    stats = session.execute(
        sa.select(h.source_rse_id, h.dest_rse_id, sa.func.avg(h.duration))
        .where(h.finished_at >= since, h.source_rse_id.is_not(None), h.dest_rse_id.is_not(None))
        .group_by(h.source_rse_id, h.dest_rse_id)).all()
    if not stats:
        return 0
    limits = load_limits(session)
    flight = running(session, now)
    t = TransferRequest
    queued = {d: int(n) for d, n in session.execute(
        sa.select(t.dest_rse_id, sa.func.count()).where(t.state == RequestState.QUEUED.value)
        .group_by(t.dest_rse_id))}
    for src, dst, mean in stats:
        link = (src, dst)
        window = optimizer.window_seconds(float(mean) if mean is not None else None)
        start = now - timedelta(seconds=window)
        rows = session.execute(
            sa.select(h.outcome, sa.func.count(), sa.func.coalesce(sa.func.sum(h.bytes), 0))
            .where(h.source_rse_id == src, h.dest_rse_id == dst, h.finished_at >= start)
            .group_by(h.outcome)).all()
        ok = sum(int(n) for o, n, _b in rows if o == "DONE")
        bad = sum(int(n) for o, n, _b in rows if o != "DONE")
        moved = sum(int(b) for o, _n, b in rows if o == "DONE")
        sample = optimizer.LinkSample(successes=ok, failures=bad, bytes=moved, active=flight.get(link, 0),
                                      queued=queued.get(dst, 0))
        row = _link_row(session, link, limits.limit(link, initial))
        d = optimizer.decide(row.active_limit, row.ema_throughput, sample, limits.bounds_of(link), window=window,
                             aggressive=aggressive)
        row.active_limit = d.active_limit
        row.ema_throughput = d.ema_throughput
        row.last_throughput = d.throughput
        row.success_rate = d.success_rate
        row.decision = d.reason[:255]
        row.decided_at = now
    session.flush()
    return len(stats)


# -- operators -----------------------------------------------------------------------


def set_link_limits(session: Session, link: Link, *, min_active: int | None, max_active: int | None,
                    initial: int) -> TransferLink:
    for v in (min_active, max_active):
        if v is not None and v < 1:
            raise InvalidInput("link limits must be at least 1")
    if min_active is not None and max_active is not None and min_active > max_active:
        raise InvalidInput(f"min_active {min_active} is above max_active {max_active}")
    row = _link_row(session, link, initial)
    row.min_active, row.max_active = min_active, max_active
    row.active_limit = optimizer.clamp(row.active_limit, optimizer.link_bounds(min_active, max_active, None, None))
    session.flush()
    return row


def set_storage_limits(session: Session, rse_id: int, *, max_reads: int | None, max_writes: int | None) -> None:
    for v in (max_reads, max_writes):
        if v is not None and v < 1:
            raise InvalidInput("storage limits must be at least 1")
    row = session.get(StorageLimit, rse_id)
    if row is None:
        session.add(StorageLimit(rse_id=rse_id, max_reads=max_reads, max_writes=max_writes))
    else:
        row.max_reads, row.max_writes = max_reads, max_writes
    session.flush()


def set_activity_share(session: Session, activity: str, weight: float) -> None:
    if weight < 0:
        raise InvalidInput("an activity's weight must not be negative")
    row = session.get(ActivityShare, activity)
    if row is None:
        session.add(ActivityShare(activity=activity, weight=weight))
    else:
        row.weight = weight
    session.flush()
