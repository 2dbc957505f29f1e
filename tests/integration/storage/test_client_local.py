"""The local-file storage client: the same interface over `file://` URLs."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest

from onegrid.errors import AlreadyExists, InvalidInput, NotFound
from onegrid.storage.client import ChecksumMismatch, Locality, PerfMarker, for_url, third_party_copy
from onegrid.storage.client.local import LocalStorage, file_url


def test_put_get_stat_list_delete_round_trip(tmp_path: Path) -> None:
    data = os.urandom(5 * 1024 * 1024 + 11)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    url = file_url(tmp_path / "se/belle/a/src.bin")
    client = for_url(url)
    assert for_url(url).__enter__() is not None
    assert isinstance(client, LocalStorage)
    put = client.put(src, url)
    assert put.adler32 == f"{zlib.adler32(data) & 0xFFFFFFFF:08x}" and put.size == len(data)
    stat = client.stat(url)
    assert (stat.size, stat.adler32, stat.md5) == (put.size, put.adler32, put.md5)
    with pytest.raises(AlreadyExists):
        client.put(src, url)
    got = client.get(url, tmp_path / "out/copy.bin")
    assert got.md5 == put.md5 and (tmp_path / "out/copy.bin").read_bytes() == data
    client.mkdir(file_url(tmp_path / "se/belle/a/sub"))
    names = sorted((e.url.rsplit("/", 1)[-1], e.is_dir) for e in client.list(file_url(tmp_path / "se/belle/a")))
    assert names == [("src.bin", False), ("sub", True)]
    assert client.delete(url) and not client.delete(url)
    with pytest.raises(NotFound):
        client.delete(url, missing_ok=False)
    with pytest.raises(NotFound):
        client.stat(url)


def test_a_put_with_a_wrong_expected_checksum_leaves_nothing(tmp_path: Path) -> None:
    src = tmp_path / "s"
    src.write_bytes(b"hello")
    url = file_url(tmp_path / "se/s")
    with pytest.raises(ChecksumMismatch):
        LocalStorage().put(src, url, expected={"adler32": "deadbeef"})
    assert not (tmp_path / "se/s").exists()
    assert not any((tmp_path / "se").iterdir())


def test_local_copy_reports_a_marker_and_honours_overwrite(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "b").write_bytes(b"old")
    markers: list[PerfMarker] = []
    with pytest.raises(AlreadyExists):
        third_party_copy(file_url(tmp_path / "a"), file_url(tmp_path / "b"), overwrite=False)
    result = third_party_copy(file_url(tmp_path / "a"), file_url(tmp_path / "b"), on_marker=markers.append)
    assert result.bytes_transferred == 1000 and markers[-1].bytes_transferred == 1000
    assert (tmp_path / "b").read_bytes() == b"x" * 1000


def test_local_storage_has_no_tape(tmp_path: Path) -> None:
    client = LocalStorage()
    (tmp_path / "f").write_bytes(b"1")
    assert client.archive_info([file_url(tmp_path / "f"), file_url(tmp_path / "g")]) == {
        file_url(tmp_path / "f"): Locality.DISK, file_url(tmp_path / "g"): Locality.NONE}
    with pytest.raises(InvalidInput):
        client.stage([file_url(tmp_path / "f")])
    with pytest.raises(InvalidInput):
        for_url("gsiftp://old.example/x")


def test_download_destinations_keep_folders_and_never_leave_the_directory(tmp_path: Path) -> None:
    from onegrid.storage.client.download import local_destination

    assert local_destination(tmp_path, "belle", "/belle/MC/r1/f.root") == tmp_path / "belle/belle/MC/r1/f.root"
    assert local_destination(tmp_path, "user.alice", "f.root") == tmp_path / "user.alice/f.root"
    for scope, name in (("belle", "../../etc/passwd"), ("belle", "/a/../../b"), ("..", "f"), ("belle", "/")):
        with pytest.raises(InvalidInput):
            local_destination(tmp_path, scope, name)
