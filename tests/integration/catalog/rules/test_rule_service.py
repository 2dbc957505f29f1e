"""Rules on a real database (SQLite and PostgreSQL): creation makes locks, replicas and
transfer requests at once; impossible rules are refused with the reason; deletion
releases locks and tombstones what nobody holds; attach/detach are followed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rules_helpers import add, replica_rows, requests

from onegrid.catalog import accounting, dids, rses
from onegrid.catalog.rules import service
from onegrid.catalog.rules.errors import DuplicateRule, InsufficientTargetRSEs, NoWritableRSE, RuleLocked
from onegrid.catalog.rules.locking import OBSOLETE
from onegrid.catalog.rules.tables import Lock, LockState, RuleState
from onegrid.catalog.tables import AccountUsage, Replica, ReplicaState
from onegrid.errors import QuotaExceeded


def test_rule_on_a_dataset_locks_every_file_and_queues_transfers_for_missing_ones(grid, make_dataset) -> None:
    files = make_dataset("ds", 20)
    rule_id = add(grid, "DESY-DISK")
    with grid.reading() as s:
        rule = service.rule_to_dict(service.get_rule(s, rule_id))
        usage = s.get(AccountUsage, ("alice", rses.get_rse(s, "DESY-DISK").id))
    assert rule["state"] == "REPLICATING" and rule["locks_replicating_cnt"] == 20 and rule["locks_ok_cnt"] == 0
    reps = replica_rows(grid, "DESY-DISK")
    assert {r.state for r in reps.values()} == {ReplicaState.COPYING} and len(reps) == 20
    assert all(r.lock_cnt == 1 for r in reps.values())
    reqs = requests(grid)
    assert sorted(r.name for r in reqs) == sorted(f["name"] for f in files)
    assert {r.rule_id for r in reqs} == {rule_id}
    assert usage is not None and usage.files == 20 and usage.bytes == 2000


def test_a_lock_on_an_rse_that_has_the_file_is_ok_at_once(grid, make_dataset) -> None:
    make_dataset("ds", 5, on=("KEK-DISK", "DESY-DISK"))
    rule_id = add(grid, "tier=1&istape=False")
    with grid.reading() as s:
        rule = service.get_rule(s, rule_id)
        assert rule.state is RuleState.OK and rule.locks_ok_cnt == 5
    assert requests(grid) == []
    assert all(r.lock_cnt == 1 for r in replica_rows(grid, "DESY-DISK").values())


def test_existing_replicas_are_preferred_over_other_rses(grid, make_dataset) -> None:
    make_dataset("ds", 4, on=("KEK-DISK", "DESY-DISK"))
    rule_id = add(grid, "KEK-DISK|DESY-DISK|BNL-TAPE|CNAF-TAPE", copies=2)
    with grid.reading() as s:
        locks = list(service.list_locks(s, rule_id))
    assert {lock["rse"] for lock in locks} == {"KEK-DISK", "DESY-DISK"} and len(locks) == 8


def test_impossible_rules_are_refused_with_the_reason(grid, make_dataset) -> None:
    make_dataset("ds", 3)
    with grid.transaction() as s:
        rses.update_rse(s, grid.clock, "DESY-DISK", {"availability_write": False})
    with pytest.raises(NoWritableRSE, match="matches no writable RSE"):
        add(grid, "DESY-DISK")
    with pytest.raises(NoWritableRSE, match="expression 'country=XX' matches no RSE"):
        add(grid, "country=XX")
    with pytest.raises(InsufficientTargetRSEs, match="3 copies need 3 RSEs, the expression gives 2"):
        add(grid, "KEK-DISK|BNL-TAPE", copies=3)
    with grid.transaction() as s:
        accounting.set_local_limit(s, "alice", "BNL-TAPE", 250)
    with pytest.raises(QuotaExceeded, match="limit is 250"):
        add(grid, "BNL-TAPE")
    with grid.reading() as s:
        assert list(service.list_rules(s, {"scope": "belle"})) == []
        assert s.scalar(sa.select(sa.func.count()).select_from(Lock)) == 0
    assert requests(grid) == []


def test_duplicate_rule_is_refused(grid, make_dataset) -> None:
    make_dataset("ds", 2)
    add(grid, "BNL-TAPE")
    with pytest.raises(DuplicateRule):
        add(grid, "BNL-TAPE")


def test_deleting_a_rule_releases_locks_and_tombstones_unheld_replicas(grid, make_dataset) -> None:
    make_dataset("ds", 6, on=("KEK-DISK", "DESY-DISK"))
    keep = add(grid, "DESY-DISK", did="ds")
    gone = add(grid, "DESY-DISK|KEK-DISK", copies=2, did="ds")
    with grid.transaction() as s:
        s.execute(sa.update(Replica).values(tombstone=None))
    with grid.transaction() as s:
        assert service.delete_rule(s, grid.clock, gone) == 12
    desy = replica_rows(grid, "DESY-DISK")
    kek = replica_rows(grid, "KEK-DISK")
    assert all(r.lock_cnt == 1 and r.tombstone is None for r in desy.values())  # still held by `keep`
    assert all(r.lock_cnt == 0 and r.tombstone == grid.clock.now() for r in kek.values())
    with grid.reading() as s:
        usage = s.get(AccountUsage, ("alice", rses.get_rse(s, "KEK-DISK").id))
        assert usage is not None and usage.files == 0 and usage.bytes == 0
    with grid.transaction() as s:
        service.update_rule(s, grid.clock, keep, {"locked": True})
    with pytest.raises(RuleLocked), grid.transaction() as s:
        service.delete_rule(s, grid.clock, keep)


def test_purging_a_replicating_rule_cancels_its_transfers_and_obsoletes_the_copies(grid, make_dataset) -> None:
    make_dataset("ds", 3)
    rule_id = add(grid, "BNL-TAPE", purge_replicas=True)
    with grid.transaction() as s:
        service.delete_rule(s, grid.clock, rule_id)
    assert {r.state for r in requests(grid)} == {"CANCELLED"}
    assert {r.tombstone for r in replica_rows(grid, "BNL-TAPE").values()} == {OBSOLETE}


def test_grouping_dataset_keeps_a_dataset_together_and_none_spreads_files(grid, make_dataset) -> None:
    make_dataset("ds", 40, on=())
    rule_id = add(grid, "raw_centre=True", grouping="DATASET")
    with grid.reading() as s:
        assert len({lock["rse"] for lock in service.list_locks(s, rule_id)}) == 1
    make_dataset("spread", 40, on=())
    rule_id = add(grid, "raw_centre=True", did="spread", grouping="NONE")
    with grid.reading() as s:
        assert len({lock["rse"] for lock in service.list_locks(s, rule_id)}) == 3


def test_update_lifetime_state_comment_and_listing_filters(grid, make_dataset) -> None:
    make_dataset("ds", 2)
    rule_id = add(grid, "BNL-TAPE", comment="first")
    with grid.transaction() as s:
        service.update_rule(s, grid.clock, rule_id, {"lifetime": 3600, "comment": "second", "state": "SUSPENDED"})
    with grid.reading() as s:
        (rule,) = service.list_rules(s, {"account": "alice", "state": "SUSPENDED"})
        assert rule["comments"] == "second" and rule["expires_at"] is not None
        assert list(service.list_rules(s, {"account": "bob"})) == []
        assert [r["id"] for r in service.rules_of_did(s, "belle", "ds")] == [rule_id]
        assert [r["id"] for r in service.associated_rules(s, "belle", "ds.f00000")] == [rule_id]


def test_rule_on_a_container_covers_its_datasets(grid, make_dataset) -> None:
    make_dataset("d1", 3)
    make_dataset("d2", 4)
    with grid.transaction() as s:
        dids.add_dids(s, grid.clock, "alice", [{"scope": "belle", "name": "cont", "type": "CONTAINER"}])
        dids.attach(s, grid.clock, "belle", "cont", [{"scope": "belle", "name": "d1"}, {"scope": "belle", "name": "d2"}])
    rule_id = add(grid, "BNL-TAPE", did="cont")
    with grid.reading() as s:
        locks = list(service.list_locks(s, rule_id))
    assert len(locks) == 7 and {lock["state"] for lock in locks} == {LockState.REPLICATING.value}


def test_global_quota_over_an_expression_is_checked(grid, make_dataset) -> None:
    make_dataset("ds", 3)  # 300 bytes
    with grid.transaction() as s:
        accounting.set_global_limit(s, "alice", "istape=True", 250)
    with pytest.raises(QuotaExceeded, match="global limit is 250"):
        add(grid, "BNL-TAPE")
    add(grid, "DESY-DISK")  # not selected by the global limit's expression
