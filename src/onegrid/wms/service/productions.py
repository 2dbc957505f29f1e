"""Productions: submit (split into jobs), status, stop, resume, extend."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, Conflict, NotFound
from onegrid.wms import production as prod
from onegrid.wms import taskqueue
from onegrid.wms.service.common import description_of
from onegrid.wms.service.jobs import counts_by_status, submit
from onegrid.wms.settings import WmsSettings
from onegrid.wms.status import JobStatus, ProductionStatus
from onegrid.wms.tables import Job, Production, TaskQueueJob


class ProductionNotFound(NotFound):
    code = "PRODUCTION_NOT_FOUND"


def create(session: Session, clock: Clock, defn: prod.ProductionDefinition, *, owner: str,
           settings: WmsSettings) -> dict[str, Any]:
    if session.scalar(sa.select(Production.id).where(Production.name == defn.name)) is not None:
        raise AlreadyExists(f"production {defn.name} exists; use 'onegrid production extend'")
    now = clock.now()
    release = defn.release or settings.default_release
    row = Production(name=defn.name, production_group=defn.group, status=ProductionStatus.ACTIVE.value,
                     release=release, definition=defn.model_dump_json(by_alias=True), owner=owner,
                     events_total=sum(e for s in defn.run_events.values() for e in s.values()),
                     created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    jobs = prod.split(defn, release=release, production_id=row.id)
    ids = submit(session, clock, jobs, owner=owner, owner_group=f"/belle/production/{defn.group}",
                 settings=settings, production_id=row.id, source="ProductionManager")
    return {"production_id": row.id, "name": row.name, "jobs": ids}


def get(session: Session, ref: str) -> Production:
    q = sa.select(Production).where(Production.id == int(ref)) if ref.isdigit() else \
        sa.select(Production).where(Production.name == ref)
    row = session.scalars(q).first()
    if row is None:
        raise ProductionNotFound(f"production {ref} does not exist")
    return row


def status(session: Session, ref: str) -> dict[str, Any]:
    row = get(session, ref)
    counts = counts_by_status(session, production_id=row.id)
    if row.status == ProductionStatus.ACTIVE.value and counts and set(counts) == {JobStatus.DONE.value}:
        row.status = ProductionStatus.COMPLETED.value  # every job Done: nothing left to run
    done = session.scalars(sa.select(Job).where(Job.production_id == row.id, Job.status == JobStatus.DONE.value))
    events_done, outputs = 0, []
    for job in done:
        events_done += prod.events_of(description_of(job))
        outputs += json.loads(job.outputs or "[]")
    return {"production_id": row.id, "name": row.name, "group": row.production_group, "status": row.status,
            "release": row.release, "jobs": counts, "jobs_total": sum(counts.values()),
            "events_total": row.events_total, "events_done": events_done,
            "output_path": f"/belle/MC/{row.release}/{row.name}",
            "output_datasets": prod.output_datasets(prod.ProductionDefinition.model_validate_json(row.definition),
                                                    row.release),
            "outputs": outputs}


def stop(session: Session, clock: Clock, ref: str) -> dict[str, Any]:
    row = get(session, ref)
    if row.status != ProductionStatus.ACTIVE.value:
        raise Conflict(f"production {row.name} is {row.status}")
    row.status, row.updated_at = ProductionStatus.STOPPED.value, clock.now()
    waiting = list(session.scalars(sa.select(Job.id).where(Job.production_id == row.id,
                                                           Job.status == JobStatus.WAITING.value)))
    taskqueue.dequeue(session, waiting)
    session.execute(sa.update(Job).where(Job.id.in_(waiting)).values(minor_status="Production stopped"))
    return {"production_id": row.id, "status": row.status, "held": len(waiting)}


def resume(session: Session, clock: Clock, ref: str) -> dict[str, Any]:
    row = get(session, ref)
    if row.status != ProductionStatus.STOPPED.value:
        raise Conflict(f"production {row.name} is {row.status}, not Stopped")
    row.status, row.updated_at = ProductionStatus.ACTIVE.value, clock.now()
    held = list(session.execute(
        sa.select(Job.id, Job.task_queue_id, Job.priority).where(
            Job.production_id == row.id, Job.status == JobStatus.WAITING.value,
            ~sa.exists().where(TaskQueueJob.job_id == Job.id))))
    entries = [(j, tq, p) for j, tq, p in held if tq is not None]
    taskqueue.enqueue(session, entries)
    taskqueue.cache_for(session.get_bind().engine).mark_nonempty([tq for _, tq, _ in entries])  # type: ignore[union-attr]
    session.execute(sa.update(Job).where(Job.id.in_([e[0] for e in entries])).values(
        minor_status="Pilot Agent Submission"))
    return {"production_id": row.id, "status": row.status, "released": len(entries)}


def extend(session: Session, clock: Clock, ref: str, run_events: dict[int, dict[int, int]], *,
           settings: WmsSettings, owner: str) -> dict[str, Any]:
    row = get(session, ref)
    defn = prod.ProductionDefinition.model_validate_json(row.definition)
    already: dict[tuple[int, int], int] = {}
    for r, streams in defn.run_events.items():
        for s, n in streams.items():
            already[(r, s)] = n
    extra = prod.ProductionDefinition.model_validate({**json.loads(row.definition), "RunEvents": run_events})
    jobs = prod.split(extra, release=row.release, production_id=row.id, start_after=already)
    for r, streams in run_events.items():
        for s, n in streams.items():
            defn.run_events.setdefault(r, {})[s] = defn.run_events.get(r, {}).get(s, 0) + n
    row.definition = defn.model_dump_json(by_alias=True)
    row.events_total += sum(n for streams in run_events.values() for n in streams.values())
    row.updated_at = clock.now()
    ids = submit(session, clock, jobs, owner=owner, owner_group=f"/belle/production/{row.production_group}",
                 settings=settings, production_id=row.id, source="ProductionManager")
    if row.status == ProductionStatus.STOPPED.value:
        taskqueue.dequeue(session, ids)
    return {"production_id": row.id, "jobs": ids}


def list_productions(session: Session) -> list[dict[str, Any]]:
    return [{"production_id": r.id, "name": r.name, "group": r.production_group, "status": r.status,
             "release": r.release, "events_total": r.events_total}
            for r in session.scalars(sa.select(Production).order_by(Production.id))]
