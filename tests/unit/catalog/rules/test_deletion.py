"""The reaper's choice: obsolete replicas always, greedy RSEs everything due, otherwise
least recently accessed first until the space is back, never more than the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from onegrid.catalog.rules.deletion import DeletionCandidate, bytes_needed, choose_victims

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cand(name: str, size: int = 10, *, tomb_days: float = 1, access_days: float = 5) -> DeletionCandidate:
    tomb = EPOCH if tomb_days is None else NOW - timedelta(days=tomb_days)
    return DeletionCandidate("s", name, size, tomb, NOW - timedelta(days=access_days))


def test_least_recently_accessed_go_first_until_the_target() -> None:
    cands = [cand("recent", access_days=1), cand("old", access_days=30), cand("middle", access_days=10)]
    chosen = choose_victims(cands, now=NOW, needed=15, greedy=False, limit=10)
    assert [c.name for c in chosen] == ["old", "middle"]


def test_nothing_goes_without_space_pressure_except_obsolete() -> None:
    obsolete = DeletionCandidate("s", "purged", 10, EPOCH, NOW)
    cands = [cand("a"), obsolete, cand("future", tomb_days=-1)]
    assert [c.name for c in choose_victims(cands, now=NOW, needed=0, greedy=False, limit=10)] == ["purged"]
    assert [c.name for c in choose_victims(cands, now=NOW, needed=0, greedy=True, limit=10)] == ["purged", "a"]


def test_bytes_needed() -> None:
    assert bytes_needed(100, 150) == 50 and bytes_needed(200, 150) == 0 and bytes_needed(None, 10) == 0


@given(st.lists(st.tuples(st.integers(1, 1000), st.floats(-3, 30), st.floats(0, 100)), max_size=40),
       st.integers(0, 20000), st.booleans(), st.integers(0, 50))
def test_never_more_than_the_limit_never_before_the_tombstone(items, needed, greedy, limit) -> None:
    cands = [cand(f"f{i}", size, tomb_days=t, access_days=a) for i, (size, t, a) in enumerate(items)]
    chosen = choose_victims(cands, now=NOW, needed=needed, greedy=greedy, limit=limit)
    assert len(chosen) <= limit
    assert all(c.tombstone <= NOW for c in chosen)
    assert len({c.name for c in chosen}) == len(chosen)
