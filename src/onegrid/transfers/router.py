"""HTTP routes of onegrid.transfers, shaped like FTS3's REST API (SPECS §6).

Submitting and cancelling direct jobs and every operator setting need root: the conveyor
mints storage tokens for what it copies, so a direct job acts with the service's rights.
Reading jobs, requests and links needs any authenticated caller.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from onegrid.catalog import rses as rse_ops
from onegrid.deps import ClockDep, RuntimeDep, SessionDep
from onegrid.iam.deps import CurrentPrincipal, RootPrincipal
from onegrid.transfers import jobs, links
from onegrid.transfers.models import ActivityWeight, Distance, JobSubmit, LinkLimits, StorageLimits

router = APIRouter(prefix="/transfers", tags=["transfers"])


@router.post("/jobs", status_code=200)
def submit(body: JobSubmit, principal: RootPrincipal, session: SessionDep, clock: ClockDep) -> dict[str, str]:
    return {"job_id": jobs.submit_job(session, clock, principal.account, body)}


@router.get("/jobs/{job_id}")
def job(job_id: str, _p: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    return jobs.job_status(session, job_id)


@router.get("/jobs/{job_id}/files")
def job_files(job_id: str, _p: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    return list(jobs.job_status(session, job_id)["files"])


@router.delete("/jobs/{job_id}")
def cancel(job_id: str, _p: RootPrincipal, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return jobs.cancel_job(session, clock, job_id)


@router.get("/requests")
def requests(_p: CurrentPrincipal, session: SessionDep, state: str | None = None,
             link: str | None = Query(None, description="SOURCE__DESTINATION"), rule_id: str | None = None,
             limit: int = 1000) -> list[dict[str, Any]]:
    return jobs.list_requests(session, state=state, link=link, rule_id=rule_id, limit=limit)


@router.get("/links")
def link_list(_p: CurrentPrincipal, session: SessionDep, clock: ClockDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return jobs.links_view(session, clock, runtime.settings.transfers.initial_active)


@router.put("/links/{source}/{destination}")
def set_link(source: str, destination: str, body: LinkLimits, _p: RootPrincipal, session: SessionDep,
             runtime: RuntimeDep) -> dict[str, Any]:
    ids = rse_ops.rse_ids(session, [source, destination])
    row = links.set_link_limits(session, (ids[source], ids[destination]), min_active=body.min_active,
                                max_active=body.max_active, initial=runtime.settings.transfers.initial_active)
    return {"source": source, "destination": destination, "min_active": row.min_active,
            "max_active": row.max_active, "active_limit": row.active_limit}


@router.put("/storage-limits/{rse}")
def set_storage(rse: str, body: StorageLimits, _p: RootPrincipal, session: SessionDep) -> dict[str, Any]:
    links.set_storage_limits(session, rse_ops.get_rse(session, rse).id, max_reads=body.max_reads,
                             max_writes=body.max_writes)
    return {"rse": rse, **body.model_dump()}


@router.get("/activities")
def activities(_p: CurrentPrincipal, session: SessionDep) -> dict[str, float]:
    return links.load_limits(session).weights


@router.put("/activities/{activity}")
def set_activity(activity: str, body: ActivityWeight, _p: RootPrincipal, session: SessionDep) -> dict[str, Any]:
    links.set_activity_share(session, activity, body.weight)
    return {"activity": activity, "weight": body.weight}


@router.put("/distances/{source}/{destination}")
def set_distance(source: str, destination: str, body: Distance, _p: RootPrincipal,
                 session: SessionDep) -> dict[str, Any]:
    rse_ops.set_distance(session, source, destination, body.distance)
    return {"source": source, "destination": destination, "distance": body.distance}
