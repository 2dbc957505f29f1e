"""The conveyor copies files between real `onegrid storage` endpoints on loopback."""

from __future__ import annotations

import sqlalchemy as sa
from transfer_harness import Grid, run_until_idle

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
