"""Transfer figures: volume per activity over time, requests per state, the links with
their optimizer window, and recent failures. Empty until the transfer tables exist.

The time series is bucketed in SQL over `transfer_history.finished_at` (indexed), so a
day of a busy grid is one GROUP BY, not a scan in Python.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog.tables import RSE
from onegrid.monitor.series import Span, empty_series, summed_series
from onegrid.monitor.sources import TRANSFER_HISTORY, TRANSFER_LINKS, TRANSFER_REQUESTS

DONE, FAILED, SUBMITTED, QUEUED = "DONE", "FAILED", "SUBMITTED", "QUEUED"


def rse_names(session: Session) -> dict[int, str]:
    return dict(session.execute(sa.select(RSE.id, RSE.name)).all())


def volume_series(session: Session, span: Span) -> dict[str, Any]:
    """Bytes of successful transfers per activity and time bucket."""
    if TRANSFER_HISTORY is None:
        return empty_series(span)
    h = TRANSFER_HISTORY.c
    out = summed_series(session, span, label=h.activity, value=h.bytes, at=h.finished_at,
                        where=[h.outcome == DONE], key="bytes")
    for s in out["series"]:
        s["activity"] = s["label"]
        s["bytes"] = [int(b) for b in s["bytes"]]
    return out


def requests_by_state(session: Session) -> list[dict[str, Any]]:
    if TRANSFER_REQUESTS is None:
        return []
    r = TRANSFER_REQUESTS.c
    q = sa.select(r.state, r.activity, sa.func.count(), sa.func.coalesce(sa.func.sum(r.bytes), 0)).group_by(
        r.state, r.activity)
    return [{"state": s, "activity": a, "requests": n, "bytes": int(b)} for s, a, n, b in session.execute(q)]


def done_totals(session: Session) -> list[dict[str, Any]]:
    """All-time files and bytes copied per activity: Prometheus counters."""
    if TRANSFER_HISTORY is None:
        return []
    h = TRANSFER_HISTORY.c
    q = (sa.select(h.activity, h.outcome, sa.func.count(), sa.func.coalesce(sa.func.sum(h.bytes), 0))
         .group_by(h.activity, h.outcome))
    return [{"activity": a, "outcome": o, "attempts": n, "bytes": int(b)} for a, o, n, b in session.execute(q)]


def links(session: Session) -> list[dict[str, Any]]:
    """Every link that has an optimizer state or active copies: actives against its window."""
    if TRANSFER_REQUESTS is None or TRANSFER_LINKS is None:
        return []
    r = TRANSFER_REQUESTS.c
    names = rse_names(session)
    active: dict[tuple[int, int], int] = defaultdict(int)
    for src, dst, n in session.execute(sa.select(r.source_rse_id, r.dest_rse_id, sa.func.count())
                                       .where(r.state == SUBMITTED).group_by(r.source_rse_id, r.dest_rse_id)):
        active[(src, dst)] = n
    queued = dict(session.execute(sa.select(r.dest_rse_id, sa.func.count()).where(r.state == QUEUED)
                                  .group_by(r.dest_rse_id)).all())
    state = {(row.source_rse_id, row.dest_rse_id): row for row in session.execute(sa.select(TRANSFER_LINKS))}
    out = []
    for key in sorted(set(active) | set(state), key=lambda k: (names.get(k[0], ""), names.get(k[1], ""))):
        link = state.get(key)
        out.append({
            "source": names.get(key[0], str(key[0])), "destination": names.get(key[1], str(key[1])),
            "active": active.get(key, 0), "queued_to_destination": queued.get(key[1], 0),
            "window": link.active_limit if link else None,
            "min_active": link.min_active if link else None, "max_active": link.max_active if link else None,
            "throughput": link.ema_throughput if link else None,
            "success_rate": link.success_rate if link else None,
            "decision": link.decision if link else "",
            "decided_at": link.decided_at.isoformat() if link and link.decided_at else None,
        })
    return out


def recent_failures(session: Session, limit: int) -> list[dict[str, Any]]:
    if TRANSFER_HISTORY is None:
        return []
    h = TRANSFER_HISTORY.c
    names = rse_names(session)
    q = sa.select(TRANSFER_HISTORY).where(h.outcome == FAILED).order_by(h.finished_at.desc()).limit(limit)
    return [{"scope": row.scope, "name": row.name, "source": names.get(row.source_rse_id),
             "destination": names.get(row.dest_rse_id), "activity": row.activity, "attempt": row.attempt,
             "error": row.error or "", "finished_at": row.finished_at.isoformat()}
            for row in session.execute(q)]
