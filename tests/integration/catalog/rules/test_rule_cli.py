"""`onegrid rule` and `onegrid subscription` against a live server, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "onegrid", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"onegrid {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def og(live_server, root_token):  # type: ignore[no-untyped-def]
    env = {"ONEGRID_SERVER": live_server.url, "ONEGRID_TOKEN": root_token}

    def run(*args: str, check: bool = True):  # type: ignore[no-untyped-def]
        return run_cli(*args, env=env, check=check)

    return run


def test_rule_verbs_add_list_info_update_delete(og) -> None:  # type: ignore[no-untyped-def]
    og("rse", "add", "KEK-DISK")
    og("rse", "add", "DESY-DISK")
    og("scope", "add", "belle", "--account", "root")
    og("replica", "add", "KEK-DISK", "belle:a.root:10:0000abcd", "belle:b.root:20", "--dataset", "belle:ds")
    (rule,) = json.loads(og("rule", "add", "belle:ds", "--copies", "1", "--rses", "DESY-DISK", "--json").stdout)
    assert rule["state"] == "REPLICATING" and rule["locks"] == "0/2/0"
    listed = json.loads(og("rule", "list", "--did", "belle:ds", "--json").stdout)
    assert [r["id"] for r in listed] == [rule["id"]]
    info = json.loads(og("rule", "info", rule["id"], "--locks", "--json").stdout)
    assert {lk["name"] for lk in info["locks"]} == {"a.root", "b.root"} and info["analysis"]["rule_error"] == "REPLICATING"
    updated = json.loads(og("rule", "update", rule["id"], "--suspend", "--comment", "wait", "--json").stdout)
    assert updated[0]["state"] == "SUSPENDED" and updated[0]["comments"] == "wait"
    bad = og("rule", "add", "belle:ds", "--copies", "3", "--rses", "KEK-DISK|DESY-DISK", check=False)
    assert bad.returncode != 0 and "3 copies need 3 RSEs" in bad.stderr + bad.stdout
    og("rule", "delete", rule["id"], "--purge")
    assert json.loads(og("rule", "list", "--account", "root", "--json").stdout) == []


def test_subscription_verbs_with_the_raw_policy(og) -> None:  # type: ignore[no-untyped-def]
    og("subscription", "add", "raw", "--filter", '{"scope": ["belle"], "datatype": ["RAW"]}', "--raw-policy")
    (sub,) = json.loads(og("subscription", "list", "--json").stdout)
    assert sub["name"] == "raw" and "KEK-TAPE" in sub["replication_rules"]
