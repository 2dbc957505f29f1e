"""The stock `rucio` client from PyPI (rucio-clients, CLI and Python API) against a live
OneGrid server: password login, scopes, DIDs, metadata, RSEs, expressions, replicas."""

from __future__ import annotations

import os

import pytest

from gridtest import RUCIO, rucio_api

pytestmark = pytest.mark.skipif(not RUCIO.exists() and not os.environ.get("CI"), reason="rucio-clients not installed")


def test_stock_rucio_cli_and_client_work_against_onegrid(rucio) -> None:  # type: ignore[no-untyped-def]
    assert "account    : root" in rucio("whoami")
    assert "41" in rucio("ping")
    # RSEs, attributes, expressions
    for rse in ("KEK-DISK", "DESY-DISK", "BNL-TAPE"):
        rucio("rse", "add", rse)
    for rse, country, tier in (("KEK-DISK", "JP", "0"), ("DESY-DISK", "DE", "1"), ("BNL-TAPE", "US", "1")):
        rucio("rse", "attribute", "set", rse, "--key", "country", "--value", country)
        rucio("rse", "attribute", "set", rse, "--key", "tier", "--value", tier)
        rucio("rse", "protocol", "add", rse, "--hostname", f"{rse.lower()}.example", "--scheme", "https",
              "--prefix", "/grid", "--port", "8443")
    rucio("rse", "attribute", "set", "BNL-TAPE", "--key", "site", "--value", "BNL")
    attrs = rucio("rse", "attribute", "list", "KEK-DISK")
    assert "country: JP" in attrs and "tier: 0" in attrs
    listed = rucio("rse", "list", "--rses", "tier=1&country=DE|KEK-DISK").split()
    assert listed == ["DESY-DISK", "KEK-DISK"]
    assert rucio("rse", "list", "--rses", "tier<1").split() == ["KEK-DISK"]
    assert "RSE expression is considered invalid" in rucio("rse", "list", "--rses", "tier=1&(", ok=False)
    assert "distance=3" in (rucio("rse", "distance", "set", "KEK-DISK", "DESY-DISK", "--distance", "3")
                            + rucio("rse", "distance", "show", "KEK-DISK", "DESY-DISK"))
    shown_rse = rucio("rse", "show", "KEK-DISK")
    assert "hostname: kek-disk.example" in shown_rse and "lfn2pfn_algorithm: hash" in shown_rse
    # scopes
    rucio("scope", "add", "belle", "--account", "root")
    assert "belle" in rucio("scope", "list")
    # replicas through the Python client API
    env = rucio.env
    files = [{"scope": "belle", "name": f"f{i}.root", "bytes": 100 + i, "adler32": "0badcafe",
              "meta": {"run_number": i, "datatype": "mdst"}} for i in range(6)]
    assert rucio_api(env, f"print(json.dumps(c.add_replicas('KEK-DISK', {files!r})))") is True
    assert rucio_api(env, f"print(json.dumps(c.add_replicas('BNL-TAPE', {files[:2]!r})))") is True
    # collections, attach, contents
    rucio("did", "add", "belle:ds1", "--type", "dataset")
    rucio("did", "add", "belle:cont1", "--type", "container")
    rucio("did", "content", "add", *[f"belle:f{i}.root" for i in range(4)], "--to-did", "belle:ds1")
    rucio("did", "content", "add", "belle:ds1", "--to-did", "belle:cont1")
    assert "belle:ds1" in rucio("did", "content", "list", "belle:cont1")
    shown = " ".join(rucio("did", "show", "belle:ds1").split())
    assert "length: 4" in shown and "type: DATASET" in shown
    # metadata and filters
    rucio("did", "metadata", "set", "belle:f1.root", "--key", "events", "--value", "500")
    rucio("did", "metadata", "set", "belle:f1.root", "--key", "beam", "--value", "cosmic")
    meta = rucio("did", "metadata", "list", "belle:f1.root")
    assert "events:" in meta and "500" in meta and "cosmic" in meta and "run_number:" in meta
    found = rucio("did", "list", "belle:*", "--filter", "type=file,run_number>=2,run_number<4")
    assert "belle:f2.root" in found and "belle:f3.root" in found and "belle:f1.root" not in found
    assert "belle:f1.root" in rucio("did", "list", "belle:*", "--filter", "type=file,beam=cosmic")
    assert "belle:cont1" in rucio("did", "list", "belle:*", "--filter", "run_number>=100;name=cont*")
    assert "belle:ds1" not in rucio("did", "list", "belle:*", "--filter", "name=cont*")
    # replica listings
    reps = rucio("replica", "list", "file", "belle:ds1")
    assert "f0.root" in reps and "f3.root" in reps and "KEK-DISK: https://kek-disk.example:8443/grid/belle/" in reps
    pfns = rucio("replica", "list", "file", "belle:cont1", "--pfns").split()
    assert len(pfns) == 6 and all(p.startswith("https://") for p in pfns)
    assert "<metalink" in rucio("replica", "list", "file", "belle:ds1", "--metalink")
    assert "KEK-DISK" in rucio("replica", "list", "dataset", "belle:ds1")
    listed = rucio_api(env, "print(json.dumps(list(c.list_replicas([{'scope': 'belle', 'name': 'ds1'}],"
                       " client_location={'site': 'BNL'}))))")
    assert [f["name"] for f in listed] == ["f0.root", "f1.root", "f2.root", "f3.root"]  # type: ignore[index,union-attr]
    assert list(listed[0]["rses"]) == ["BNL-TAPE", "KEK-DISK"]  # type: ignore[index]
    files_api = rucio_api(env, "print(json.dumps(list(c.list_files('belle', 'cont1'))))")
    assert sorted(f["name"] for f in files_api) == ["f0.root", "f1.root", "f2.root", "f3.root"]  # type: ignore[union-attr]
    # a bad replica declared by its PFN (as the download clients do)
    bad_pfn = next(p for p in pfns if p.endswith("/f3.root"))
    assert rucio_api(env, f"print(json.dumps(c.declare_bad_file_replicas([{bad_pfn!r}], 'corrupt')))") == {}
    assert rucio_api(env, "print(json.dumps(list(c.list_replicas([{'scope': 'belle', 'name': 'f3.root'}]))[0]['rses']))"
                ) == {}
    # quotas, detach
    rucio("account", "limit", "set", "root", "--rse", "KEK-DISK", "--bytes", "1000000")
    assert "KEK-DISK" in rucio("account", "limit", "list", "root")
    rucio("did", "content", "remove", "belle:ds1", "--from-did", "belle:cont1")
    assert "belle:ds1" not in rucio("did", "content", "list", "belle:cont1")
