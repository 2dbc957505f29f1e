"""Direct transfer jobs (FTS3's `POST /jobs`): submit, look at, cancel; and the read-only
views of requests and links the API and the CLI show."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import rses as rse_ops
from onegrid.catalog.tables import RSE
from onegrid.clock import Clock
from onegrid.errors import InvalidInput, NotFound
from onegrid.transfers import links, service
from onegrid.transfers.models import FTS_FILE_STATE, JobSubmit
from onegrid.transfers.tables import RequestState, TransferHistory, TransferJob, TransferLink, TransferRequest

T = TransferRequest
MAX_LIST = 10_000


def submit_job(session: Session, clock: Clock, account: str, job: JobSubmit) -> str:
    params = job.params
    verify = params.verify_checksum not in (False, "none", "false", "False")
    job_id = str(uuid.uuid4())
    names = {f.destination_rse for f in job.files if f.destination_rse}
    ids = rse_ops.rse_ids(session, names) if names else {}
    requests = []
    for f in job.files:
        sums = f.checksums()
        common: dict[str, Any] = {
            "bytes": f.filesize, "adler32": sums.get("adler32"), "md5": sums.get("md5"), "job_id": job_id,
            "activity": f.activity or params.activity, "priority": params.priority, "retry_limit": params.retry,
            "overwrite": params.overwrite, "verify_checksum": verify}
        if f.did:
            scope, _, name = f.did.partition(":")
            requests.append(service.NewRequest(scope=scope, name=name, dest_rse_id=ids[str(f.destination_rse)],
                                               **common))
        else:
            dest = f.destinations[0]
            name = dest.rstrip("/").rsplit("/", 1)[-1] or dest
            requests.append(service.NewRequest(scope="", name=name[:255], dest_rse_id=None, source_urls=f.sources,
                                               dest_url=dest, **common))
    session.add(TransferJob(id=job_id, account=account, params=params.model_dump(mode="json"),
                            created_at=clock.now()))
    service.queue_requests(session, clock, requests)
    return job_id


def _job(session: Session, job_id: str) -> TransferJob:
    job = session.get(TransferJob, job_id)
    if job is None:
        raise NotFound(f"transfer job {job_id} not found")
    return job


def job_state(states: list[str]) -> str:
    """FTS3's job state from its files' states."""
    if not states:
        return "FINISHED"
    if any(s in ("QUEUED", "STAGING", "SUBMITTED") for s in states):
        return "ACTIVE" if any(s in ("SUBMITTED", "DONE", "FAILED") for s in states) else "SUBMITTED"
    if all(s == "DONE" for s in states):
        return "FINISHED"
    if all(s == "CANCELLED" for s in states):
        return "CANCELED"
    if any(s == "DONE" for s in states):
        return "FINISHEDDIRTY"
    return "FAILED"


def request_view(r: TransferRequest, names: dict[int, str]) -> dict[str, Any]:
    return {
        "file_id": r.id, "job_id": r.job_id, "rule_id": r.rule_id, "scope": r.scope, "name": r.name,
        "source_se": names.get(r.source_rse_id) if r.source_rse_id else None,
        "dest_se": names.get(r.dest_rse_id) if r.dest_rse_id else None,
        "source_surl": (r.source_urls or [None])[0], "dest_surl": r.dest_url,
        "state": r.state, "file_state": FTS_FILE_STATE.get(r.state, r.state), "reason": r.last_error or "",
        "activity": r.activity, "priority": r.priority, "attempts": r.attempts, "retry_limit": r.retry_limit,
        "filesize": r.bytes, "bytes_transferred": r.bytes_transferred, "checksum": r.adler32 and f"ADLER32:{r.adler32}",
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
        "finished_at": r.finished_at.isoformat() if r.finished_at else None,
    }


def _names(session: Session) -> dict[int, str]:
    return {rse_id: name for rse_id, name in session.execute(sa.select(RSE.id, RSE.name))}


def job_status(session: Session, job_id: str) -> dict[str, Any]:
    job = _job(session, job_id)
    names = _names(session)
    files = [request_view(r, names) for r in session.scalars(sa.select(T).where(T.job_id == job_id).order_by(T.id))]
    return {"job_id": job.id, "job_state": job_state([f["state"] for f in files]), "user_dn": job.account,
            "account": job.account, "submit_time": job.created_at.isoformat(), "params": job.params,
            "priority": job.params.get("priority", 3), "files": files}


def cancel_job(session: Session, clock: Clock, job_id: str) -> dict[str, Any]:
    _job(session, job_id)
    ids = list(session.scalars(sa.select(T.id).where(T.job_id == job_id)))
    service.cancel_requests(session, ids, clock)
    return job_status(session, job_id)


def _link_of(session: Session, text: str) -> tuple[int, int]:
    src, sep, dst = text.partition("__")
    if not sep:
        raise InvalidInput(f"link {text!r}: write SOURCE__DESTINATION (two underscores)")
    ids = rse_ops.rse_ids(session, [src, dst])
    return ids[src], ids[dst]


def list_requests(session: Session, *, state: str | None = None, link: str | None = None,
                  rule_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    q = sa.select(T).order_by(T.id.desc()).limit(min(max(limit, 1), MAX_LIST))
    if state:
        wanted = [s.strip().upper() for s in state.split(",")]
        unknown = [s for s in wanted if s not in RequestState.__members__]
        if unknown:
            raise InvalidInput(f"unknown request state {unknown[0]} (one of {', '.join(RequestState)})")
        q = q.where(T.state.in_(wanted))
    if link:
        src, dst = _link_of(session, link)
        q = q.where(T.source_rse_id == src, T.dest_rse_id == dst)
    if rule_id:
        q = q.where(T.rule_id == rule_id)
    names = _names(session)
    return [request_view(r, names) for r in session.scalars(q)]


def links_view(session: Session, clock: Clock, initial: int) -> list[dict[str, Any]]:
    """Every link with a state row, recent history or requests: limits, running, optimizer view."""
    names = _names(session)
    limits = links.load_limits(session)
    flight = links.running(session, clock.now())
    queued: dict[tuple[int, int], int] = {}
    for s, d, n in session.execute(sa.select(T.source_rse_id, T.dest_rse_id, sa.func.count())
                                   .where(T.state == RequestState.QUEUED.value, T.source_rse_id.is_not(None))
                                   .group_by(T.source_rse_id, T.dest_rse_id)):
        queued[(s, d)] = int(n)
    rows = {(r.source_rse_id, r.dest_rse_id): r for r in session.scalars(sa.select(TransferLink))}
    h = TransferHistory
    recent = {(s, d) for s, d in session.execute(
        sa.select(h.source_rse_id, h.dest_rse_id).distinct()
        .where(h.finished_at >= clock.now() - timedelta(hours=1), h.source_rse_id.is_not(None),
               h.dest_rse_id.is_not(None)))}
    out = []
    for link in sorted(set(rows) | set(flight) | set(queued) | recent):
        r = rows.get(link)
        b = limits.bounds_of(link)
        out.append({
            "source": names.get(link[0], str(link[0])), "destination": names.get(link[1], str(link[1])),
            "active_limit": limits.limit(link, initial), "active": flight.get(link, 0), "queued": queued.get(link, 0),
            "min_active": b.min_active, "max_active": b.max_active,
            "throughput_ema": r.ema_throughput if r else None, "success_rate": r.success_rate if r else None,
            "decision": r.decision if r else "", "decided_at": r.decided_at.isoformat() if r and r.decided_at else None})
    return out
