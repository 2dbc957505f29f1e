"""The disk buffer's policy: migration after the delay, LRU eviction between watermarks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.storage.tape.buffer import (
    BufferFile,
    Locality,
    choose_evictions,
    disk_usage,
    due_for_migration,
    locality,
)


def f(
    path: str,
    size: int = 10,
    *,
    written: float = 0,
    accessed: float = 0,
    disk: bool = True,
    tape: bool = True,
    pinned: bool = False,
) -> BufferFile:
    return BufferFile(path, size, written, accessed, disk, tape, pinned)


def test_files_migrate_only_after_the_delay_oldest_first() -> None:
    files = [
        f("new", written=95, tape=False),
        f("old", written=10, tape=False),
        f("mid", written=50, tape=False),
        f("done", written=0, tape=True),
        f("gone", written=0, tape=False, disk=False),
    ]
    assert due_for_migration(files, now=100, delay=30) == ["old", "mid"]
    assert due_for_migration(files, now=100, delay=0) == ["old", "mid", "new"]


def test_nothing_is_evicted_below_the_high_watermark() -> None:
    files = [f("a", 45), f("b", 45)]
    assert choose_evictions(files, capacity=100, high_watermark=0.9, low_watermark=0.5) == []


def test_eviction_goes_least_recently_used_down_to_the_low_watermark() -> None:
    files = [f("a", 30, accessed=3), f("b", 30, accessed=1), f("c", 30, accessed=2), f("d", 5, accessed=0)]
    # 95 > 90: drop LRU until <= 50: d (90), b (60), c (30)
    assert choose_evictions(files, 100, 0.9, 0.5) == ["d", "b", "c"]


def test_unmigrated_and_pinned_files_are_never_evicted_even_when_full() -> None:
    files = [f("raw", 60, tape=False), f("pin", 30, pinned=True), f("ok", 10, accessed=5)]
    assert choose_evictions(files, 100, 0.5, 0.1) == ["ok"]


def test_localities() -> None:
    assert locality(known=False, on_disk=False, on_tape=False) is Locality.NONE
    assert locality(known=True, on_disk=True, on_tape=False) is Locality.DISK
    assert locality(known=True, on_disk=False, on_tape=True) is Locality.TAPE
    assert locality(known=True, on_disk=True, on_tape=True) is Locality.DISK_AND_TAPE
    assert locality(known=True, on_disk=False, on_tape=False, lost=True) is Locality.LOST
    assert locality(known=True, on_disk=False, on_tape=False) is Locality.UNAVAILABLE


files_st = st.lists(
    st.builds(
        BufferFile,
        path=st.text("abcdef", min_size=1, max_size=4),
        size=st.integers(0, 50),
        written_at=st.floats(0, 100),
        accessed_at=st.floats(0, 100),
        on_disk=st.booleans(),
        on_tape=st.booleans(),
        pinned=st.booleans(),
    ),
    max_size=25,
).map(lambda xs: list({x.path: x for x in xs}.values()))


@settings(max_examples=300, deadline=None)
@given(files=files_st, capacity=st.integers(1, 500), high=st.floats(0.05, 1), low_share=st.floats(0, 1))
def test_eviction_invariants(files: list[BufferFile], capacity: int, high: float, low_share: float) -> None:
    low = high * low_share
    chosen = choose_evictions(files, capacity, high, low)
    by_path = {x.path: x for x in files}
    assert len(set(chosen)) == len(chosen)
    for path in chosen:  # only migrated, unpinned disk copies
        x = by_path[path]
        assert x.on_disk and x.on_tape and not x.pinned
    used = disk_usage(files)
    if used <= high * capacity:
        assert chosen == []
        return
    after = used - sum(by_path[p].size for p in chosen)
    evictable = [x for x in files if x.on_disk and x.on_tape and not x.pinned]
    if len(chosen) < len(evictable):
        assert after <= low * capacity  # it stopped because it reached the target
    if chosen:  # and it did not evict one file more than needed
        assert after + by_path[chosen[-1]].size > low * capacity
    # least recently used first
    accessed = [(by_path[p].accessed_at, p) for p in chosen]
    rest = [(x.accessed_at, x.path) for x in evictable if x.path not in chosen]
    if accessed and rest:
        assert max(accessed) <= min(rest)
