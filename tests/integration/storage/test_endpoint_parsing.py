"""The endpoint's pure parsers: ranges, digests, request paths (no server needed)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onegrid.errors import Forbidden, InvalidInput, NotFound
from onegrid.storage.endpoint.checksums import (
    StreamingChecksum,
    digest_header,
    parse_digest_header,
    parse_want_digest,
    parse_want_repr_digest,
    repr_digest_header,
)
from onegrid.storage.endpoint.http import HttpError
from onegrid.storage.endpoint.paths import PathResolver
from onegrid.storage.endpoint.tpc import perf_marker
from onegrid.storage.endpoint.webdav_read import parse_range


@pytest.mark.parametrize(("header", "size", "expected"), [
    (None, 100, None),
    ("bytes=0-9", 100, (0, 10)),
    ("bytes=90-", 100, (90, 10)),
    ("bytes=-10", 100, (90, 10)),
    ("bytes=-1000", 100, (0, 100)),
    ("bytes=50-5000", 100, (50, 50)),
    ("bytes=0-1,5-6", 100, None),  # multipart: the whole file is a valid answer
    ("items=0-1", 100, None),
    ("bytes=9-3", 100, None),
])
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=200-300"])
def test_unsatisfiable_ranges_are_416(header: str) -> None:
    with pytest.raises(HttpError) as err:
        parse_range(header, 100)
    assert err.value.http_status == 416 and err.value.headers["content-range"] == "bytes */100"


def test_want_digest_order_case_and_q_values() -> None:
    assert parse_want_digest("ADLER32, md5;q=0.5") == ["adler32", "md5"]
    assert parse_want_digest("md5;q=0, adler32") == ["adler32"]
    assert parse_want_digest("sha-256, UNIXcksum") == []
    assert parse_want_digest(None) == []


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_streaming_checksum_equals_one_shot(data: bytes, step: int) -> None:
    cs = StreamingChecksum(md5=True)
    for i in range(0, len(data), step):
        cs.update(data[i:i + step])
    assert cs.values() == {"adler32": f"{zlib.adler32(data):08x}", "md5": hashlib.md5(data).hexdigest()}
    assert cs.size == len(data)


def test_digest_header_round_trip_rfc3230() -> None:
    data = b"grid"
    values = {"adler32": f"{zlib.adler32(data):08x}", "md5": hashlib.md5(data).hexdigest()}
    header = digest_header(values, ["adler32", "md5"])
    assert header == f"adler32={values['adler32']},md5={base64.b64encode(hashlib.md5(data).digest()).decode()}"
    assert parse_digest_header(header) == values
    assert parse_digest_header("ADLER32=0A0B0C0D") == {"adler32": "0a0b0c0d"}
    assert parse_digest_header("adler32=1f") == {"adler32": "0000001f"}  # leading zeros dropped by some servers
    assert parse_digest_header("garbage, md5=!!!") == {}


def test_perf_marker_format() -> None:
    assert perf_marker(1537788010.7, 238745).decode() == (
        "Perf Marker\nTimestamp: 1537788010\nStripe Index: 0\nStripe Bytes Transferred: 238745\n"
        "Total Stripe Count: 1\nEnd\n")


def test_paths_map_the_base_path_to_the_root(tmp_path: Path) -> None:
    r = PathResolver(tmp_path, "/belle")
    p = r.resolve("/belle/mc//run1/f.root")
    assert (p.logical, p.relpath, p.scope_path) == ("/belle/mc/run1/f.root", "mc/run1/f.root", "/mc/run1/f.root")
    assert p.fs == Path(tmp_path.resolve(), "mc/run1/f.root")
    assert r.resolve("/belle").is_root and r.resolve("/belle/").scope_path == "/"
    with pytest.raises(NotFound):
        r.resolve("/belleX/f")
    with pytest.raises(NotFound):
        r.resolve("/etc/passwd")
    for bad in ("/belle/../x", "/belle/a/./b", "/belle/.onegrid/x", "/belle/a/.onegrid-part-123"):
        with pytest.raises(Forbidden):
            r.resolve(bad)
    for bad in ("belle/x", "/belle/a\x00b", "/belle/a\\..\\b"):
        with pytest.raises(InvalidInput):
            r.resolve(bad)
    assert r.resolve_url("http://host:1/belle/a%20b").relpath == "a b"


def test_repr_digest_rfc9530() -> None:
    assert parse_want_repr_digest("md5=1, adler=5, sha-256=9") == ["adler32", "md5"]
    assert parse_want_repr_digest("adler=0, md5") == ["md5"]
    values = {"adler32": "0a0b0c0d", "md5": hashlib.md5(b"x").hexdigest()}
    assert repr_digest_header(values, ["adler32"]) == f"adler=:{base64.b64encode(bytes.fromhex('0a0b0c0d')).decode()}:"
