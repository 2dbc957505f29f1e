"""Routes for operators: the site mask, compute queues, accounting."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query

from onegrid.deps import ClockDep, SessionDep
from onegrid.errors import InvalidInput
from onegrid.wms.authz import Admin, Reader
from onegrid.wms.models import ComputeQueue, SiteBan
from onegrid.wms.service import sites as svc
from onegrid.wms.tables import AccountingRecord

router = APIRouter(prefix="/wms", tags=["wms"])


@router.get("/sites")
def list_sites(principal: Reader, session: SessionDep) -> list[dict[str, Any]]:
    return svc.list_sites(session)


@router.post("/sites/{site}/ban")
def ban(site: str, body: SiteBan, principal: Admin, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.set_banned(session, clock, site, banned=True, reason=body.reason, by=principal.account)


@router.post("/sites/{site}/allow")
def allow(site: str, body: SiteBan, principal: Admin, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.set_banned(session, clock, site, banned=False, reason=body.reason, by=principal.account)


@router.get("/queues")
def list_queues(principal: Reader, session: SessionDep) -> list[ComputeQueue]:
    return svc.list_queues(session)


@router.put("/queues/{name}")
def put_queue(name: str, queue: ComputeQueue, principal: Admin, session: SessionDep, clock: ClockDep) -> ComputeQueue:
    if queue.name != name:
        raise InvalidInput(f"queue name {queue.name!r} differs from the URL's {name!r}")
    return svc.put_queue(session, clock, queue)


@router.delete("/queues/{name}", status_code=204)
def delete_queue(name: str, principal: Admin, session: SessionDep) -> None:
    svc.delete_queue(session, name)


GROUPINGS = {"site": AccountingRecord.site, "queue": AccountingRecord.queue, "group": AccountingRecord.owner_group,
             "owner": AccountingRecord.owner, "activity": AccountingRecord.activity,
             "status": AccountingRecord.status}


@router.get("/accounting")
def accounting(principal: Reader, session: SessionDep, group_by: str = Query("site")) -> list[dict[str, Any]]:
    """CPU and wall time of finished jobs, summed per site, queue, group, owner, activity or status."""
    col = GROUPINGS.get(group_by)
    if col is None:
        raise InvalidInput(f"group_by: choose one of {', '.join(GROUPINGS)}")
    q = sa.select(col, sa.func.count(), sa.func.sum(AccountingRecord.cpu_seconds),
                  sa.func.sum(AccountingRecord.wall_seconds * AccountingRecord.processors)).group_by(col)
    return [{group_by: k, "jobs": n, "cpu_seconds": round(cpu or 0.0, 3), "core_wall_seconds": round(wall or 0.0, 3)}
            for k, n, cpu, wall in session.execute(q)]
