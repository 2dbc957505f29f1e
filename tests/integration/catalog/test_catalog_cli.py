"""`onegrid scope|rse|did|replica` against a live server, as a user runs them."""

from __future__ import annotations

import json

import pytest

from gridtest import run_cli


@pytest.fixture
def og(live_server, root_token):  # type: ignore[no-untyped-def]
    env = {"ONEGRID_SERVER": live_server.url, "ONEGRID_TOKEN": root_token}

    def run(*args: str, check: bool = True):  # type: ignore[no-untyped-def]
        return run_cli(*args, env=env, check=check)

    return run


def test_catalogue_verbs_manage_rses_dids_and_replicas(og) -> None:  # type: ignore[no-untyped-def]
    og("rse", "add", "KEK-DISK")
    og("rse", "set-attr", "KEK-DISK", "tier", "0")
    og("rse", "set-attr", "KEK-DISK", "site", "KEK")
    og("rse", "add-protocol", "KEK-DISK", "--scheme", "https", "--host", "se.kek.jp", "--port", "443", "--prefix", "/d")
    og("rse", "add", "DESY-TAPE", "--type", "tape")
    og("rse", "set-distance", "KEK-DISK", "DESY-TAPE", "2")
    assert [r["rse"] for r in json.loads(og("rse", "list", "tier<1", "--json").stdout)] == ["KEK-DISK"]
    assert json.loads(og("rse", "show", "KEK-DISK", "--json").stdout)["attributes"]["tier"] == 0
    og("scope", "add", "belle", "--account", "root")
    assert {"scope": "belle", "account": "root"} in json.loads(og("scope", "list", "--json").stdout)
    og("replica", "add", "KEK-DISK", "belle:a.root:10:0000abcd", "belle:b.root:20", "--dataset", "belle:ds")
    og("did", "add", "belle:cont", "--type", "container", "--meta", "campaign=proc13")
    og("did", "attach", "belle:cont", "belle:ds")
    og("did", "meta", "set", "belle:a.root", "run_number=42", "beam=cosmic")
    assert json.loads(og("did", "meta", "get", "belle:a.root", "--json").stdout)["run_number"] == 42
    found = json.loads(og("did", "list", "belle", "--filter", "run_number>40", "--type", "file", "--json").stdout)
    assert [d["name"] for d in found] == ["a.root"]
    assert [c["name"] for c in json.loads(og("did", "content", "belle:cont", "--json").stdout)] == ["ds"]
    files = json.loads(og("did", "content", "belle:cont", "--files", "--json").stdout)
    assert sorted(f["name"] for f in files) == ["a.root", "b.root"]
    reps = json.loads(og("replica", "list", "belle:ds", "--json").stdout)
    assert reps[0]["rses"]["KEK-DISK"][0].startswith("https://se.kek.jp:443/d/belle/")
    assert "KEK-DISK" in og("replica", "list", "belle:ds").stdout
    og("replica", "declare-bad", "KEK-DISK", "belle:b.root", "--reason", "checksum")
    assert json.loads(og("replica", "list", "belle:b.root", "--json").stdout)[0]["rses"] == {}
    usage = json.loads(og("rse", "usage", "KEK-DISK", "--json").stdout)
    assert usage[0]["files"] == 2
    og("did", "detach", "belle:cont", "belle:ds")
    bad = og("did", "add", "nocolon", check=False)
    assert bad.returncode != 0 and "scope:name" in bad.stderr + bad.stdout
    missing = og("did", "show", "belle:nope", check=False)
    assert missing.returncode != 0 and "not found" in missing.stderr + missing.stdout
