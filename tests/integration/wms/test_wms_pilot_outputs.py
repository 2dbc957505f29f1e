"""The pilot's output step through the catalogue: upload to the job's OutputSE or the
site's disk RSE (checksummed), register with metadata in the output dataset; record only
where the site has no storage; a named OutputSE that does not exist fails the upload."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from gridtest import LiveServer
from onegrid.client import OneGridClient
from onegrid.errors import Forbidden
from onegrid.iam.tables import AccountType
from onegrid.wms.pilot.catalog_output import CatalogOutputData, output_did, parse_dataset, pick_rse

DATASET = "belle:/belle/MC/release-08-00-00/P1/s0/r1003"
META = {"datatype": "mdst", "project": "P1", "run_number": 1003, "stream_name": "0", "events": 200,
        "first_event": 400}


def adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


@pytest.fixture
def catalog_grid(live_server: LiveServer, root_token: str, tmp_path: Path) -> tuple[LiveServer, str, Path]:
    """RSEs: KEK-DISK and KEK-TAPE at KEK (file:// storage), DESY-DISK at DESY; a pilot
    (SERVICE account) token."""
    storage = tmp_path / "storage"
    with OneGridClient(live_server.url, root_token) as c:
        cat = c.catalog
        cat.add_scope("belle", "root")
        for rse, site, kind in (("KEK-DISK", "KEK", "DISK"), ("KEK-TAPE", "KEK", "TAPE"),
                                ("DESY-DISK", "DESY", "DISK")):
            cat.add_rse(rse, rse_type=kind)
            cat.set_rse_attribute(rse, "site", site)
            cat.set_rse_attribute(rse, "lfn2pfn_algorithm", "identity")
            cat.add_protocol(rse, "file", "", 0, str(storage / rse))
    live_server.add_account("pilot", type=AccountType.SERVICE)
    return live_server, live_server.token("pilot", scopes=["compute.read", "compute.modify"]), storage


def outputs(tmp_path: Path, n: int = 2) -> list[tuple[Path, str]]:
    work = tmp_path / "job"
    work.mkdir(exist_ok=True)
    files = []
    for i in range(n):
        path = work / f"mdst_{i}.root"
        path.write_bytes(f"events of file {i}\n".encode() * (100 + i))
        files.append((path, f"/belle/MC/release-08-00-00/P1/s0/r1003/{path.name}"))
    return files


def test_outputs_go_to_the_sites_disk_rse_registered_with_metadata_in_the_dataset(
        catalog_grid: tuple[LiveServer, str, Path], root_token: str, tmp_path: Path) -> None:
    live, token, storage = catalog_grid
    files = outputs(tmp_path)
    with OneGridClient(live.url, token) as c:
        records = CatalogOutputData(c, site="KEK").store(files, None, owner="prodmgr", meta=META, dataset=DATASET)
    assert [r["se"] for r in records] == ["KEK-DISK", "KEK-DISK"] and all(r["registered"] for r in records)
    with OneGridClient(live.url, root_token) as c:
        cat = c.catalog
        content = sorted(d["name"] for d in cat.list_content("belle", DATASET.split(":", 1)[1]))
        assert content == sorted(lfn for _, lfn in files)
        for (path, lfn), rec in zip(files, records, strict=True):
            data = path.read_bytes()
            assert rec["adler32"] == adler(data) and rec["bytes"] == len(data)
            on_disk = storage / "KEK-DISK" / lfn.lstrip("/")
            assert on_disk.read_bytes() == data
            meta = cat.get_metadata("belle", lfn)
            assert (meta["datatype"], meta["run_number"], meta["events"], meta["project"]) == ("mdst", 1003, 200, "P1")
            assert meta["first_event"] == 400
            [rep] = cat.list_replicas([{"scope": "belle", "name": lfn}])
            assert list(rep["rses"]) == ["KEK-DISK"] and rep["adler32"] == adler(data)
    # The same outputs again (a rescheduled job): already registered with the same
    # content, so nothing is uploaded twice and the job does not fail.
    with OneGridClient(live.url, token) as c:
        again = CatalogOutputData(c, site="KEK").store(files, None, owner="prodmgr", meta=META, dataset=DATASET)
    assert [r["adler32"] for r in again] == [r["adler32"] for r in records]


def test_output_se_wins_over_the_site_and_an_unknown_one_fails(
        catalog_grid: tuple[LiveServer, str, Path], tmp_path: Path) -> None:
    live, token, storage = catalog_grid
    files = outputs(tmp_path, 1)
    with OneGridClient(live.url, token) as c:
        [rec] = CatalogOutputData(c, site="KEK").store(files, "DESY-DISK", meta=META, dataset=DATASET)
        assert rec["se"] == "DESY-DISK"
        assert (storage / "DESY-DISK" / files[0][1].lstrip("/")).is_file()
        with pytest.raises(RuntimeError, match="OutputSE NOWHERE-DISK"):
            CatalogOutputData(c, site="KEK").store(outputs(tmp_path, 2)[1:], "NOWHERE-DISK")


def test_a_site_without_storage_records_the_outputs_without_registering(
        catalog_grid: tuple[LiveServer, str, Path], tmp_path: Path) -> None:
    live, token, _ = catalog_grid
    files = outputs(tmp_path, 1)
    with OneGridClient(live.url, token) as c:
        [rec] = CatalogOutputData(c, site="NO-STORAGE-SITE").store(files, None, meta=META, dataset=DATASET)
    assert rec["registered"] is False and rec["adler32"] == adler(files[0][0].read_bytes())


def test_output_names_rse_choice_and_dataset_parsing() -> None:
    assert output_did("/belle/user/alice/jobs/7/out.dat", "alice") == ("user.alice", "/belle/user/alice/jobs/7/out.dat")
    assert output_did("/belle/MC/r/P/s0/r1/f.root", "prodmgr") == ("belle", "/belle/MC/r/P/s0/r1/f.root")
    assert output_did("user.bob:/x/y", "alice") == ("user.bob", "/x/y")
    assert parse_dataset("belle:/belle/MC/x") == {"scope": "belle", "name": "/belle/MC/x"}
    assert parse_dataset("/belle/MC/x") == {"scope": "belle", "name": "/belle/MC/x"}
    assert parse_dataset(None) is None
    rses = [{"rse": "B-TAPE", "rse_type": "TAPE"}, {"rse": "Z-DISK", "rse_type": "DISK"},
            {"rse": "A-DISK", "rse_type": "DISK", "availability_write": False}, {"rse": "C-DISK", "rse_type": "DISK"}]
    assert pick_rse(rses, {"Z-DISK"}) == "Z-DISK"
    assert pick_rse(rses, set()) == "C-DISK"
    assert pick_rse(rses[:1], set()) == "B-TAPE"
    assert pick_rse(rses[2:3], set()) is None


def test_a_users_outputs_go_to_the_users_scope_made_on_first_use(
        catalog_grid: tuple[LiveServer, str, Path], root_token: str, tmp_path: Path) -> None:
    live, token, _ = catalog_grid
    live.add_account("carol")
    path = tmp_path / "out.dat"
    path.write_bytes(b"carol's result\n")
    with OneGridClient(live.url, token) as c:
        [rec] = CatalogOutputData(c, site="KEK").store([(path, "/belle/user/carol/jobs/7/out.dat")], None,
                                                         owner="carol")
    assert rec["registered"] and rec["scope"] == "user.carol"
    with OneGridClient(live.url, root_token) as c:
        assert {"scope": "user.carol", "account": "carol"} in c.catalog.scope_owners()
    # Another user may not open someone's user scope.
    live.add_account("mallory")
    with OneGridClient(live.url, live.token("mallory")) as c, pytest.raises(Forbidden):
        c.catalog.add_replicas("KEK-DISK", [{"scope": "user.dave", "name": "x", "bytes": 1}])
