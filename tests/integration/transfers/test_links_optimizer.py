"""The optimizer's shell: link limits follow the history (FTS3 rules) on a virtual clock,
and the backoff of recoverable failures doubles up to its cap."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from onegrid.transfers import links, service
from onegrid.transfers.planning import backoff
from onegrid.transfers.settings import TransferSettings
from onegrid.transfers.tables import TransferHistory, TransferLink


def _history(runtime, clock, n: int, outcome: str, size: int, seconds_ago: float = 10) -> None:  # type: ignore[no-untyped-def]
    with runtime.transaction() as s:
        s.execute(sa.insert(TransferHistory), [
            {"request_id": i, "scope": "belle", "name": f"f{i}", "source_rse_id": 1, "dest_rse_id": 2,
             "activity": "default", "attempt": 1, "bytes": size, "duration": 1.0, "outcome": outcome,
             "finished_at": clock.now() - timedelta(seconds=seconds_ago)} for i in range(n)])


def _link(runtime) -> TransferLink:  # type: ignore[no-untyped-def]
    with runtime.reading() as s:
        row = s.get(TransferLink, (1, 2))
        assert row is not None
        s.expunge(row)
        return row


def _queue(runtime, clock, n: int = 100) -> None:  # type: ignore[no-untyped-def]
    with runtime.transaction() as s:
        service.queue_requests(s, clock, [service.NewRequest(scope="belle", name=f"q{i}", dest_rse_id=2)
                                          for i in range(n)])


def test_link_grows_while_healthy_and_shrinks_on_failures(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    _queue(runtime, clock)
    _history(runtime, clock, 50, "DONE", 10**6)
    with runtime.transaction() as s:
        assert links.tune_links(s, clock, initial=4) == 1
    first = _link(runtime)
    assert first.active_limit == 5 and first.success_rate == 1.0 and first.ema_throughput
    clock.advance(60)
    _history(runtime, clock, 60, "DONE", 10**6)  # more bytes in the window: throughput up
    with runtime.transaction() as s:
        links.tune_links(s, clock, initial=4)
    assert _link(runtime).active_limit == 6
    clock.advance(60)
    _history(runtime, clock, 40, "FAILED", 0)
    with runtime.transaction() as s:
        links.tune_links(s, clock, initial=4)
    row = _link(runtime)
    assert row.active_limit == 5 and "success rate" in row.decision


def test_operator_bounds_hold_the_optimizer(runtime, clock) -> None:  # type: ignore[no-untyped-def]
    _queue(runtime, clock)
    with runtime.transaction() as s:
        links.set_link_limits(s, (1, 2), min_active=2, max_active=3, initial=4)
    for _ in range(5):
        clock.advance(60)
        _history(runtime, clock, 50, "DONE", 10**6)
        with runtime.transaction() as s:
            links.tune_links(s, clock, initial=4)
    assert _link(runtime).active_limit == 3


def test_backoff_doubles_up_to_the_cap() -> None:
    s = TransferSettings(retry_delay=120, max_retry_delay=600)
    assert [backoff(s, a) for a in (1, 2, 3, 4, 5)] == [120, 240, 480, 600, 600]
