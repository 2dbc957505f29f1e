"""The judge on a real database: attached files get locks and transfers, detached files
lose them, finished transfers make locks OK, failed ones make the rule STUCK with the
reason and a backoff, expired rules go, subscriptions place RAW by shares."""

from __future__ import annotations

import random
from collections import Counter

import sqlalchemy as sa
from rules_helpers import add, requests

from onegrid.catalog import dids, rses
from onegrid.catalog.rules import service, subscriptions
from onegrid.catalog.rules.agents import Judge
from onegrid.catalog.rules.settings import RuleSettings
from onegrid.catalog.rules.tables import Lock, Rule, RuleState
from onegrid.catalog.tables import Replica, ReplicaState
from onegrid.runtime import Runtime
from onegrid.transfers.tables import TransferRequest


def judge(grid: Runtime, **kw) -> Judge:  # type: ignore[no-untyped-def]
    return Judge(grid, "judge-1", RuleSettings(**kw), rng=random.Random(3))


def conveyor_outcome(grid: Runtime, outcome: str, error: str | None = None, names: set[str] | None = None) -> int:
    """What the conveyor leaves behind: requests DONE (destination replica AVAILABLE) or FAILED."""
    now = grid.clock.now()
    with grid.transaction() as s:
        reqs = [r for r in s.scalars(sa.select(TransferRequest).where(TransferRequest.state == "QUEUED"))
                if names is None or r.name in names]
        for r in reqs:
            r.state, r.last_error, r.finished_at, r.attempts = outcome, error, now, 3
            if outcome == "DONE":
                rep = s.get(Replica, (r.scope, r.name, r.dest_rse_id))
                rep.state = ReplicaState.AVAILABLE
    return len(reqs)


def rule_of(grid: Runtime, rule_id: str) -> dict:
    with grid.reading() as s:
        return service.rule_to_dict(service.get_rule(s, rule_id))


def test_finished_transfers_make_the_rule_ok(grid, make_dataset) -> None:
    make_dataset("ds", 10)
    rule_id = add(grid, "BNL-TAPE")
    assert conveyor_outcome(grid, "DONE") == 10
    did = judge(grid).run_once()
    assert did["transfers_finished"] == 10
    rule = rule_of(grid, rule_id)
    assert rule["state"] == "OK" and rule["locks_ok_cnt"] == 10 and rule["locks_replicating_cnt"] == 0
    assert judge(grid).run_once()["transfers_finished"] == 0  # each request is seen once


def test_failed_transfers_make_the_rule_stuck_with_the_reason_and_retry_after_backoff(grid, make_dataset) -> None:
    make_dataset("ds", 4)
    rule_id = add(grid, "BNL-TAPE")
    conveyor_outcome(grid, "DONE", names={"ds.f00000", "ds.f00001", "ds.f00002"})
    conveyor_outcome(grid, "FAILED", "checksum mismatch: source adler32 0000abcd, destination 12345678")
    j = judge(grid, stuck_backoff_base=600)
    j.run_once()
    rule = rule_of(grid, rule_id)
    assert rule["state"] == "STUCK" and rule["locks_stuck_cnt"] == 1 and rule["locks_ok_cnt"] == 3
    assert "ds.f00003 to BNL-TAPE: checksum mismatch" in rule["error"]
    with grid.reading() as s:
        analysis = service.examine(s, rule_id)
    assert analysis["rule_error"].startswith("STUCK: ") and analysis["transfers"][0]["attempts"] == 3
    assert "checksum mismatch" in analysis["transfers"][0]["last_error"]
    # not before the backoff
    assert j.run_once()["stuck_retried"] == 0
    grid.clock.advance(601)
    assert j.run_once()["stuck_retried"] == 1
    rule = rule_of(grid, rule_id)
    assert rule["state"] == "REPLICATING" and rule["evaluation_attempts"] == 1
    queued = [r for r in requests(grid) if r.state == "QUEUED"]
    assert [r.name for r in queued] == ["ds.f00003"]
    conveyor_outcome(grid, "DONE")
    j.run_once()
    assert rule_of(grid, rule_id)["state"] == "OK"


def test_attached_files_get_locks_and_detached_files_lose_them(grid, make_dataset) -> None:
    make_dataset("ds", 5)
    rule_id = add(grid, "raw_centre=True")
    with grid.reading() as s:
        (rse,) = {lock["rse"] for lock in service.list_locks(s, rule_id)}
    make_dataset("ds", 3, start=5)  # three more files attached
    did = judge(grid).run_once()
    assert did["content_changes"] == 1
    with grid.reading() as s:
        locks = list(service.list_locks(s, rule_id))
    assert len(locks) == 8 and {lock["rse"] for lock in locks} == {rse}  # the dataset stays together
    assert len(requests(grid)) == 8
    with grid.transaction() as s:
        dids.detach(s, grid.clock, "belle", "ds", [{"scope": "belle", "name": "ds.f00000"}])
    judge(grid).run_once()
    with grid.reading() as s:
        names = {lock["name"] for lock in service.list_locks(s, rule_id)}
        rep = s.get(Replica, ("belle", "ds.f00000", rses.get_rse(s, rse).id))
    assert "ds.f00000" not in names and len(names) == 7
    assert rep.lock_cnt == 0 and rep.tombstone is not None
    assert rule_of(grid, rule_id)["locks_replicating_cnt"] == 7
    assert {r.name for r in requests(grid) if r.state == "CANCELLED"} == {"ds.f00000"}


def test_expired_rules_are_removed_unless_locked(grid, make_dataset) -> None:
    make_dataset("ds", 2, on=("KEK-DISK", "DESY-DISK"))
    short = add(grid, "DESY-DISK", lifetime=60)
    locked = add(grid, "KEK-DISK", lifetime=60, locked=True)
    grid.clock.advance(61)
    assert judge(grid).run_once()["expired"] == 1
    with grid.reading() as s:
        assert [r["id"] for r in service.list_rules(s)] == [locked]
        assert s.scalar(sa.select(sa.func.count()).select_from(Lock).where(Lock.rule_id == short)) == 0


def test_asynchronous_rules_get_their_locks_from_the_judge(grid, make_dataset) -> None:
    make_dataset("ds", 3)
    rule_id = add(grid, "BNL-TAPE", asynchronous=True)
    assert rule_of(grid, rule_id)["state"] == RuleState.INJECT.value
    assert judge(grid).run_once()["injected"] == 1
    assert rule_of(grid, rule_id)["locks_replicating_cnt"] == 3


def test_raw_subscription_puts_a_copy_at_kek_tape_and_one_raw_centre_by_shares(grid, make_dataset) -> None:
    with grid.transaction() as s:
        subscriptions.add_subscription(s, grid.clock, name="raw", account="alice",
                                       filter_={"scope": ["belle"], "datatype": ["RAW"]},
                                       rules=subscriptions.raw_policy())
    grid.clock.advance(1)
    with grid.transaction() as s:
        dids.add_dids(s, grid.clock, "alice", [{"scope": "belle", "name": f"raw{i:03d}", "type": "DATASET",
                                                "meta": {"datatype": "RAW"}} for i in range(200)]
                      + [{"scope": "belle", "name": "mdst", "type": "DATASET", "meta": {"datatype": "mdst"}}])
    made = 0
    while (n := judge(grid).run_once()["subscription_rules"]):
        made += n
    assert made == 400
    with grid.reading() as s:
        rules = list(service.list_rules(s, {"account": "alice"}))
    assert not [r for r in rules if r["name"] == "mdst"]
    assert Counter(r["rse_expression"] for r in rules)["KEK-TAPE"] == 200
    # The second copy: one RAW centre per dataset, by the raw_share attribute 50/30/20.
    # Datasets are empty, so the choice shows in the dataset locks.
    from onegrid.catalog.rules.tables import DatasetLock

    with grid.reading() as s:
        names = dict(s.execute(sa.select(rses.RSE.id, rses.RSE.name)).all())
        chosen = Counter(names[r] for r in s.scalars(sa.select(DatasetLock.rse_id)))
    assert chosen["KEK-TAPE"] == 200
    centres = {k: v for k, v in chosen.items() if k != "KEK-TAPE"}
    assert sum(centres.values()) == 200
    assert abs(centres["BNL-TAPE"] - 100) < 25 and abs(centres["CNAF-TAPE"] - 60) < 20
    assert abs(centres["DESY-TAPE"] - 40) < 20


def test_the_daemon_loads_the_rules_agents_and_a_claimed_rule_is_left_to_its_judge(grid, make_dataset) -> None:
    from onegrid.catalog.rules.judge import _claim_rules
    from onegrid.daemon import load_agent

    assert {load_agent(n, grid).name for n in ("judge", "reaper", "placement")} == {"judge", "reaper", "placement"}
    assert load_agent("placement", grid).run_once() == {}
    make_dataset("ds", 2)
    make_dataset("other", 2)
    first = add(grid, "BNL-TAPE", asynchronous=True)
    second = add(grid, "BNL-TAPE", did="other", asynchronous=True)
    claimed = _claim_rules(grid, "judge-a", RuleSettings(rule_batch=1), Rule.state == RuleState.INJECT, [])
    assert len(claimed) == 1
    assert judge(grid).run_once()["injected"] == 1  # the other judge takes only the free rule
    states = {rid: rule_of(grid, rid)["state"] for rid in (first, second)}
    assert sorted(states.values()) == ["INJECT", "REPLICATING"]
    grid.clock.advance(RuleSettings().lease_seconds + 1)  # judge-a died: its lease runs out
    assert judge(grid).run_once()["injected"] == 1


def test_two_judges_at_once_inject_every_rule_exactly_once(grid, make_dataset) -> None:
    import threading

    ids = []
    for i in range(12):
        make_dataset(f"d{i}", 5)
        ids.append(add(grid, "BNL-TAPE", did=f"d{i}", asynchronous=True))
    done: list[int] = []
    errors: list[BaseException] = []

    def run(name: str) -> None:
        j = Judge(grid, name, RuleSettings(rule_batch=3), rng=random.Random(name))
        try:
            while (n := j.run_once()["injected"]):
                done.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"judge-{k}",)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and sum(done) == 12
    with grid.reading() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Lock)) == 60
    assert all(rule_of(grid, i)["locks_replicating_cnt"] == 5 for i in ids)
    assert len(requests(grid)) == 60
