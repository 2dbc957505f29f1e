"""The site mask and the compute queues the operator declares."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import NotFound
from onegrid.wms.models import ComputeQueue
from onegrid.wms.tables import ComputeQueueRow, Site


def set_banned(session: Session, clock: Clock, site: str, *, banned: bool, reason: str, by: str) -> dict[str, Any]:
    row = session.get(Site, site)
    now = clock.now()
    if row is None:
        row = Site(name=site, banned=banned, reason=reason, changed_by=by, changed_at=now)
        session.add(row)
    else:
        row.banned, row.reason, row.changed_by, row.changed_at = banned, reason, by, now
    session.flush()
    from onegrid.wms import taskqueue

    taskqueue.cache_for(session.get_bind().engine).invalidate()  # type: ignore[union-attr]
    return site_dict(row)


def site_dict(row: Site) -> dict[str, Any]:
    return {"site": row.name, "status": "Banned" if row.banned else "Active", "reason": row.reason,
            "changed_by": row.changed_by, "changed_at": row.changed_at.isoformat()}


def list_sites(session: Session) -> list[dict[str, Any]]:
    """Every site known from the mask or from a compute queue."""
    rows = {r.name: site_dict(r) for r in session.scalars(sa.select(Site))}
    for name in session.scalars(sa.select(ComputeQueueRow.site).distinct()):
        rows.setdefault(name, {"site": name, "status": "Active", "reason": "", "changed_by": "", "changed_at": None})
    return [rows[k] for k in sorted(rows)]


def banned_sites(session: Session) -> set[str]:
    return set(session.scalars(sa.select(Site.name).where(Site.banned.is_(True))))


def put_queue(session: Session, clock: Clock, q: ComputeQueue) -> ComputeQueue:
    row = session.get(ComputeQueueRow, q.name)
    values = {"site": q.site, "platform": q.platform.upper(),
              "container_platforms": json.dumps([p.upper() for p in q.container_platforms]),
              "tags": json.dumps(q.tags), "cores": q.cores, "ram_mb": q.ram_mb, "backend": q.backend,
              "max_pilots": q.max_pilots, "options": json.dumps(q.options)}
    if row is None:
        session.add(ComputeQueueRow(name=q.name, created_at=clock.now(), **values))
    else:
        for k, v in values.items():
            setattr(row, k, v)
    return q


def queue_model(row: ComputeQueueRow) -> ComputeQueue:
    return ComputeQueue(name=row.name, site=row.site, platform=row.platform,
                        container_platforms=json.loads(row.container_platforms), tags=json.loads(row.tags),
                        cores=row.cores, ram_mb=row.ram_mb, backend=row.backend, max_pilots=row.max_pilots,
                        options=json.loads(row.options))


def list_queues(session: Session) -> list[ComputeQueue]:
    return [queue_model(r) for r in session.scalars(sa.select(ComputeQueueRow).order_by(ComputeQueueRow.name))]


def delete_queue(session: Session, name: str) -> None:
    row = session.get(ComputeQueueRow, name)
    if row is None:
        raise NotFound(f"compute queue {name} does not exist")
    session.delete(row)
