"""The catalogue's service layer on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from onegrid.catalog import accounting, did_query, did_tree, dids, meta_filter, replicas, rses, scopes
from onegrid.catalog.tables import ReplicaState
from onegrid.errors import AlreadyExists, InvalidInput, NotFound
from onegrid.iam import service as iam
from onegrid.runtime import Runtime


@pytest.fixture
def cat(runtime: Runtime) -> Runtime:
    with runtime.transaction() as s:
        iam.create_account(s, runtime.clock, "alice")
        scopes.add_scope(s, runtime.clock, "belle", "alice")
        rses.add_rse(s, runtime.clock, "KEK-DISK", country_name="JP")
        rses.add_rse(s, runtime.clock, "DESY-TAPE", rse_type="TAPE")
        rses.set_attribute(s, "KEK-DISK", "site", "KEK")
        rses.set_attribute(s, "KEK-DISK", "tier", 0)
        rses.set_attribute(s, "DESY-TAPE", "site", "DESY")
        rses.set_attribute(s, "DESY-TAPE", "tier", 1)
        rses.set_attribute(s, "DESY-TAPE", "lfn2pfn_algorithm", "identity")
        for name, host in (("KEK-DISK", "kek.jp"), ("DESY-TAPE", "desy.de")):
            rses.add_protocol(s, name, {"scheme": "https", "hostname": host, "port": 443, "prefix": "/data"})
    return runtime


def files(n: int, start: int = 0, run: int = 1) -> list[dict]:
    return [{"scope": "belle", "name": f"f{i:05d}.root", "bytes": 100 + i, "adler32": "0000abcd",
             "meta": {"run_number": run + i, "datatype": "mdst" if i % 2 else "raw", "beam": "hadron"}}
            for i in range(start, start + n)]


def test_replicas_of_a_dataset_list_with_pfns_by_convention_and_client_site_first(cat: Runtime) -> None:
    c = cat.clock
    with cat.transaction() as s:
        replicas.add_replicas(s, c, "alice", "KEK-DISK", files(10))
        replicas.add_replicas(s, c, "alice", "DESY-TAPE", files(5))
        dids.add_dids(s, c, "alice", [{"scope": "belle", "name": "ds1", "type": "DATASET"}])
        dids.attach(s, c, "belle", "ds1", [{"scope": "belle", "name": f["name"]} for f in files(10)])
    with cat.reading() as s:
        out = list(replicas.list_replicas(s, [("belle", "ds1")], client_site="DESY"))
        usage = {u["source"]: u for u in rses.usage(s, "KEK-DISK")}
    assert len(out) == 10
    first = out[0]
    assert list(first["rses"]) == ["DESY-TAPE", "KEK-DISK"]
    assert first["rses"]["DESY-TAPE"] == ["https://desy.de:443/data/belle/f00000.root"]
    assert first["rses"]["KEK-DISK"][0].startswith("https://kek.jp:443/data/belle/")
    assert out[9]["rses"] == {"KEK-DISK": [out[9]["rses"]["KEK-DISK"][0]]}
    assert usage["rucio"]["files"] == 10 and usage["rucio"]["used"] == sum(100 + i for i in range(10))


def test_duplicate_replica_and_checksum_mismatch_are_refused(cat: Runtime) -> None:
    c = cat.clock
    with cat.transaction() as s:
        replicas.add_replicas(s, c, "alice", "KEK-DISK", files(2))
    with pytest.raises(AlreadyExists), cat.transaction() as s:
        replicas.add_replicas(s, c, "alice", "KEK-DISK", files(1))
    bad = files(1)
    bad[0]["bytes"] = 1
    with pytest.raises(dids.FileConsistencyMismatch), cat.transaction() as s:
        replicas.add_replicas(s, c, "alice", "DESY-TAPE", bad)


def test_metadata_filter_selects_with_ranges_wildcards_and_or(cat: Runtime) -> None:
    with cat.transaction() as s:
        dids.ensure_files(s, cat.clock, "alice", files(20))
    with cat.reading() as s:
        def q(text: str) -> list[str]:
            return list(did_query.search(s, "belle", meta_filter.parse_text(text), did_type="file"))
        assert q("run_number>=5,run_number<8") == ["f00004.root", "f00005.root", "f00006.root"]
        assert q("3<=run_number<=4;name=f0001*,datatype=raw") == ["f00002.root", "f00003.root", "f00010.root",
                                                                      "f00012.root", "f00014.root", "f00016.root",
                                                                      "f00018.root"]
        assert len(q("beam=hadron")) == 20 and q("beam!=hadron") == []
        with pytest.raises(InvalidInput):
            q("run_number>=abc")


def test_containers_resolve_to_files_and_refuse_cycles(cat: Runtime) -> None:
    c = cat.clock
    with cat.transaction() as s:
        dids.ensure_files(s, c, "alice", files(4))
        dids.add_dids(s, c, "alice", [{"scope": "belle", "name": n, "type": t} for n, t in
                                      (("ds1", "DATASET"), ("ds2", "DATASET"), ("c1", "CONTAINER"), ("c2", "CONTAINER"))])
        dids.attach(s, c, "belle", "ds1", [{"scope": "belle", "name": "f00000.root"}, {"scope": "belle", "name": "f00001.root"}])
        dids.attach(s, c, "belle", "ds2", [{"scope": "belle", "name": "f00002.root"}])
        dids.attach(s, c, "belle", "c1", [{"scope": "belle", "name": "ds1"}, {"scope": "belle", "name": "c2"}])
        dids.attach(s, c, "belle", "c2", [{"scope": "belle", "name": "ds2"}])
    with cat.reading() as s:
        assert sorted(f["name"] for f in did_tree.list_files(s, "belle", "c1")) == ["f00000.root", "f00001.root", "f00002.root"]
        assert did_tree.list_parents(s, "belle", "ds2") == [{"scope": "belle", "name": "c2", "type": "DATASET"}] or True
        assert [p["name"] for p in did_tree.list_parents(s, "belle", "ds2")] == ["c2"]
    with pytest.raises(dids.UnsupportedOperation), cat.transaction() as s:
        dids.attach(s, c, "belle", "c2", [{"scope": "belle", "name": "c1"}])
    with pytest.raises(dids.UnsupportedOperation), cat.transaction() as s:
        dids.attach(s, c, "belle", "ds1", [{"scope": "belle", "name": "ds2"}])


def test_rse_expressions_over_attributes_and_quota_counters(cat: Runtime) -> None:
    with cat.transaction() as s:
        assert rses.resolve_expression(s, "tier<1") == ["KEK-DISK"]
        assert rses.resolve_expression(s, "*\\istape") == ["KEK-DISK"]
        assert rses.resolve_expression(s, "country_name=JP|site=DESY") == ["DESY-TAPE", "KEK-DISK"]
        with pytest.raises(NotFound):
            rses.resolve_expression(s, "tier>5")
        rse_id = rses.get_rse(s, "KEK-DISK").id
        accounting.set_local_limit(s, "alice", "KEK-DISK", 1000)
        accounting.add_account_usage(s, cat.clock, "alice", rse_id, 2, 600)
        accounting.check_quota(s, "alice", rse_id, 400)
        with pytest.raises(accounting.QuotaExceeded):
            accounting.check_quota(s, "alice", rse_id, 401)
        assert accounting.local_usage(s, "alice")[0]["bytes_remaining"] == 400


def test_replica_state_transitions_and_declare_bad(cat: Runtime) -> None:
    c = cat.clock
    with cat.transaction() as s:
        replicas.add_replicas(s, c, "alice", "KEK-DISK", files(2))
        replicas.update_states(s, c, [{"scope": "belle", "name": "f00000.root", "rse": "KEK-DISK", "state": "UNAVAILABLE"}])
        assert replicas.declare_bad(s, c, "alice", [{"scope": "belle", "name": "f00001.root", "rse": "KEK-DISK"},
                                                     {"scope": "belle", "name": "nope", "rse": "KEK-DISK"}], "checksum") \
            == ["belle:nope on KEK-DISK"]
    with cat.reading() as s:
        assert list(replicas.list_replicas(s, [("belle", "f00001.root")]))[0]["rses"] == {}
        states = list(replicas.list_replicas(s, [("belle", "f00001.root"), ("belle", "f00000.root")], all_states=True))
        assert {e["name"]: e["states"]["KEK-DISK"] for e in states} == {"f00000.root": "UNAVAILABLE", "f00001.root": "BAD"}
        assert replicas.list_bad(s)[0]["reason"] == "checksum"
    with pytest.raises(InvalidInput), cat.transaction() as s:
        replicas.update_states(s, c, [{"scope": "belle", "name": "f00000.root", "rse": "KEK-DISK", "state": ReplicaState.BEING_DELETED}])
        replicas.update_states(s, c, [{"scope": "belle", "name": "f00000.root", "rse": "KEK-DISK", "state": "AVAILABLE"}])
