"""`onegrid upload` / `onegrid download` against a live OneGrid server and nginx WebDAV
as the RSEs' storage: checksums end to end, registration only after verified bytes,
another replica when one is corrupt (declared bad), files already present skipped."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from onegrid.client import OneGridClient
from onegrid.client.catalog import CatalogClient, pfn_for
from onegrid.errors import NotFound
from onegrid.storage.client.download import download
from onegrid.storage.client.upload import UploadItem, upload


def cli(server: str, token: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONEGRID_SERVER": server, "ONEGRID_TOKEN": token, "ONEGRID_NO_PROGRESS": "1"}
    proc = subprocess.run([sys.executable, "-m", "onegrid", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    if ok:
        assert proc.returncode == 0, f"onegrid {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc


def _adler(data: bytes) -> str:
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


@pytest.fixture
def grid(live_server, nginx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two RSEs on the nginx storage (different prefixes) and the `belle` scope."""
    token = live_server.token("root")
    cat = OneGridClient(live_server.url, token).catalog
    cat.add_scope("belle", "root")
    port = int(nginx.url.split(":")[2].split("/")[0])
    for rse in ("SITE-A-DISK", "SITE-B-DISK"):
        cat.add_rse(rse)
        cat.add_protocol(rse, "http", "127.0.0.1", port, f"/data/{rse.lower()}")
    return {"url": live_server.url, "token": token, "cat": cat, "nginx": nginx, "runtime": live_server.runtime}


def test_cli_upload_registers_verified_files_with_metadata_in_a_dataset(grid, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = []
    for i in range(3):
        f = tmp_path / f"run{i}.root"
        f.write_bytes(os.urandom(200_000 + i))
        files.append(f)
    out = cli(grid["url"], grid["token"], "upload", *map(str, files), "--rse", "SITE-A-DISK", "--scope", "belle",
              "--dataset", "belle:ds1", "--meta", "run_number=7", "--meta", "datatype=mdst", "--json")
    rows = json.loads(out.stdout)
    assert [r["state"] for r in rows] == ["DONE"] * 3
    cat: CatalogClient = grid["cat"]
    rse_info = cat.get_rse("SITE-A-DISK")
    for f in files:
        data = f.read_bytes()
        did = cat.get_did("belle", f.name)
        assert did["adler32"] == _adler(data) and did["bytes"] == len(data)
        assert cat.get_metadata("belle", f.name)["run_number"] == 7
        pfn = pfn_for(rse_info, "belle", f.name, operation="read")
        on_disk = grid["nginx"].root / pfn.split("/data/", 1)[1]
        assert on_disk.read_bytes() == data  # the bytes sit at the RSE's deterministic path
    assert sorted(c["name"] for c in cat.list_content("belle", "ds1")) == sorted(f.name for f in files)
    # The same upload again: already registered with the same content, nothing sent twice.
    again = json.loads(cli(grid["url"], grid["token"], "upload", str(files[0]), "--rse", "SITE-A-DISK",
                           "--scope", "belle", "--json").stdout)
    assert again[0]["state"] == "SKIPPED"


def test_a_failed_upload_is_never_registered_and_leaves_no_bytes(grid, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good, clash = tmp_path / "good.root", tmp_path / "clash.root"
    good.write_bytes(b"g" * 1000)
    clash.write_bytes(b"c" * 1000)
    cat: CatalogClient = grid["cat"]
    # `clash.root` is already in the catalogue with other content: that file must fail alone.
    cat.add_replicas("SITE-B-DISK", [{"scope": "belle", "name": "clash.root", "bytes": 5, "adler32": "00000001"}])
    results = upload(cat, [UploadItem(good, "belle", "good.root"), UploadItem(clash, "belle", "clash.root")],
                     rse="SITE-A-DISK")
    assert [r.state for r in results] == ["DONE", "FAILED"]
    assert "already registered" in results[1].error
    # A storage that refuses the bytes (a token-less write to a port with nothing behind it).
    cat.add_rse("DEAD-DISK")
    cat.add_protocol("DEAD-DISK", "http", "127.0.0.1", 9, "/data")
    proc = cli(grid["url"], grid["token"], "upload", str(good), "--rse", "DEAD-DISK", "--scope", "belle",
               "--name", "never.root", ok=False)
    assert proc.returncode == 1 and "never.root" in proc.stderr
    with pytest.raises(NotFound):
        cat.get_did("belle", "never.root")


def test_download_uses_another_replica_when_one_is_corrupt_and_declares_it_bad(grid, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cat: CatalogClient = grid["cat"]
    nginx = grid["nginx"]
    src = tmp_path / "f.root"
    data = os.urandom(300_000)
    src.write_bytes(data)
    assert upload(cat, [UploadItem(src, "belle", "f.root")], rse="SITE-A-DISK", dataset={"scope": "belle",
                                                                                           "name": "dsx"})[0].state == "DONE"
    # A second replica on SITE-B-DISK (the bytes placed as a transfer would).
    pfn_b = pfn_for(cat.get_rse("SITE-B-DISK"), "belle", "f.root", operation="write")
    path_b = nginx.root / pfn_b.split("/data/", 1)[1]
    path_b.parent.mkdir(parents=True)
    path_b.write_bytes(data)
    cat.add_replicas("SITE-B-DISK", [{"scope": "belle", "name": "f.root", "bytes": len(data),
                                      "adler32": _adler(data)}])
    # `--rse` limits the sources: only SITE-B is read though SITE-A comes first by name.
    only_b = download(cat, [{"scope": "belle", "name": "dsx"}], tmp_path / "only-b", rse_expression="SITE-B-DISK")
    assert [(r.state, r.rse, r.tried, r.bad) for r in only_b] == [("DONE", "SITE-B-DISK", ["SITE-B-DISK"], [])]
    # Corrupt the copy that is tried first (SITE-A, by name order without a client site).
    path_a = nginx.root / pfn_for(cat.get_rse("SITE-A-DISK"), "belle", "f.root").split("/data/", 1)[1]
    path_a.write_bytes(b"X" + data[1:])
    rows = json.loads(cli(grid["url"], grid["token"], "download", "belle:dsx", "--dir", str(tmp_path / "dl"),
                          "--json").stdout)
    assert rows[0]["state"] == "DONE" and rows[0]["rse"] == "SITE-B-DISK" and rows[0]["bad"] == ["SITE-A-DISK"]
    assert (tmp_path / "dl/belle/f.root").read_bytes() == data
    bad = cat.list_bad_replicas("SITE-A-DISK")
    assert [(b["name"], b["rse"]) for b in bad] == [("f.root", "SITE-A-DISK")]
    # One trace per attempt, for popularity: the `--rse` read, then the corrupt read and the good one.
    import sqlalchemy as sa

    from onegrid.catalog.tables import Trace

    with grid["runtime"].reading() as s:
        seen = s.execute(sa.select(Trace.event_type, Trace.rse, Trace.client_state, Trace.dataset)
                         .where(Trace.name == "f.root", Trace.event_type == "download").order_by(Trace.id)).all()
    assert [tuple(t) for t in seen] == [("download", "SITE-B-DISK", "DONE", "dsx"),
                                        ("download", "SITE-A-DISK", "CORRUPTED", "dsx"),
                                        ("download", "SITE-B-DISK", "DONE", "dsx")]
    # Again: the file is present with the right checksum, nothing is read.
    path_b.write_bytes(b"gone")
    again = download(cat, [{"scope": "belle", "name": "f.root"}], tmp_path / "dl")
    assert again[0].state == "ALREADY_PRESENT"


def test_download_fails_loudly_when_no_replica_is_good(grid, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cat: CatalogClient = grid["cat"]
    src = tmp_path / "lost.root"
    src.write_bytes(b"abc" * 1000)
    upload(cat, [UploadItem(src, "belle", "lost.root")], rse="SITE-A-DISK")
    pfn = pfn_for(cat.get_rse("SITE-A-DISK"), "belle", "lost.root")
    (grid["nginx"].root / pfn.split("/data/", 1)[1]).unlink()
    proc = cli(grid["url"], grid["token"], "download", "belle:lost.root", "--dir", str(tmp_path / "dl"), ok=False)
    assert proc.returncode == 1 and "lost.root" in proc.stderr and "404" in proc.stderr
    assert not (tmp_path / "dl/belle/lost.root").exists()
    assert hashlib.md5(src.read_bytes()).hexdigest() == cat.get_did("belle", "lost.root")["md5"]
