"""The link optimizer follows FTS3's rules and never leaves its bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from onegrid.transfers.optimizer import Bounds, LinkSample, decide, link_bounds, window_seconds

W = 300.0


def test_good_success_and_rising_throughput_adds_one() -> None:
    d = decide(4, 1000.0, LinkSample(successes=50, bytes=50 * 300_000, active=4, queued=100), Bounds(), window=W)
    assert d.active_limit == 5 and "+1" in d.reason


def test_aggressive_mode_adds_two() -> None:
    d = decide(4, None, LinkSample(successes=10, bytes=10, active=4, queued=100), Bounds(), window=W, aggressive=True)
    assert d.active_limit == 6


def test_low_success_rate_removes_one() -> None:
    d = decide(10, 1000.0, LinkSample(successes=90, failures=10, bytes=10**9, active=10, queued=100), Bounds(), window=W)
    assert d.active_limit == 9 and "success rate" in d.reason


def test_falling_throughput_removes_one() -> None:
    d = decide(10, 10_000.0, LinkSample(successes=10, bytes=W * 100, active=10, queued=100), Bounds(), window=W)
    assert d.active_limit == 9 and "throughput down" in d.reason
    assert d.ema_throughput is not None and 9000 < d.ema_throughput < 10_000  # EMA with alpha 0.1


def test_never_above_the_files_to_move_nor_under_the_floor() -> None:
    d = decide(10, None, LinkSample(successes=10, bytes=10, active=1, queued=2), Bounds(2, 60), window=W)
    assert d.active_limit == 3
    d = decide(2, None, LinkSample(successes=0, failures=10, active=0, queued=0), Bounds(2, 60), window=W)
    assert d.active_limit == 2


def test_idle_link_keeps_its_limit() -> None:
    d = decide(12, 1000.0, LinkSample(successes=5, failures=5), Bounds(2, 60), window=W)
    assert d.active_limit == 12 and d.reason.startswith("idle")


def test_storage_limit_caps_the_link() -> None:
    assert link_bounds(None, None, 5, None) == Bounds(2, 5)
    assert link_bounds(3, 100, None, 1) == Bounds(1, 1)
    assert link_bounds(None, 8, 20, 30) == Bounds(2, 8)


def test_window_follows_mean_duration() -> None:
    assert window_seconds(None) == 300 and window_seconds(5) == 300
    assert window_seconds(60) == 900 and window_seconds(3600) == 1800


@given(
    current=st.one_of(st.none(), st.integers(0, 200)),
    ema=st.one_of(st.none(), st.floats(0, 1e12)),
    successes=st.integers(0, 1000), failures=st.integers(0, 1000), size=st.integers(0, 10**13),
    active=st.integers(0, 500), queued=st.integers(0, 10**6),
    lo=st.integers(1, 100), hi=st.integers(1, 100), aggressive=st.booleans(),
)
def test_limit_stays_within_bounds_and_moves_by_small_steps(current, ema, successes, failures, size, active, queued,
                                                            lo, hi, aggressive) -> None:  # type: ignore[no-untyped-def]
    bounds = link_bounds(lo, hi, None, None)
    sample = LinkSample(successes=successes, failures=failures, bytes=size, active=active, queued=queued)
    d = decide(current, ema, sample, bounds, window=W, aggressive=aggressive)
    assert bounds.min_active <= d.active_limit <= bounds.max_active
    if active + queued:
        assert d.active_limit <= max(bounds.min_active, active + queued)
    else:  # an idle link keeps its limit (within bounds)
        start = bounds.min_active if current is None else current
        assert d.active_limit == max(bounds.min_active, min(bounds.max_active, start))
    start = bounds.min_active if current is None else current
    if bounds.min_active <= start <= min(bounds.max_active, max(bounds.min_active, active + queued)):
        assert abs(d.active_limit - start) <= 2
