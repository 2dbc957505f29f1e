"""Routes for productions: submit the definition as written, status, stop, resume, extend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from onegrid.deps import ClockDep, RuntimeDep, SessionDep
from onegrid.wms.authz import Modifier, Reader, Submitter
from onegrid.wms.production import parse_definition
from onegrid.wms.service import productions as svc

router = APIRouter(prefix="/wms", tags=["wms"])


class Extension(BaseModel):
    RunEvents: dict[int, dict[int, int]]


@router.post("/productions", status_code=201)
async def submit(request: Request, principal: Submitter, runtime: RuntimeDep) -> dict[str, Any]:
    """The body is the definition as written (JSON; the seed's `...` lines are allowed)."""
    defn = parse_definition(await request.body())
    from starlette.concurrency import run_in_threadpool

    def work() -> dict[str, Any]:
        with runtime.transaction() as session:
            return svc.create(session, runtime.clock, defn, owner=principal.account, settings=runtime.settings.wms)

    return await run_in_threadpool(work)


@router.get("/productions")
def list_productions(principal: Reader, session: SessionDep) -> list[dict[str, Any]]:
    return svc.list_productions(session)


@router.get("/productions/{ref}")
def status(ref: str, principal: Reader, session: SessionDep) -> dict[str, Any]:
    return svc.status(session, ref)


@router.post("/productions/{ref}/stop")
def stop(ref: str, principal: Modifier, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.stop(session, clock, ref)


@router.post("/productions/{ref}/resume")
def resume(ref: str, principal: Modifier, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.resume(session, clock, ref)


@router.post("/productions/{ref}/extend")
def extend(ref: str, body: Extension, principal: Submitter, session: SessionDep, clock: ClockDep,
           runtime: RuntimeDep) -> dict[str, Any]:
    return svc.extend(session, clock, ref, body.RunEvents, settings=runtime.settings.wms, owner=principal.account)
