"""The catalogue over HTTP through the OneGrid client (Rucio's REST paths), on a live server."""

from __future__ import annotations

import httpx
import pytest

from onegrid.catalog.errors import DIDNotFound, InvalidRSEExpression, RSEExpressionMatchesNothing
from onegrid.client import OneGridClient
from onegrid.client.catalog import pfn_for
from onegrid.errors import AlreadyExists, Forbidden, Unauthenticated


@pytest.fixture
def grid(live_server, root_token):  # type: ignore[no-untyped-def]
    root = OneGridClient(live_server.url, root_token)
    cat = root.catalog
    for name, site, country, tier in (("KEK-DISK", "KEK", "JP", 0), ("DESY-DISK", "DESY", "DE", 1),
                                      ("BNL-TAPE", "BNL", "US", 1)):
        cat.add_rse(name, rse_type="TAPE" if "TAPE" in name else "DISK")
        for key, value in (("site", site), ("country", country), ("tier", tier)):
            cat.set_rse_attribute(name, key, value)
        cat.add_protocol(name, "https", f"{site.lower()}.example", 8443, "/grid")
    cat.set_rse_attribute("DESY-DISK", "lfn2pfn_algorithm", "identity")
    live_server.add_account("alice", password="alice-password")
    cat.add_scope("belle", "root")
    cat.add_scope("user.alice", "alice")
    yield live_server, root
    root.close()


def test_userpass_login_gives_a_token_that_the_catalogue_accepts(grid) -> None:  # type: ignore[no-untyped-def]
    server, _root = grid
    with httpx.Client(base_url=server.url) as http:
        r = http.get("/auth/userpass", headers={"X-Rucio-Account": "alice", "X-Rucio-Username": "alice",
                                                 "X-Rucio-Password": "alice-password"})
        assert r.status_code == 200, r.text
        token = r.headers["X-Rucio-Auth-Token"]
        assert int(r.headers["X-Rucio-Auth-Token-Expires"]) > 0
        who = http.get("/accounts/whoami", headers={"X-Rucio-Auth-Token": token}).json()
        assert who["account"] == "alice"
        bad = http.get("/auth/userpass", headers={"X-Rucio-Account": "alice", "X-Rucio-Username": "alice",
                                                   "X-Rucio-Password": "wrong-password"})
        assert bad.status_code == 401 and bad.headers["ExceptionClass"] == "CannotAuthenticate"
    with pytest.raises(Unauthenticated):
        OneGridClient(server.url, "not-a-token").catalog.whoami()


def test_upload_path_register_attach_and_list_replicas_site_first(grid) -> None:  # type: ignore[no-untyped-def]
    server, root = grid
    alice = OneGridClient(server.url, server.token("alice")).catalog
    kek = alice.get_rse("KEK-DISK")
    desy = alice.get_rse("DESY-DISK")
    assert kek["lfn2pfn_algorithm"] == "hash" and desy["lfn2pfn_algorithm"] == "identity"
    assert pfn_for(desy, "user.alice", "a.root") == "https://desy.example:8443/grid/user/alice/a.root"
    kek_pfn = pfn_for(kek, "user.alice", "a.root")
    assert alice.lfns2pfns("KEK-DISK", [{"scope": "user.alice", "name": "a.root"}]) == {"user.alice:a.root": kek_pfn}
    files = [{"scope": "user.alice", "name": f"{c}.root", "bytes": 10, "adler32": "01020304", "md5": "0" * 32,
              "meta": {"run_number": i}} for i, c in enumerate("abc")]
    alice.add_files("KEK-DISK", files, dataset={"scope": "user.alice", "name": "ds"}, create_dataset=True)
    alice.add_replicas("DESY-DISK", files[:1])
    out = list(alice.list_replicas([{"scope": "user.alice", "name": "ds"}], client_site="DESY"))
    assert [f["name"] for f in out] == ["a.root", "b.root", "c.root"]
    assert list(out[0]["rses"]) == ["DESY-DISK", "KEK-DISK"]
    assert out[0]["rses"]["KEK-DISK"] == [kek_pfn]
    assert list(alice.list_replicas([{"scope": "user.alice", "name": "a.root"}], client_site="KEK"))[0]["rses"] \
        .keys() == {"KEK-DISK", "DESY-DISK"}
    assert alice.get_did("user.alice", "ds")["length"] == 3
    assert alice.declare_bad([{"scope": "user.alice", "name": "b.root", "rse": "KEK-DISK"}], "lost") == {}
    assert list(alice.list_replicas([{"scope": "user.alice", "name": "b.root"}]))[0]["rses"] == {}
    alice.send_trace({"eventType": "download", "scope": "user.alice", "filename": "a.root", "remoteSite": "KEK-DISK"})
    with pytest.raises(DIDNotFound):
        list(alice.list_replicas([{"scope": "user.alice", "name": "nope"}]))
    with pytest.raises(Forbidden):
        alice.add_dataset("belle", "not-mine")
    with pytest.raises(AlreadyExists):
        alice.add_replicas("KEK-DISK", files[:1])
    usage = {u["source"]: u for u in root.catalog.rse_usage("KEK-DISK")}
    assert usage["rucio"]["files"] == 3 and usage["rucio"]["used"] == 30


def test_rse_expressions_filters_metadata_and_contents(grid) -> None:  # type: ignore[no-untyped-def]
    server, root = grid
    cat = root.catalog
    assert [r["rse"] for r in cat.list_rses("tier=1&country=DE|KEK-DISK")] == ["DESY-DISK", "KEK-DISK"]
    assert [r["rse"] for r in cat.list_rses("*\\istape")] == ["DESY-DISK", "KEK-DISK"]
    with pytest.raises(InvalidRSEExpression):
        cat.list_rses("tier=1&")
    with pytest.raises(RSEExpressionMatchesNothing):
        cat.list_rses("country=FR")
    cat.add_replicas("KEK-DISK", [{"scope": "belle", "name": f"/belle/raw/r{i:03d}.root", "bytes": 1,
                                   "meta": {"run_number": i, "datatype": "RAW" if i % 2 else "mdst", "beam": "cosmic"}}
                                  for i in range(20)])
    cat.add_container("belle", "cont")
    cat.add_dataset("belle", "raw-even", meta={"campaign": "proc13"})
    cat.attach("belle", "raw-even", [{"scope": "belle", "name": f"/belle/raw/r{i:03d}.root"} for i in range(0, 20, 2)])
    cat.attach("belle", "cont", [{"scope": "belle", "name": "raw-even"}])
    names = list(cat.list_dids("belle", "run_number>=5,run_number<9,datatype=RAW", did_type="file"))
    assert names == ["/belle/raw/r005.root", "/belle/raw/r007.root"]
    assert list(cat.list_dids("belle", "campaign=proc*")) == ["raw-even"]
    assert len(list(cat.list_dids("belle", "beam=cosmic;name=cont", did_type="all"))) == 21
    assert len(list(cat.list_files("belle", "cont"))) == 10
    assert [c["name"] for c in cat.list_content("belle", "cont")] == ["raw-even"]
    assert cat.list_parents("belle", "raw-even") == [{"scope": "belle", "name": "cont", "type": "CONTAINER"}]
    cat.set_metadata("belle", "/belle/raw/r004.root", {"events": 1000, "quality": "good"})
    meta = cat.get_metadata("belle", "/belle/raw/r004.root")
    assert meta["events"] == 1000 and meta["quality"] == "good" and meta["run_number"] == 4
    cat.close("belle", "raw-even")
    with pytest.raises(Exception, match="closed"):
        cat.attach("belle", "raw-even", [{"scope": "belle", "name": "/belle/raw/r001.root"}])
    cat.detach("belle", "cont", [{"scope": "belle", "name": "raw-even"}])
    assert cat.get_did("belle", "cont")["length"] == 0


def test_bad_replicas_are_declared_by_pfn_on_hash_identity_and_non_deterministic_rses(grid) -> None:  # type: ignore[no-untyped-def]
    server, root = grid
    cat = root.catalog
    cat.add_rse("TMP-SCRATCH", deterministic=False)
    cat.add_protocol("TMP-SCRATCH", "davs", "scratch.example", 443, "/data")
    files = [{"scope": "belle", "name": n, "bytes": 5, "adler32": "0a0b0c0d"}
             for n in ("/belle/raw/e1/r2/f.root", "plain.root")]
    cat.add_replicas("KEK-DISK", files)   # hash paths
    cat.add_replicas("DESY-DISK", files)  # identity paths
    cat.add_replicas("TMP-SCRATCH", [{**files[1], "pfn": "/tmp/x/plain.root"}])
    kek, desy = cat.get_rse("KEK-DISK"), cat.get_rse("DESY-DISK")
    wanted = [pfn_for(kek, "belle", files[0]["name"]), pfn_for(desy, "belle", files[0]["name"]),
              pfn_for(desy, "belle", "plain.root"), "davs://scratch.example/data/tmp/x/plain.root",
              "https://kek.example:8443/grid/belle/00/00/nothing.root"]
    assert wanted[1] == "https://desy.example:8443/grid/belle/raw/e1/r2/f.root"
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token('root')}"}) as http:
        r = http.post("/replicas/bad", json={"replicas": wanted, "reason": "checksum mismatch"})
    assert r.status_code == 201, r.text
    assert r.json() == {"unknown": [f"{wanted[4]}: no replica at this PFN"]}
    bad = {(b["name"], b["rse"]) for b in cat.list_bad_replicas()}
    assert bad == {(files[0]["name"], "KEK-DISK"), (files[0]["name"], "DESY-DISK"), ("plain.root", "DESY-DISK"),
                   ("plain.root", "TMP-SCRATCH")}
    [entry] = cat.list_replicas([{"scope": "belle", "name": "plain.root"}])
    assert list(entry["rses"]) == ["KEK-DISK"]
