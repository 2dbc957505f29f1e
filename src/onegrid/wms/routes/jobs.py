"""Routes for users' jobs: submit (JSON, JDL, bulk, parametric), read, kill, delete, reschedule."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from onegrid.deps import ClockDep, RuntimeDep, SessionDep
from onegrid.errors import Forbidden, InvalidInput
from onegrid.wms.authz import Canceller, Modifier, Reader, Submitter, owner_group_of, sees_all
from onegrid.wms.models import JobPublic
from onegrid.wms.service import jobs as svc
from onegrid.wms.service.common import get_job, public
from onegrid.wms.submission import descriptions_from

router = APIRouter(prefix="/wms", tags=["wms"])


class JobIds(BaseModel):
    job_ids: list[int] = Field(min_length=1, max_length=100_000)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("empty submission")
    ctype = request.headers.get("content-type", "")
    if "json" in ctype:
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"body is not JSON: {exc}") from exc
    return raw.decode()


@router.post("/jobs", status_code=201)
async def submit_jobs(request: Request, principal: Submitter, runtime: RuntimeDep) -> dict[str, list[int]]:
    """Submit one job, a list (bulk) or a JDL text (`Content-Type: text/plain`)."""
    body = await _body(request)
    settings = runtime.settings.wms
    descs = descriptions_from(body, limit=settings.max_jobs_per_submission)
    for d in descs:
        if d.owner_group and not principal.is_root and d.owner_group not in principal.groups:
            raise Forbidden(f"OwnerGroup: you are not in {d.owner_group}")
    from starlette.concurrency import run_in_threadpool

    def work() -> list[int]:
        with runtime.transaction() as session:
            return svc.submit(session, runtime.clock, descs, owner=principal.account,
                              owner_group=owner_group_of(principal), settings=settings)

    return {"job_ids": await run_in_threadpool(work)}


@router.get("/jobs")
def list_jobs(principal: Reader, session: SessionDep, status: list[str] = Query(default=[]),
              production: int | None = None, job_group: str | None = None, site: str | None = None,
              owner: str | None = None, limit: int = Query(1000, ge=1, le=100_000),
              after: int = 0) -> list[JobPublic]:
    if not sees_all(principal):
        owner = principal.account
    rows = svc.list_jobs(session, owner=owner, status=status, production_id=production, job_group=job_group,
                         site=site, limit=limit, after=after)
    return [public(j) for j in rows]


@router.get("/jobs/summary")
def summary(principal: Reader, session: SessionDep) -> dict[str, int]:
    return svc.counts_by_status(session)


def _readable(principal: Any, session: Any, job_id: int) -> Any:
    job = get_job(session, job_id)
    if not sees_all(principal) and job.owner != principal.account:
        raise Forbidden(f"job {job_id} belongs to {job.owner}")
    return job


@router.get("/jobs/{job_id}")
def get_one(job_id: int, principal: Reader, session: SessionDep) -> JobPublic:
    return public(_readable(principal, session, job_id))


@router.get("/jobs/{job_id}/description")
def description(job_id: int, principal: Reader, session: SessionDep) -> dict[str, Any]:
    return json.loads(_readable(principal, session, job_id).description)  # type: ignore[no-any-return]


@router.get("/jobs/{job_id}/logging")
def logging(job_id: int, principal: Reader, session: SessionDep) -> list[dict[str, Any]]:
    _readable(principal, session, job_id)
    return [{"status": r.status, "minor_status": r.minor_status, "application_status": r.application_status,
             "source": r.source, "at": r.at.isoformat()} for r in svc.logging_of(session, job_id)]


@router.get("/jobs/{job_id}/parameters")
def parameters(job_id: int, principal: Reader, session: SessionDep) -> dict[str, Any]:
    _readable(principal, session, job_id)
    return svc.parameters_of(session, job_id)


@router.post("/jobs/kill")
def kill(body: JobIds, principal: Canceller, session: SessionDep, clock: ClockDep) -> dict[int, str]:
    return svc.kill(session, clock, body.job_ids, account=principal.account, is_admin=principal.is_root)


@router.post("/jobs/delete")
def delete(body: JobIds, principal: Canceller, session: SessionDep, clock: ClockDep) -> dict[int, str]:
    return svc.delete(session, clock, body.job_ids, account=principal.account, is_admin=principal.is_root)


@router.post("/jobs/reschedule")
def reschedule(body: JobIds, principal: Modifier, session: SessionDep, clock: ClockDep,
               runtime: RuntimeDep) -> dict[int, str]:
    return svc.reschedule_by_user(session, clock, body.job_ids, account=principal.account,
                                  is_admin=principal.is_root, settings=runtime.settings.wms)
