"""Routes for data-driven transformations: create, list, status, stop, resume."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter

from onegrid.deps import ClockDep, SessionDep
from onegrid.wms.authz import Modifier, Reader, Submitter, owner_group_of
from onegrid.wms.service import transformations as svc
from onegrid.wms.status import ProductionStatus
from onegrid.wms.tables import Transformation

router = APIRouter(prefix="/wms", tags=["wms"])


@router.post("/transformations", status_code=201)
def create(spec: svc.TransformationCreate, principal: Submitter, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.create(session, clock, spec, owner=principal.account, owner_group=owner_group_of(principal))


@router.get("/transformations")
def list_all(principal: Reader, session: SessionDep) -> list[dict[str, Any]]:
    return [{"transformation_id": t.id, "name": t.name, "status": t.status, "scope": t.scope, "query": t.query,
             "files_per_job": t.files_per_job}
            for t in session.scalars(sa.select(Transformation).order_by(Transformation.id))]


@router.get("/transformations/{ref}")
def status(ref: str, principal: Reader, session: SessionDep) -> dict[str, Any]:
    return svc.status(session, ref)


@router.post("/transformations/{ref}/stop")
def stop(ref: str, principal: Modifier, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.set_status(session, clock, ref, ProductionStatus.STOPPED)


@router.post("/transformations/{ref}/resume")
def resume(ref: str, principal: Modifier, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return svc.set_status(session, clock, ref, ProductionStatus.ACTIVE)
