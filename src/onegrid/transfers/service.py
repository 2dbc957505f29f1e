"""Transfer request operations: the contract between the rules engine and the conveyor.

Each function takes a `Session` (the caller owns the transaction) and, where it writes
times, a `Clock`.

Contract with the rules engine (`onegrid.catalog.rules`, which this package never imports):

- The judge creates locks and COPYING replicas in the catalogue and calls
  `queue_requests(session, clock, [NewRequest(...)])` in the same transaction. Requests are
  deduplicated by `(scope, name, dest_rse_id)` among active ones (QUEUED, STAGING,
  SUBMITTED): queueing a file that is already on its way returns the existing request id.
- The conveyor copies; on success it marks the destination replica AVAILABLE in the
  catalogue and leaves the request DONE; on a corrupt source it declares that source
  replica BAD and tries another; on terminal failure it leaves the request FAILED with
  `last_error`.
- The rules' finisher calls `finished_requests(session, limit)` (terminal requests with a
  `rule_id`, not yet notified), turns them into lock states, then
  `mark_notified(session, ids)`.
- `cancel_requests(session, ids, clock=None)` cancels active requests (a removed rule); a copy
  already running finishes, but its result is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk
from onegrid.clock import Clock
from onegrid.errors import InvalidInput
from onegrid.transfers.tables import ACTIVE_STATES, TERMINAL_STATES, RequestState, TransferRequest

_ACTIVE = [s.value for s in ACTIVE_STATES]
_TERMINAL = [s.value for s in TERMINAL_STATES]
# Parameters per statement stay well under SQLite's 32766 bound-variable limit.
_CHUNK = 500


@dataclass(frozen=True)
class NewRequest:
    """One file to bring to one RSE (from a rule) or to one URL (from a direct job)."""

    scope: str
    name: str
    dest_rse_id: int | None
    bytes: int | None = None
    adler32: str | None = None
    md5: str | None = None
    rule_id: str | None = None
    job_id: str | None = None
    activity: str = "default"
    priority: int = 3
    retry_limit: int = 3
    source_rse_expression: str | None = None
    source_urls: Sequence[str] = field(default_factory=tuple)
    dest_url: str | None = None
    overwrite: bool = True
    verify_checksum: bool = True


@dataclass(frozen=True)
class FinishedRequest:
    """A terminal request for the rules' finisher."""

    id: int
    rule_id: str
    scope: str
    name: str
    dest_rse_id: int | None
    state: RequestState
    last_error: str | None
    finished_at: datetime | None


def _chunks(items: Sequence[int], size: int = _CHUNK) -> list[Sequence[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _existing_active(session: Session, requests: Sequence[NewRequest]) -> dict[tuple[str, str, int | None], int]:
    """Active requests already queued for the same (scope, name, destination)."""
    found: dict[tuple[str, str, int | None], int] = {}
    keyed = [r for r in requests if r.dest_rse_id is not None]
    by_dest: dict[int, list[tuple[str, str]]] = {}
    for r in keyed:
        assert r.dest_rse_id is not None
        by_dest.setdefault(r.dest_rse_id, []).append((r.scope, r.name))
    t = TransferRequest
    for dest, pairs in by_dest.items():
        names = sorted({n for _s, n in pairs})
        for part in [names[i:i + _CHUNK] for i in range(0, len(names), _CHUNK)]:
            rows = session.execute(
                sa.select(t.id, t.scope, t.name).where(t.dest_rse_id == dest, t.name.in_(part), t.state.in_(_ACTIVE))
            )
            for rid, scope, name in rows:
                found[(scope, name, dest)] = rid
    return found


def _validate(r: NewRequest) -> None:
    if not 1 <= r.priority <= 5:
        raise InvalidInput(f"priority {r.priority} of {r.scope}:{r.name} is outside 1..5")
    if r.retry_limit < 0:
        raise InvalidInput(f"retry limit of {r.scope}:{r.name} must not be negative")
    if r.dest_rse_id is None and not r.dest_url:
        raise InvalidInput(f"{r.scope}:{r.name} needs a destination RSE or URL")


def queue_requests(session: Session, clock: Clock, requests: Sequence[NewRequest]) -> list[int]:
    """Queue many requests in one go; returns one id per request, in order (an existing
    active request's id when the same file is already on its way to that RSE)."""
    for r in requests:
        _validate(r)
    now = clock.now()
    existing = _existing_active(session, requests)
    ids: list[int | None] = []
    rows: list[dict[str, object]] = []
    positions: list[int] = []
    seen: dict[tuple[str, str, int | None], int] = {}
    for r in requests:
        key = (r.scope, r.name, r.dest_rse_id)
        if r.dest_rse_id is not None and key in existing:
            ids.append(existing[key])
            continue
        if r.dest_rse_id is not None and key in seen:
            ids.append(-1 - seen[key])  # resolved below to the id of the row queued first
            continue
        if r.dest_rse_id is not None:
            seen[key] = len(rows)
        positions.append(len(ids))
        ids.append(None)
        rows.append(_row(r, now))
    new_ids = _insert(session, rows)
    for pos, new_id in zip(positions, new_ids, strict=True):
        ids[pos] = new_id
    out: list[int] = []
    for value in ids:
        assert value is not None
        out.append(new_ids[-1 - value] if value < 0 else value)
    return out


def queue_new_requests(session: Session, clock: Clock, requests: Sequence[NewRequest]) -> int:
    """Queue requests known to be new (for replicas the caller has just created, so no
    active request can exist), without ids: one bulk insert (COPY on PostgreSQL), where
    `queue_requests` needs a lookup and an INSERT ... RETURNING. 10,000 files in a
    fraction of a second."""
    for r in requests:
        _validate(r)
    now = clock.now()
    bulk.insert_rows(session, TransferRequest.__table__, [_row(r, now) for r in requests])
    return len(requests)


def _row(r: NewRequest, now: datetime) -> dict[str, object]:
    """The table row of a new request (the one layout both ways of queueing write)."""
    return {
        "rule_id": r.rule_id, "job_id": r.job_id, "scope": r.scope, "name": r.name,
        "dest_rse_id": r.dest_rse_id, "source_rse_id": None, "source_rse_expression": r.source_rse_expression,
        "source_urls": list(r.source_urls) or None, "dest_url": r.dest_url, "activity": r.activity,
        "priority": r.priority, "bytes": r.bytes, "adler32": r.adler32, "md5": r.md5,
        "overwrite": r.overwrite, "verify_checksum": r.verify_checksum, "state": RequestState.QUEUED.value,
        "attempts": 0, "retry_limit": r.retry_limit, "next_attempt_at": now, "excluded_sources": None,
        "bytes_transferred": 0, "created_at": now, "updated_at": now, "notified": False,
    }


def _insert(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert rows and return their ids in order (RETURNING keeps order row by row)."""
    if not rows:
        return []
    table = TransferRequest.__table__
    out: list[int] = []
    for i in range(0, len(rows), _CHUNK):
        part = rows[i:i + _CHUNK]
        result = session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), part)
        out.extend(int(x) for x in result.scalars())
    return out


def cancel_requests(session: Session, ids: Sequence[int], clock: Clock | None = None) -> int:
    """Cancel the active ones among `ids`; returns how many were cancelled. With a clock,
    `updated_at`/`finished_at` are stamped too."""
    stamps = {} if clock is None else {"updated_at": clock.now(), "finished_at": clock.now()}
    done = 0
    for part in _chunks(list(ids)):
        result = session.execute(
            sa.update(TransferRequest)
            .where(TransferRequest.id.in_(part), TransferRequest.state.in_(_ACTIVE))
            .values(state=RequestState.CANCELLED.value, lease_owner=None, lease_expires=None, **stamps)
        )
        done += result.rowcount or 0  # type: ignore[attr-defined]
    return done


def finished_requests(session: Session, limit: int) -> list[FinishedRequest]:
    """Terminal requests of rules not yet seen by the rules' finisher, oldest first."""
    t = TransferRequest
    rows = session.execute(
        sa.select(t.id, t.rule_id, t.scope, t.name, t.dest_rse_id, t.state, t.last_error, t.finished_at)
        .where(t.notified.is_(False), t.state.in_(_TERMINAL), t.rule_id.is_not(None))
        .order_by(t.id)
        .limit(limit)
    )
    return [FinishedRequest(id=r.id, rule_id=r.rule_id, scope=r.scope, name=r.name, dest_rse_id=r.dest_rse_id,
                            state=RequestState(r.state), last_error=r.last_error, finished_at=r.finished_at)
            for r in rows]


def mark_notified(session: Session, ids: Sequence[int]) -> int:
    done = 0
    for part in _chunks(list(ids)):
        result = session.execute(sa.update(TransferRequest).where(TransferRequest.id.in_(part)).values(notified=True))
        done += result.rowcount or 0  # type: ignore[attr-defined]
    return done


def requests_of_rule(session: Session, rule_id: str) -> list[TransferRequest]:
    """All requests of one rule (for `rule-info` to show why a lock is stuck)."""
    return list(session.scalars(sa.select(TransferRequest).where(TransferRequest.rule_id == rule_id)
                                .order_by(TransferRequest.id)))
