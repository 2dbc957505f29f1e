from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onegrid.clock import ManualClock, SystemClock, utc


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    t0 = clock.time()
    assert clock.time() == t0
    clock.advance(90)
    assert clock.time() == t0 + 90
    clock.sleep(10)  # sleeping on a virtual clock advances it instead of blocking
    assert clock.now() == datetime(2026, 3, 1, 0, 1, 40, tzinfo=UTC)


def test_manual_clock_refuses_naive_start() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 3, 1))


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC


def test_utc_attaches_zone_to_naive_values() -> None:
    assert utc(datetime(2026, 1, 1)).tzinfo is UTC
