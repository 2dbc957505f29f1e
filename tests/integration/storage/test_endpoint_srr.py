"""Storage Resource Reporting: the SPECS.md §3 document, kept by counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from endpoint_harness import running_endpoint


def srr(url: str) -> dict[str, Any]:
    r = httpx.get(url + "/.well-known/wlcg-srr")
    assert r.status_code == 200
    assert httpx.get(url + "/storage-descriptor.json").json()["storageservice"]["name"] == r.json()[
        "storageservice"]["name"]
    return r.json()["storageservice"]


def test_srr_schema_and_counters_follow_put_move_delete(live_server: Any, tmp_path: Path) -> None:
    root = tmp_path / "se"
    (root / "old").mkdir(parents=True)
    (root / "old" / "existing").write_bytes(b"x" * 100)  # found by the walk at start
    with running_endpoint(root, live_server.url, live_server.token, name="KEK-DISK",
                          capacity=10_000_000) as se:
        s = srr(se.url)
        assert s["name"] == "KEK-DISK" and s["implementation"] == "OneGrid"
        assert s["qualitylevel"] == "production" and isinstance(s["latestupdate"], int)
        assert s["storagecapacity"]["online"] == {"totalsize": 10_000_000, "usedsize": 100, "reservedsize": 0}
        (share,) = s["storageshares"]
        assert share["numberoffiles"] == 1 and share["path"] == ["/belle"] and share["vos"] == ["belle"]
        assert share["accesslatency"] == "online" and share["retentionpolicy"] == "replica"
        assert s["storageendpoints"][0]["endpointurl"] == se.url + "/belle"
        assert s["storageendpoints"][0]["assignedshares"] == ["all"]

        se.put("a", b"a" * 1000)
        se.put("d/b", b"b" * 500)
        assert srr(se.url)["storageshares"][0]["usedsize"] == 1600
        assert srr(se.url)["storageshares"][0]["numberoffiles"] == 3
        se.put("a", b"a" * 10, "storage.modify:/")  # overwrite: size changes, count does not
        with se.client("storage.modify:/") as c:
            c.request("MOVE", se.pfn("d/b"), headers={"Destination": se.pfn("a")})  # replaces a
            s = srr(se.url)
            assert (s["storageshares"][0]["usedsize"], s["storageshares"][0]["numberoffiles"]) == (600, 2)
            c.delete(se.pfn("old"))
        s = srr(se.url)
        assert (s["storagecapacity"]["online"]["usedsize"], s["storageshares"][0]["numberoffiles"]) == (500, 1)


def test_writes_beyond_capacity_are_refused(live_server: Any, tmp_path: Path) -> None:
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token, capacity=1000) as se:
        assert se.put("a", b"a" * 900).status_code == 201
        r = se.put("b", b"b" * 200)
        assert r.status_code == 507 and r.json()["error"] == "INSUFFICIENT_STORAGE"
        assert not (se.root / "b").exists()


def test_third_party_copy_beyond_capacity_fails(live_server: Any, tmp_path: Path) -> None:
    with (running_endpoint(tmp_path / "a", live_server.url, live_server.token) as a,
          running_endpoint(tmp_path / "b", live_server.url, live_server.token, capacity=1000) as b):
        a.put("big", b"x" * 5000)
        with b.client("storage.create:/") as c:
            r = c.request("COPY", b.pfn("big"), headers={
                "Source": a.pfn("big"), "TransferHeaderAuthorization": f"Bearer {a.token('storage.read:/')}"})
        assert r.text.strip().splitlines()[-1].startswith("failure:") and "do not fit" in r.text
        assert not (b.root / "big").exists()
