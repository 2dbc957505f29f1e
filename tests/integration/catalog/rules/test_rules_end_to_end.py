"""A rule fulfilled against real storage endpoints on loopback: the judge makes locks and
requests, the conveyor copies (HTTP-TPC), the judge's finisher makes the rule OK; then
the rule is removed with purge and the reaper deletes the copies from the storage first,
the catalogue forgetting only what is gone."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parents[2] / "transfers"))

from transfer_harness import Grid, adler32_of, run_until_idle

from onegrid.catalog import dids, rses
from onegrid.catalog.rules import service
from onegrid.catalog.rules.agents import Judge, Reaper
from onegrid.catalog.tables import Replica, ReplicaState


@pytest.fixture
def tgrid(live_server, tmp_path: Path) -> Iterator[Grid]:  # type: ignore[no-untyped-def]
    g = Grid(server=live_server, tmp=tmp_path / "grid")
    g.ensure_scope("belle")
    with g.stack:
        yield g


def test_rule_is_fulfilled_by_the_conveyor_and_purged_by_the_reaper(tgrid: Grid) -> None:
    src = tgrid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = tgrid.add_storage("DESY-DISK", site="DESY")
    rt = tgrid.runtime
    payloads = {f"run1.f{i}": f"event data {i} ".encode() * (100 + i) for i in range(6)}
    for name, data in payloads.items():
        tgrid.put_file("KEK-DISK", "belle", name, data)
    with rt.transaction() as s:
        dids.add_dids(s, rt.clock, "root", [{"scope": "belle", "name": "run1", "type": "DATASET"}])
        dids.attach(s, rt.clock, "belle", "run1", [{"scope": "belle", "name": n} for n in payloads])
        (rule_id,) = service.add_rules(s, rt.clock, random.Random(1), dids=[{"scope": "belle", "name": "run1"}],
                                       account="root", copies=1, rse_expression="DESY-DISK")
    judge = Judge(rt, "judge-e2e", rng=random.Random(1))
    judge.run_once()  # also consumes the attach notification
    run_until_idle(tgrid.conveyor())
    assert judge.run_once()["transfers_finished"] == 6
    with rt.reading() as s:
        rule = service.rule_to_dict(service.get_rule(s, rule_id))
    assert rule["state"] == "OK" and rule["locks_ok_cnt"] == 6
    for name, data in payloads.items():
        on_disk = dst.path_of("belle", name)
        assert on_disk.read_bytes() == data and adler32_of(on_disk.read_bytes()) == adler32_of(data)
    # Remove with purge: the reaper deletes on the storage, then in the catalogue.
    with rt.transaction() as s:
        service.delete_rule(s, rt.clock, rule_id, purge_replicas=True)
    did = Reaper(rt, "reaper-e2e").run_once()
    assert did["deleted"] == 6 and did["deletion_errors"] == 0
    assert not any(dst.path_of("belle", n).exists() for n in payloads)
    assert all(src.path_of("belle", n).exists() for n in payloads)  # the source had no tombstone
    with rt.reading() as s:
        left = s.scalars(sa.select(Replica.name).where(Replica.rse_id == dst.rse_id)).all()
        usage = {u["source"]: u for u in rses.usage(s, "DESY-DISK")}
    assert left == [] and usage["rucio"]["files"] == 0


def test_reaper_frees_space_least_recently_accessed_first_and_keeps_what_storage_refuses(tgrid: Grid) -> None:
    st = tgrid.add_storage("DESY-DISK", site="DESY")
    rt = tgrid.runtime
    for i in range(4):
        tgrid.put_file("DESY-DISK", "belle", f"old{i}", b"x" * 1000)
    with rt.transaction() as s:
        now = rt.clock.now()
        s.execute(sa.update(Replica).values(tombstone=now))
        rses.set_limit(s, "DESY-DISK", "TotalSpace", 4500)
        rses.set_limit(s, "DESY-DISK", "MinFreeSpace", 2000)  # free 500: 1500 bytes must go → 2 files
        from onegrid.catalog import traces

        traces.add_traces(s, rt.clock, [{"eventType": "download", "scope": "belle", "filename": "old0",
                                          "rse": "DESY-DISK"}, {"eventType": "download", "scope": "belle",
                                                                "filename": "old2", "rse": "DESY-DISK"}])
    did = Reaper(rt, "reaper-space").run_once()
    assert did["deleted"] == 2
    gone = {f"old{i}" for i in range(4) if not st.path_of("belle", f"old{i}").exists()}
    assert gone == {"old1", "old3"}  # never read: least recently accessed
    # Space is back above the minimum: nothing more goes.
    assert Reaper(rt, "reaper-space").run_once()["deleted"] == 0
    with rt.reading() as s:
        states = dict(s.execute(sa.select(Replica.name, Replica.state)).all())
    assert states == {"old0": ReplicaState.AVAILABLE, "old2": ReplicaState.AVAILABLE}


def test_reaper_reads_free_space_from_the_storages_srr(tgrid: Grid) -> None:
    import httpx

    st = tgrid.add_storage("DESY-DISK", site="DESY")
    rt = tgrid.runtime
    for i in range(3):
        tgrid.put_file("DESY-DISK", "belle", f"srr{i}", b"y" * 1000)
    srr_url = f"{st.url}/storage-descriptor.json"
    online = httpx.get(srr_url).json()["storageservice"]["storagecapacity"]["online"]
    free = online["totalsize"] - online["usedsize"]
    with rt.transaction() as s:
        s.execute(sa.update(Replica).values(tombstone=rt.clock.now()))
        rses.set_attribute(s, "DESY-DISK", "srr_url", srr_url)
        rses.set_limit(s, "DESY-DISK", "MinFreeSpace", free + 1500)  # 1500 bytes short: two files go
    assert Reaper(rt, "reaper-srr").run_once()["deleted"] == 2
    with rt.reading() as s:
        usage = {u["source"]: u for u in rses.usage(s, "DESY-DISK")}
    assert usage["srr"]["free"] == free  # read before this cycle's deletions
    assert sum(st.path_of("belle", f"srr{i}").exists() for i in range(3)) == 1
    assert Reaper(rt, "reaper-srr").run_once()["deleted"] == 0  # the SRR now shows enough free space
