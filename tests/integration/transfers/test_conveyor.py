"""The conveyor copies files between real `onegrid storage` endpoints on loopback."""

from __future__ import annotations

import sqlalchemy as sa
from transfer_harness import Grid, adler32_of, run_until_idle

from onegrid.catalog.tables import Replica, ReplicaState
from onegrid.transfers.tables import TransferHistory, TransferRequest


def _requests(grid: Grid, ids: list[int]) -> dict[int, TransferRequest]:
    with grid.runtime.reading() as s:
        return {r.id: r for r in s.scalars(sa.select(TransferRequest).where(TransferRequest.id.in_(ids)))}


def test_conveyor_copies_files_and_marks_destination_replicas_available(grid: Grid) -> None:
    src = grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    files = {f"file{i}.root": bytes([i]) * (1000 + i) for i in range(5)}
    for n, data in files.items():
        grid.put_file("KEK-DISK", "belle", n, data)
    ids = grid.queue("belle", list(files), "DESY-DISK")
    run_until_idle(grid.conveyor())
    reqs = _requests(grid, ids)
    assert {r.state for r in reqs.values()} == {"DONE"}, [r.last_error for r in reqs.values()]
    for n, data in files.items():
        assert dst.path_of("belle", n).read_bytes() == data
    with grid.runtime.reading() as s:
        states = dict(s.execute(sa.select(Replica.name, Replica.state).where(Replica.rse_id == dst.rse_id)).all())
        hist = s.scalars(sa.select(TransferHistory)).all()
    assert states == dict.fromkeys(files, ReplicaState.AVAILABLE)
    assert len(hist) == 5 and all(h.outcome == "DONE" and h.source_rse_id == src.rse_id for h in hist)
    assert all(h.mode == "pull" for h in hist)


def test_corrupt_source_is_declared_bad_and_another_source_is_used(grid: Grid) -> None:
    near = grid.add_storage("DESY-TAPE-BUFFER", site="DESY")  # same site as the destination: tried first
    far = grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    good = b"the real bytes " * 500
    bad = bytearray(good)
    bad[100] ^= 0xFF
    grid.put_file("KEK-DISK", "belle", "raw.root", good)
    grid.put_file("DESY-TAPE-BUFFER", "belle", "raw.root", bytes(bad), adler32=adler32_of(good))
    (rid,) = grid.queue("belle", ["raw.root"], "DESY-DISK")
    run_until_idle(grid.conveyor())
    req = _requests(grid, [rid])[rid]
    assert req.state == "DONE", req.last_error
    assert dst.path_of("belle", "raw.root").read_bytes() == good
    with grid.runtime.reading() as s:
        states = {rse: st for rse, st in s.execute(sa.select(Replica.rse_id, Replica.state)
                                                   .where(Replica.name == "raw.root")).all()}
        hist = s.scalars(sa.select(TransferHistory).order_by(TransferHistory.id)).all()
    assert states[near.rse_id] is ReplicaState.BAD
    assert states[far.rse_id] is ReplicaState.AVAILABLE and states[dst.rse_id] is ReplicaState.AVAILABLE
    assert [(h.source_rse_id, h.outcome) for h in hist] == [(near.rse_id, "FAILED"), (far.rse_id, "DONE")]
    assert "corrupt" in (hist[0].error or "")


def test_missing_source_falls_back_then_fails_when_none_is_left(grid: Grid) -> None:
    grid.add_storage("DESY-OTHER", site="DESY")
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    grid.put_file("KEK-DISK", "belle", "a.root", b"a" * 100)
    grid.put_file("DESY-OTHER", "belle", "a.root", b"a" * 100)
    grid.storages["DESY-OTHER"].path_of("belle", "a.root").unlink()  # registered, but gone from disk
    grid.put_file("DESY-OTHER", "belle", "b.root", b"b" * 100)
    grid.storages["DESY-OTHER"].path_of("belle", "b.root").unlink()
    a, b = grid.queue("belle", ["a.root", "b.root"], "DESY-DISK")
    run_until_idle(grid.conveyor())
    reqs = _requests(grid, [a, b])
    assert reqs[a].state == "DONE" and dst.path_of("belle", "a.root").read_bytes() == b"a" * 100
    assert reqs[b].state == "FAILED"
    assert "no usable source" in (reqs[b].last_error or "")
    assert not dst.path_of("belle", "b.root").exists()


def test_recoverable_errors_are_retried_up_to_the_limit(grid: Grid) -> None:
    from transfer_harness import free_port

    grid.add_storage("DOWN-DISK", site="KEK", url=f"http://127.0.0.1:{free_port()}")  # nobody listens there
    grid.add_storage("DESY-DISK", site="DESY")
    grid.put_file("DOWN-DISK", "belle", "x.root", b"x", )
    (rid,) = grid.queue("belle", ["x.root"], "DESY-DISK", retry_limit=2)
    run_until_idle(grid.conveyor())
    req = _requests(grid, [rid])[rid]
    assert req.state == "FAILED" and req.attempts == 3
    with grid.runtime.reading() as s:
        outcomes = s.scalars(sa.select(TransferHistory.outcome).where(TransferHistory.request_id == rid)).all()
    assert outcomes == ["FAILED"] * 3


def test_cancelled_request_is_not_copied(grid: Grid) -> None:
    from onegrid.transfers import service

    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    grid.put_file("KEK-DISK", "belle", "c.root", b"c" * 10)
    (rid,) = grid.queue("belle", ["c.root"], "DESY-DISK")
    with grid.runtime.transaction() as s:
        service.cancel_requests(s, [rid], grid.runtime.clock)
    run_until_idle(grid.conveyor())
    assert _requests(grid, [rid])[rid].state == "CANCELLED"
    assert not dst.path_of("belle", "c.root").exists()


def test_draining_and_unreadable_sources_are_never_used(grid: Grid) -> None:
    from onegrid.catalog import rses

    grid.add_storage("DESY-DRAINING", site="DESY")
    grid.add_storage("DESY-DOWN", site="DESY")
    far = grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    for rse in ("DESY-DRAINING", "DESY-DOWN", "KEK-DISK"):
        grid.put_file(rse, "belle", "d.root", b"d" * 64)
    grid.put_file("DESY-DOWN", "belle", "only-down.root", b"o" * 64)
    with grid.runtime.transaction() as s:
        rses.set_attribute(s, "DESY-DRAINING", "draining", True)
        rses.update_rse(s, grid.runtime.clock, "DESY-DOWN", {"availability_read": False})
    d, o = grid.queue("belle", ["d.root", "only-down.root"], "DESY-DISK", retry_limit=1)
    run_until_idle(grid.conveyor())
    reqs = _requests(grid, [d, o])
    assert reqs[d].state == "DONE" and reqs[d].source_rse_id == far.rse_id
    assert dst.path_of("belle", "d.root").read_bytes() == b"d" * 64
    assert reqs[o].state == "FAILED" and "down or draining" in (reqs[o].last_error or "")


def test_without_overwrite_a_right_file_already_there_counts_as_done(grid: Grid) -> None:
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    grid.put_file("KEK-DISK", "belle", "x.root", b"x" * 100)
    grid.put_file("KEK-DISK", "belle", "y.root", b"y" * 100)
    for name, data in (("x.root", b"x" * 100), ("y.root", b"not y")):  # a finished copy, and a wrong file
        p = dst.path_of("belle", name)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    x, y = grid.queue("belle", ["x.root", "y.root"], "DESY-DISK", overwrite=False)
    run_until_idle(grid.conveyor())
    reqs = _requests(grid, [x, y])
    assert reqs[x].state == "DONE"
    assert reqs[y].state == "FAILED" and dst.path_of("belle", "y.root").read_bytes() == b"not y"
