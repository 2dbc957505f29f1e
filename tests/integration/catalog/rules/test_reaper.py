"""The reaper's catalogue side on both databases, with a recording stand-in for the
storage (the edge of the world): two reapers at once delete each replica once; a
storage that refuses leaves the replica in the catalogue; greedy and bounded deletion."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from onegrid.catalog import rses
from onegrid.catalog.rules.agents import Reaper
from onegrid.catalog.rules.settings import RuleSettings
from onegrid.catalog.tables import Replica, ReplicaState
from onegrid.runtime import Runtime


class RecordingStorage:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.deleted: list[str] = []
        self.refuse = refuse or set()
        self.lock = threading.Lock()

    def __call__(self, url: str, token: str | None) -> RecordingStorage:
        assert token, "the reaper sends a token"
        return self

    def delete(self, url: str, *, missing_ok: bool = True) -> bool:
        if any(url.endswith(r) for r in self.refuse):
            raise PermissionError(f"403 on {url}")
        with self.lock:
            self.deleted.append(url)
        return True

    def close(self) -> None:
        pass


def _tombstoned(grid: Runtime, make_dataset: Any, n: int) -> None:
    make_dataset("ds", n, on=("DESY-DISK",))
    with grid.transaction() as s:
        s.execute(sa.update(Replica).values(tombstone=grid.clock.now()))
        rses.set_attribute(s, "DESY-DISK", "greedyDeletion", True)


def left(grid: Runtime) -> dict[str, ReplicaState]:
    with grid.reading() as s:
        return dict(s.execute(sa.select(Replica.name, Replica.state)).all())


def test_two_reapers_at_once_delete_each_replica_once(grid, make_dataset) -> None:
    _tombstoned(grid, make_dataset, 60)
    storage = RecordingStorage()
    settings = RuleSettings(reaper_per_rse=7)

    def run(name: str) -> None:
        reaper = Reaper(grid, name, settings, storage=storage)
        while reaper.run_once()["deleted"]:
            pass

    threads = [threading.Thread(target=run, args=(f"reaper-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(storage.deleted) == 60 == len(set(storage.deleted))
    assert left(grid) == {}


def test_deletion_is_bounded_per_cycle_and_a_refusing_storage_keeps_the_replica(grid, make_dataset) -> None:
    _tombstoned(grid, make_dataset, 5)
    storage = RecordingStorage(refuse={"ds.f00003"})
    reaper = Reaper(grid, "reaper-1", RuleSettings(reaper_per_rse=3), storage=storage)
    first = reaper.run_once()
    assert first["deleted"] + first["deletion_errors"] == 3
    reaper.run_once()
    assert set(left(grid)) == {"ds.f00003"}  # the storage refused: the catalogue keeps it
    assert left(grid)["ds.f00003"] is ReplicaState.BEING_DELETED
    assert reaper.run_once()["deleted"] == 0  # taken again only after the lease
    grid.clock.advance(RuleSettings().lease_seconds + 1)
    storage.refuse.clear()
    assert reaper.run_once()["deleted"] == 1 and left(grid) == {}
