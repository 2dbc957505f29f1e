"""Routes pilots call: ask for a job, heartbeat, report status, parameters, sandboxes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from onegrid.deps import ClockDep, RuntimeDep, SessionDep
from onegrid.wms.authz import PilotCaller, Reader, Submitter
from onegrid.wms.models import Heartbeat, Resource, StatusUpdate
from onegrid.wms.service import jobs as jobs_svc
from onegrid.wms.service import matching, pilots, sandboxes
from onegrid.wms.tables import Pilot

router = APIRouter(prefix="/wms", tags=["wms"])


@router.post("/match")
async def match(resource: Resource, principal: PilotCaller, runtime: RuntimeDep) -> dict[str, Any]:
    """The best job for this pilot, or `{"job": null}` (atomic across server replicas).
    One thread hop for the whole transaction: this is the busiest route of the WMS."""
    from starlette.concurrency import run_in_threadpool

    def work() -> dict[str, Any]:
        with runtime.transaction() as session:
            found = matching.match(session, runtime.clock, runtime.rng, resource, settings=runtime.settings.wms,
                                   source=f"Matcher@{principal.account}"[:64])
        return {"job": found.as_dict() if found else None}

    return await run_in_threadpool(work)


@router.post("/jobs/{job_id}/heartbeat")
def heartbeat(job_id: int, hb: Heartbeat, principal: PilotCaller, session: SessionDep, clock: ClockDep,
              pilot_id: str | None = None) -> dict[str, Any]:
    return pilots.heartbeat(session, clock, job_id, pilot_id, hb)


@router.post("/jobs/{job_id}/status")
def status(job_id: int, update: StatusUpdate, principal: PilotCaller, session: SessionDep, clock: ClockDep,
           pilot_id: str | None = None) -> dict[str, Any]:
    return pilots.report(session, clock, job_id, pilot_id, update)


@router.post("/jobs/{job_id}/parameters")
def set_parameters(job_id: int, params: dict[str, Any], principal: PilotCaller, session: SessionDep) -> dict[str, int]:
    jobs_svc.set_parameters(session, job_id, params)
    return {"set": len(params)}


@router.post("/pilots/{pilot_id}/finished")
def pilot_finished(pilot_id: str, principal: PilotCaller, session: SessionDep, clock: ClockDep,
                   failed: bool = False) -> dict[str, str]:
    pilots.pilot_finished(session, clock, pilot_id, failed=failed)
    return {"pilot_id": pilot_id}


@router.get("/pilots")
def list_pilots(principal: Reader, session: SessionDep) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    rows = session.scalars(sa.select(Pilot).order_by(Pilot.submitted_at.desc()).limit(1000))
    return [{"pilot_id": p.id, "queue": p.queue, "site": p.site, "backend": p.backend, "status": p.status,
             "backend_ref": p.backend_ref, "submitted_at": p.submitted_at.isoformat(),
             "last_seen_at": p.last_seen_at.isoformat() if p.last_seen_at else None,
             "jobs_matched": p.jobs_matched} for p in rows]


@router.post("/sandboxes", status_code=201)
async def upload_sandbox(request: Request, principal: Submitter, runtime: RuntimeDep) -> dict[str, str]:
    """Store a sandbox tarball; answers `SB:<sha256>` (the same bytes are stored once)."""
    content = await request.body()
    from starlette.concurrency import run_in_threadpool

    def work() -> str:
        with runtime.transaction() as session:
            return sandboxes.store(session, runtime.clock, content, owner=principal.account,
                                   settings=runtime.settings.wms)

    return {"sandbox": "SB:" + await run_in_threadpool(work)}


@router.post("/pilot-sandboxes", status_code=201)
async def upload_output_sandbox(request: Request, principal: PilotCaller, runtime: RuntimeDep) -> dict[str, str]:
    """The same store, for pilots uploading output sandboxes."""
    content = await request.body()
    from starlette.concurrency import run_in_threadpool

    def work() -> str:
        with runtime.transaction() as session:
            return sandboxes.store(session, runtime.clock, content, owner=principal.account,
                                   settings=runtime.settings.wms)

    return {"sandbox": "SB:" + await run_in_threadpool(work)}


@router.get("/sandboxes/{digest}")
def download_sandbox(digest: str, principal: Reader, session: SessionDep, clock: ClockDep) -> Response:
    return Response(sandboxes.fetch(session, clock, digest), media_type="application/x-tar")
