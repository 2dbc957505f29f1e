"""The stock `rucio` client (rucio-clients from PyPI) manages replication rules and
subscriptions on a live OneGrid server: rule add, list, show (and --examine), update,
remove; subscription add and list."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest

from gridtest import RUCIO, rucio_api

pytestmark = pytest.mark.skipif(not RUCIO.exists() and not os.environ.get("CI"), reason="rucio-clients not installed")


def _fail_transfers(live_server, error: str) -> None:  # type: ignore[no-untyped-def]
    """What the conveyor leaves after a terminal failure; then one judge cycle."""
    import sqlalchemy as sa

    from onegrid.catalog.rules.agents import Judge
    from onegrid.transfers.tables import TransferRequest

    rt = live_server.runtime
    with rt.transaction() as s:
        s.execute(sa.update(TransferRequest).values(state="FAILED", last_error=error, attempts=3,
                                                     finished_at=rt.clock.now()))
    Judge(rt, "judge-e2e").run_once()


def _setup(rucio: Callable[..., str]) -> None:
    for rse in ("KEK-DISK", "DESY-DISK", "BNL-TAPE"):
        rucio("rse", "add", rse)
    rucio("rse", "attribute", "set", "BNL-TAPE", "--key", "raw_centre", "--value", "true")
    rucio("scope", "add", "belle", "--account", "root")
    files = [{"scope": "belle", "name": f"f{i}.root", "bytes": 1000, "adler32": "0badcafe"} for i in range(5)]
    assert rucio_api(rucio.env, f"print(json.dumps(c.add_replicas('KEK-DISK', {files!r})))") is True  # type: ignore[attr-defined]
    rucio("did", "add", "belle:ds1", "--type", "dataset")
    rucio("did", "content", "add", *[f"belle:f{i}.root" for i in range(5)], "--to-did", "belle:ds1")


def test_stock_rucio_client_adds_shows_updates_and_removes_rules(rucio) -> None:  # type: ignore[no-untyped-def]
    _setup(rucio)
    out = rucio("rule", "add", "belle:ds1", "--copies", "1", "--rses", "DESY-DISK", "--comment", "to DESY")
    rule_id = out.strip().splitlines()[-1]
    assert len(rule_id) == 32
    shown = rucio("rule", "show", rule_id)
    assert "REPLICATING" in shown and "0/5/0" in shown and "DESY-DISK" in shown and "to DESY" in shown
    listed = rucio("rule", "list", "--did", "belle:ds1")
    assert rule_id in listed and "DESY-DISK" in listed
    assert rule_id in rucio("rule", "list", "--account", "root")
    assert rule_id in rucio("rule", "list", "--file", "belle:f0.root")
    # an OK rule: the files are already on KEK-DISK
    ok_id = rucio("rule", "add", "belle:ds1", "--copies", "1", "--rses", "KEK-DISK").strip().splitlines()[-1]
    assert "5/0/0" in rucio("rule", "show", ok_id) and "OK" in rucio("rule", "show", ok_id)
    # refusals say why
    assert "expression 'nosuch=1' matches no RSE" in rucio("rule", "add", "belle:ds1", "--copies", "1", "--rses",
                                                           "nosuch=1", ok=False)
    too_many = rucio("rule", "add", "belle:ds1", "--copies", "4", "--rses", "KEK-DISK|BNL-TAPE", ok=False)
    assert "4 copies need 4 RSEs" in too_many
    # a failed transfer: the judge makes the rule STUCK, and `rucio rule show` says why
    _fail_transfers(rucio.live_server, "destination refused the write: 507 Insufficient Storage")  # type: ignore[attr-defined]
    shown = rucio("rule", "show", rule_id)
    assert "STUCK" in shown and "507 Insufficient Storage" in shown
    examined = rucio("rule", "show", rule_id, "--examine")
    assert "STUCK" in examined and "Last error" in examined and "507 Insufficient Storage" in examined
    # update: lifetime, comment, suspend; analysis
    rucio("rule", "update", rule_id, "--lifetime", "3600", "--comment", "later", "--suspend")
    rule = rucio_api(rucio.env, f"print(json.dumps(c.get_replication_rule('{rule_id}')))")  # type: ignore[attr-defined]
    assert rule["state"] == "SUSPENDED" and rule["comments"] == "later" and rule["expires_at"]  # type: ignore[index]
    assert "Status of the replication rule" in rucio("rule", "show", rule_id, "--examine")
    locks = rucio_api(rucio.env, f"print(json.dumps(list(c.list_replica_locks('{rule_id}'))))")  # type: ignore[attr-defined]
    assert len(locks) == 5 and {lk["rse"] for lk in locks} == {"DESY-DISK"}  # type: ignore[union-attr,index]
    # locked rules stay
    rucio("rule", "update", ok_id, "--locked", "true")
    assert "locked" in rucio("rule", "remove", ok_id, ok=False)
    rucio("rule", "update", ok_id, "--locked", "false")
    rucio("rule", "remove", ok_id)
    rucio("rule", "remove", rule_id, "--purge-replicas")
    assert rule_id not in rucio("rule", "list", "--account", "root")
    assert "RuleNotFound" in rucio("rule", "show", rule_id, ok=False) or "no rule" in rucio("rule", "show", rule_id,
                                                                                           ok=False)


def test_stock_rucio_client_adds_and_lists_subscriptions(rucio) -> None:  # type: ignore[no-untyped-def]
    _setup(rucio)
    rules = json.dumps([{"copies": 1, "rse_expression": "raw_centre=true", "activity": "RAW Export"}])
    out = rucio("subscription", "add", "raw-export", "--filter", json.dumps({"scope": ["belle"], "datatype": ["RAW"]}),
                "--rule", rules, "--comment", "RAW to the data centres")
    assert "Subscription added" in out
    listed = rucio("subscription", "list", "--long")
    assert "raw-export" in listed and "raw_centre=true" in listed
    subs = rucio_api(rucio.env, "print(json.dumps(list(c.list_subscriptions(name='raw-export'))))")  # type: ignore[attr-defined]
    assert subs[0]["account"] == "root" and json.loads(subs[0]["filter"])["datatype"] == ["RAW"]  # type: ignore[index]
