"""The HTTP storage client against nginx's WebDAV module: a storage we did not write,
which reports no checksums (so the client computes them) and no third-party copy."""

from __future__ import annotations

import hashlib
import os
import zlib
from pathlib import Path

import pytest

from onegrid.errors import AlreadyExists, NotFound
from onegrid.storage.client import for_url, is_recoverable
from onegrid.storage.client.http import HttpStorage, name_of


def _file(path: Path, size: int) -> tuple[Path, str, str]:
    data = os.urandom(size)
    path.write_bytes(data)
    return path, f"{zlib.adler32(data) & 0xFFFFFFFF:08x}", hashlib.md5(data).hexdigest()


def test_put_verifies_by_reading_back_when_the_server_gives_no_digest(nginx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, adler, md5 = _file(tmp_path / "a.bin", 9 * 1024 * 1024 + 17)  # several chunks, odd tail
    url = nginx.url + "/belle/x/y/a.bin"
    with for_url(url) as client:
        assert isinstance(client, HttpStorage)
        put = client.put(src, url)
        assert (put.size, put.adler32, put.md5) == (src.stat().st_size, adler, md5)
        assert (nginx.root / "belle/x/y/a.bin").read_bytes() == src.read_bytes()
        # HEAD alone: nginx reports size but no checksum.
        bare = client.stat(url)
        assert bare.size == src.stat().st_size and not bare.checksums and not bare.is_dir
        computed = client.stat(url, compute=True)
        assert (computed.adler32, computed.md5) == (adler, md5)


def test_get_streams_to_a_file_and_computes_checksums(nginx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, adler, md5 = _file(tmp_path / "b.bin", 5 * 1024 * 1024 + 3)
    (nginx.root / "d").mkdir()
    (nginx.root / "d/b.bin").write_bytes(src.read_bytes())
    seen: list[int] = []
    with HttpStorage() as client:
        got = client.get(nginx.url + "/d/b.bin", tmp_path / "out/b.bin", progress=seen.append)
    assert (got.size, got.adler32, got.md5) == (src.stat().st_size, adler, md5)
    assert (tmp_path / "out/b.bin").read_bytes() == src.read_bytes()
    assert not (tmp_path / "out/b.bin.part").exists()
    assert seen and seen[-1] == src.stat().st_size and seen == sorted(seen)


def test_get_resumes_a_partial_download_with_range(nginx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, adler, md5 = _file(tmp_path / "c.bin", 3 * 1024 * 1024)
    (nginx.root / "c.bin").write_bytes(src.read_bytes())
    dest = tmp_path / "c.out"
    (tmp_path / "c.out.part").write_bytes(src.read_bytes()[:1_000_000])
    with HttpStorage() as client:
        got = client.get(nginx.url + "/c.bin", dest, resume=True)
    assert (got.adler32, got.md5) == (adler, md5) and dest.read_bytes() == src.read_bytes()


def test_mkdir_makes_parents_and_tolerates_existing_and_list_shows_entries(nginx, nginx_has_propfind,  # type: ignore[no-untyped-def]
                                                                           tmp_path: Path) -> None:
    if not nginx_has_propfind:
        pytest.fail("libnginx-mod-http-dav-ext is missing: PROPFIND cannot be tested")
    with HttpStorage() as client:
        client.mkdir(nginx.url + "/p/q/r")
        client.mkdir(nginx.url + "/p/q/r/")  # again: 405 from nginx, tolerated
        assert (nginx.root / "p/q/r").is_dir()
        src, _, _ = _file(tmp_path / "f.bin", 1234)
        client.put(src, nginx.url + "/p/q/f.bin")
        entries = {name_of(e): e for e in client.list(nginx.url + "/p/q")}
        assert set(entries) == {"r", "f.bin"}
        assert entries["r"].is_dir and entries["f.bin"].size == 1234 and not entries["f.bin"].is_dir
        assert client.stat(nginx.url + "/p/q/r/", checksums=False).is_dir


def test_delete_and_errors_are_typed_with_the_servers_words(nginx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, _, _ = _file(tmp_path / "g.bin", 100)
    url = nginx.url + "/g.bin"
    with HttpStorage() as client:
        client.put(src, url)
        with pytest.raises(AlreadyExists):
            client.put(src, url)  # no overwrite unless asked
        client.put(src, url, overwrite=True)
        assert client.delete(url) is True
        assert client.delete(url) is False  # already gone: fine
        with pytest.raises(NotFound) as err:
            client.delete(url, missing_ok=False)
        assert "404" in err.value.message and url in err.value.message
        assert not is_recoverable(err.value)
        with pytest.raises(NotFound):
            client.stat(url)
        assert not client.exists(url)


def test_a_put_that_fails_verification_leaves_nothing_behind(nginx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from onegrid.storage.client import ChecksumMismatch

    src, _, _ = _file(tmp_path / "h.bin", 4096)
    url = nginx.url + "/h.bin"
    with HttpStorage() as client, pytest.raises(ChecksumMismatch):
        client.put(src, url, expected={"adler32": "00000001"})
    assert not (nginx.root / "h.bin").exists()


def test_unreachable_storage_is_unavailable_and_recoverable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from onegrid.errors import Unavailable

    with HttpStorage(timeout=5) as client, pytest.raises(Unavailable) as err:
        client.stat(f"http://127.0.0.1:{port}/x")
    assert is_recoverable(err.value)


def test_davs_scheme_maps_to_https() -> None:
    from onegrid.storage.client.http import http_url

    assert http_url("davs://se.example:443/belle/a") == "https://se.example:443/belle/a"
    assert http_url("dav://se.example/x") == "http://se.example/x"
