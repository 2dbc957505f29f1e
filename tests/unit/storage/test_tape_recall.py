"""The recall scheduler: one mount per cartridge, tape order, the drives limit, timings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.storage.tape.recall import (
    Drive,
    RecallItem,
    Timing,
    after_mounts,
    plan_mount,
    plan_mounts,
    seek_seconds,
)

T = Timing(mount_latency=60.0, seek_time=40.0, throughput=100.0, files_per_tape=100)


def item(path: str, tape: str, position: int, size: int = 100, at: float = 0.0) -> RecallItem:
    return RecallItem(path, tape, position, size, at)


def test_several_requests_for_one_cartridge_cost_one_mount() -> None:
    pending = [item("a", "T1", 5, at=1), item("b", "T1", 2, at=2), item("c", "T1", 9, at=3)]
    mounts = plan_mounts(pending, [Drive(0), Drive(1)], now=10.0, timing=T)
    assert len(mounts) == 1
    (mount,) = mounts
    assert mount.tape == "T1" and mount.remounted
    assert [r.path for r in mount.reads] == ["b", "a", "c"]  # tape order, not request order


def test_completion_times_add_mount_latency_seeks_and_reads() -> None:
    mount = plan_mount(
        Drive(0), "T1", [item("a", "T1", 10, size=200), item("b", "T1", 30, size=50)], 100.0, T
    )
    first = 100.0 + 60.0 + 40.0 * 10 / 100 + 200 / 100.0
    second = first + 40.0 * 20 / 100 + 50 / 100.0
    assert [r.ready_at for r in mount.reads] == pytest.approx([first, second])
    assert mount.end == pytest.approx(second) and mount.head == 30


def test_a_file_wanted_by_two_requests_is_read_once() -> None:
    mount = plan_mount(Drive(0), "T1", [item("a", "T1", 3, at=5), item("a", "T1", 3, at=1)], 0.0, T)
    assert [r.path for r in mount.reads] == ["a"]


def test_the_cartridge_already_in_a_drive_is_not_mounted_again() -> None:
    drives = [Drive(0, tape="T2", head=40, free_at=5.0), Drive(1)]
    (mount,) = plan_mounts([item("x", "T2", 50, size=0)], drives, now=10.0, timing=T)
    assert mount.drive == 0 and not mount.remounted
    assert mount.reads[0].ready_at == pytest.approx(10.0 + seek_seconds(40, 50, T))


def test_a_cartridge_being_read_waits_for_its_drive() -> None:
    drives = [Drive(0, tape="T1", head=3, free_at=50.0), Drive(1)]
    mounts = plan_mounts([item("late", "T1", 7), item("other", "T2", 1)], drives, now=10.0, timing=T)
    assert [(m.drive, m.tape) for m in mounts] == [(1, "T2")]
    # once the drive is free, the waiting file is read from the cartridge still in it
    drives = after_mounts(drives, mounts)
    (later,) = plan_mounts([item("late", "T1", 7)], drives, now=50.0, timing=T)
    assert later.drive == 0 and not later.remounted


def test_no_more_mounts_than_drives_oldest_cartridge_first() -> None:
    pending = [item("a", "T3", 0, at=30), item("b", "T1", 0, at=10), item("c", "T2", 0, at=20)]
    mounts = plan_mounts(pending, [Drive(0), Drive(1)], now=40.0, timing=T)
    assert sorted(m.tape for m in mounts) == ["T1", "T2"]


def test_busy_drives_start_nothing() -> None:
    drives = [Drive(0, tape="T9", free_at=100.0)]
    assert plan_mounts([item("a", "T1", 0)], drives, now=10.0, timing=T) == []


def test_after_mounts_marks_the_drive_busy_until_the_last_read() -> None:
    mounts = plan_mounts([item("a", "T1", 4)], [Drive(0), Drive(1)], now=0.0, timing=T)
    drives = after_mounts([Drive(0), Drive(1)], mounts)
    busy = next(d for d in drives if d.tape == "T1")
    assert busy.free_at == mounts[0].end and busy.head == 4


items = st.lists(
    st.builds(
        RecallItem,
        path=st.sampled_from([f"f{i}" for i in range(12)]),
        tape=st.sampled_from(["T0", "T1", "T2", "T3"]),
        position=st.integers(0, 99),
        size=st.integers(0, 10_000),
        requested_at=st.floats(0, 100),
    ),
    max_size=30,
).map(lambda xs: list({x.path: x for x in xs}.values()))  # a file lives on one cartridge


@settings(max_examples=200, deadline=None)
@given(pending=items, drives=st.integers(1, 4), now=st.floats(100, 1000))
def test_scheduler_invariants(pending: list[RecallItem], drives: int, now: float) -> None:
    mounts = plan_mounts(pending, [Drive(i) for i in range(drives)], now, T)
    tapes = [m.tape for m in mounts]
    assert len(mounts) <= drives
    assert len(set(tapes)) == len(tapes)  # a cartridge is in one drive at a time
    assert len({m.drive for m in mounts}) == len(mounts)
    assert len(mounts) == min(drives, len({i.tape for i in pending}))
    for m in mounts:
        wanted = {i.path for i in pending if i.tape == m.tape}
        assert {r.path for r in m.reads} == wanted  # one mount serves every file on it
        positions = [r.position for r in m.reads]
        assert positions == sorted(positions)
        times = [m.start + T.mount_latency] + [r.ready_at for r in m.reads]
        assert all(a <= b for a, b in zip(times, times[1:], strict=False))
        assert m.end >= now + T.mount_latency + sum(r.size for r in m.reads) / T.throughput - 1e-6


@settings(max_examples=150, deadline=None)
@given(pending=items, drives=st.integers(1, 3))
def test_a_simulated_library_reads_every_file_once_without_overlaps(
    pending: list[RecallItem], drives: int
) -> None:
    """Drive the scheduler as the backend does, jumping to the next free drive each step."""
    state = [Drive(i) for i in range(drives)]
    waiting = list(pending)
    now, reads, busy = 0.0, [], []
    for _ in range(len(pending) + drives + 5):
        if not waiting:
            break
        mounts = plan_mounts(waiting, state, now, T)
        for m in mounts:
            reads.extend(r.path for r in m.reads)
            busy.append((m.drive, m.tape, m.start, m.end))
        done = {r.path for m in mounts for r in m.reads}
        waiting = [i for i in waiting if i.path not in done]
        state = after_mounts(state, mounts)
        later = [d.free_at for d in state if d.free_at > now]
        now = min(later) if later else now
    assert not waiting
    assert sorted(reads) == sorted(i.path for i in pending)  # each file once
    for a in busy:  # a drive does one thing at a time, a cartridge is in one drive at a time
        for b in busy:
            if a is b:
                continue
            overlap = a[2] < b[3] and b[2] < a[3]
            if a[0] == b[0] or a[1] == b[1]:
                assert not overlap, (a, b)
    # everything was asked for at once: every cartridge is mounted exactly once
    assert sorted(b[1] for b in busy) == sorted({i.tape for i in pending})
