"""The request queue shared by the judge, the conveyor and the rules' finisher, on real databases."""

from __future__ import annotations

import sqlalchemy as sa

from onegrid.transfers import service
from onegrid.transfers.service import NewRequest
from onegrid.transfers.tables import RequestState, TransferRequest


def _req(name: str, dest: int = 1, rule: str | None = "r1") -> NewRequest:
    return NewRequest(scope="belle", name=name, dest_rse_id=dest, bytes=10, adler32="00000001", rule_id=rule)


def test_queue_returns_ids_in_order_and_deduplicates_active_requests(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    with runtime.transaction() as s:
        first = service.queue_requests(s, clock, [_req("a"), _req("b"), _req("a", dest=2)])
    assert len(set(first)) == 3
    with runtime.transaction() as s:
        again = service.queue_requests(s, clock, [_req("b"), _req("c"), _req("c")])
    assert again[0] == first[1]
    assert again[1] == again[2] and again[1] not in first
    with runtime.reading() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(TransferRequest)) == 4


def test_bulk_queue_of_thousands_keeps_order(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    reqs = [_req(f"f{i:05d}") for i in range(1200)]
    with runtime.transaction() as s:
        ids = service.queue_requests(s, clock, reqs)
    with runtime.reading() as s:
        names = {row[0]: row[1] for row in s.execute(sa.select(TransferRequest.id, TransferRequest.name))}
    assert [names[i] for i in ids] == [r.name for r in reqs]


def test_finisher_sees_terminal_rule_requests_once(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    with runtime.transaction() as s:
        a, b, c = service.queue_requests(s, clock, [_req("a"), _req("b"), _req("c", rule=None)])
    with runtime.transaction() as s:
        assert service.cancel_requests(s, [a, c], clock) == 2
        assert service.cancel_requests(s, [a]) == 0  # already terminal
    with runtime.transaction() as s:
        done = service.finished_requests(s, 10)
        assert [(f.id, f.state) for f in done] == [(a, RequestState.CANCELLED)]
        service.mark_notified(s, [f.id for f in done])
    with runtime.transaction() as s:
        assert service.finished_requests(s, 10) == []
        # a cancelled request no longer blocks a new one for the same file
        (new,) = service.queue_requests(s, clock, [_req("a")])
        assert new not in (a, b, c)
