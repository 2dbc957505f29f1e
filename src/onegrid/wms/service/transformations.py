"""Data-driven transformations: files of the datasets matching a metadata query become
tasks of N files; later files are picked up; each file is processed once; a failed task's
files go back to Unused until `max_attempts`, then Problematic."""

from __future__ import annotations

import enum
import json
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, InvalidInput, NotFound
from onegrid.wms.models import JobDescription
from onegrid.wms.service.jobs import submit
from onegrid.wms.settings import WmsSettings
from onegrid.wms.status import JobStatus, ProductionStatus
from onegrid.wms.tables import Job, Transformation, TransformationFile


class FileStatus(enum.StrEnum):
    UNUSED = "Unused"
    ASSIGNED = "Assigned"
    PROCESSED = "Processed"
    PROBLEMATIC = "Problematic"


class TransformationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.\-]+$")
    scope: str = Field(min_length=1)
    query: str = Field(min_length=1, description="catalogue metadata filter, e.g. datatype=RAW,run_number>=1000")
    files_per_job: int = Field(1, ge=1, le=10_000)
    max_attempts: int = Field(3, ge=1, le=100)
    job: dict[str, Any] = Field(description="the job template (JDL attribute names), without InputData")


def create(session: Session, clock: Clock, spec: TransformationCreate, *, owner: str, owner_group: str) -> dict[str, Any]:
    if session.scalar(sa.select(Transformation.id).where(Transformation.name == spec.name)) is not None:
        raise AlreadyExists(f"transformation {spec.name} exists")
    if "InputData" in spec.job:
        raise InvalidInput("job.InputData: the transformation fills it in")
    from onegrid.catalog.meta_filter import parse_text

    parse_text(spec.query)
    template = JobDescription.model_validate({"JobType": "DataReprocessing", "JobGroup": spec.name, **spec.job})
    now = clock.now()
    row = Transformation(name=spec.name, owner=owner, owner_group=owner_group, status=ProductionStatus.ACTIVE.value,
                         scope=spec.scope, query=spec.query, files_per_job=spec.files_per_job,
                         max_attempts=spec.max_attempts, template=template.model_dump_json(by_alias=True,
                                                                                          exclude_defaults=True),
                         created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return {"transformation_id": row.id, "name": row.name}


def _matching_files(session: Session, t: Transformation) -> list[str]:
    from onegrid.catalog.did_query import search
    from onegrid.catalog.did_tree import list_files
    from onegrid.catalog.meta_filter import parse_text

    lfns: list[str] = []
    for name in list(search(session, t.scope, parse_text(t.query), did_type="dataset")):
        lfns += [f"{f['scope']}:{f['name']}" for f in list_files(session, t.scope, name)]
    return lfns


def cycle(session: Session, clock: Clock, settings: WmsSettings, t: Transformation) -> dict[str, int]:
    """One pass over one transformation: collect new files, account finished tasks, make new ones."""
    now = clock.now()
    did = {"new_files": 0, "processed": 0, "retried": 0, "problematic": 0, "tasks": 0}
    known = set(session.scalars(sa.select(TransformationFile.lfn).where(TransformationFile.transformation_id == t.id)))
    new = sorted(set(_matching_files(session, t)) - known)
    if new:
        session.execute(sa.insert(TransformationFile), [
            {"transformation_id": t.id, "lfn": lfn, "status": FileStatus.UNUSED.value, "attempts": 0,
             "updated_at": now} for lfn in new])
        did["new_files"] = len(new)
    finished = session.execute(
        sa.select(TransformationFile, Job.status).join(Job, Job.id == TransformationFile.job_id)
        .where(TransformationFile.transformation_id == t.id, TransformationFile.status == FileStatus.ASSIGNED.value,
               Job.status.in_([JobStatus.DONE.value, JobStatus.FAILED.value, JobStatus.KILLED.value,
                               JobStatus.DELETED.value])))
    for f, job_status in finished:
        f.updated_at = now
        if job_status == JobStatus.DONE.value:
            f.status = FileStatus.PROCESSED.value
            did["processed"] += 1
        elif f.attempts >= t.max_attempts:
            f.status = FileStatus.PROBLEMATIC.value
            did["problematic"] += 1
        else:
            f.status, f.job_id = FileStatus.UNUSED.value, None
            did["retried"] += 1
    session.flush()
    if t.status != ProductionStatus.ACTIVE.value:
        return did
    unused = list(session.scalars(sa.select(TransformationFile).where(
        TransformationFile.transformation_id == t.id, TransformationFile.status == FileStatus.UNUSED.value)
        .order_by(TransformationFile.lfn)))
    if not unused:
        return did
    base = json.loads(t.template)
    groups = [unused[i:i + t.files_per_job] for i in range(0, len(unused), t.files_per_job)]
    descs = [JobDescription.model_validate({**base, "InputData": [f.lfn for f in g]}) for g in groups]
    ids = submit(session, clock, descs, owner=t.owner, owner_group=t.owner_group, settings=settings,
                 source="TransformationAgent")
    for job_id, g in zip(ids, groups, strict=True):
        for f in g:
            f.status, f.job_id, f.attempts, f.updated_at = FileStatus.ASSIGNED.value, job_id, f.attempts + 1, now
    did["tasks"] = len(ids)
    return did


def get(session: Session, ref: str) -> Transformation:
    q = sa.select(Transformation).where(
        Transformation.id == int(ref) if ref.isdigit() else Transformation.name == ref)
    row = session.scalars(q).first()
    if row is None:
        raise NotFound(f"transformation {ref} does not exist")
    return row


def status(session: Session, ref: str) -> dict[str, Any]:
    t = get(session, ref)
    files = dict(session.execute(sa.select(TransformationFile.status, sa.func.count()).where(
        TransformationFile.transformation_id == t.id).group_by(TransformationFile.status)).all())
    jobs = dict(session.execute(sa.select(Job.status, sa.func.count()).where(Job.job_group == t.name).group_by(
        Job.status)).all())
    return {"transformation_id": t.id, "name": t.name, "status": t.status, "query": t.query, "scope": t.scope,
            "files_per_job": t.files_per_job, "files": files, "jobs": jobs}


def set_status(session: Session, clock: Clock, ref: str, status: ProductionStatus) -> dict[str, Any]:
    t = get(session, ref)
    t.status, t.updated_at = status.value, clock.now()
    return {"transformation_id": t.id, "status": t.status}


def all_ids(session: Session) -> list[int]:
    return list(session.scalars(sa.select(Transformation.id).order_by(Transformation.id)))


def claim(session: Session, transformation_id: int) -> Transformation | None:
    """Lock one transformation for this cycle (another optimizer copy skips it)."""
    q = sa.select(Transformation).where(Transformation.id == transformation_id)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return session.scalars(q).first()

