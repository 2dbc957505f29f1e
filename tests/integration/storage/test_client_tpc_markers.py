"""Reading an HTTP-TPC `202` body (SPECS §1): markers, then a verdict on the last line."""

from __future__ import annotations

import pytest

from onegrid.storage.client import ChecksumMismatch, PerfMarker, TransferFailed
from onegrid.storage.client.checksums import parse_digest, want_digest
from onegrid.storage.client.tpc import copy_headers, read_markers

BODY = """Perf Marker
Timestamp: 1700000000
Stripe Index: 0
Stripe Bytes Transferred: 1048576
Total Stripe Count: 1
End
Perf Marker
Timestamp: 1700000005
Stripe Index: 0
Stripe Bytes Transferred: 2097152
Total Stripe Count: 1
End
"""


def test_markers_are_reported_and_success_is_read_from_the_last_line() -> None:
    seen: list[PerfMarker] = []
    result = read_markers(iter((BODY + "success: Created\n").splitlines()), seen.append)
    assert [m.bytes_transferred for m in seen] == [1048576, 2097152]
    assert seen[1].timestamp == 1700000005 and result.markers == 2 and result.bytes_transferred == 2097152


@pytest.mark.parametrize(("verdict", "recoverable"), [
    ("failure: Remote side failed with status code 404", False),
    ("failure: permission denied on destination", False),
    ("failure: destination already exists and Overwrite: F", False),
    ("failure: connection reset by peer", True),
    ("aborted: transfer idle for 300 s", True),
])
def test_failure_lines_become_typed_errors_that_say_whether_to_retry(verdict: str, recoverable: bool) -> None:
    with pytest.raises(TransferFailed) as err:
        read_markers(iter((BODY + verdict).splitlines()))
    assert err.value.recoverable is recoverable and err.value.message == verdict


def test_a_checksum_failure_and_a_body_without_verdict() -> None:
    with pytest.raises(ChecksumMismatch):
        read_markers(iter(["failure: checksum mismatch: adler32 0a != 0b"]))
    with pytest.raises(TransferFailed) as err:
        read_markers(iter(BODY.splitlines()))  # the connection closed mid-copy
    assert err.value.recoverable and "2097152" in err.value.message


def test_pull_and_push_send_each_token_to_its_party() -> None:
    target, h = copy_headers("davs://src:1094/belle/a", "https://dst/belle/a", "pull", "S", "D", overwrite=False)
    assert target == "https://dst/belle/a" and h["Source"] == "https://src:1094/belle/a"
    assert h["Authorization"] == "Bearer D" and h["TransferHeaderAuthorization"] == "Bearer S"
    assert h["Overwrite"] == "F"
    target, h = copy_headers("https://src/a", "davs://dst/a", "push", "S", "D", overwrite=True)
    assert target == "https://src/a" and h["Destination"] == "https://dst/a"
    assert h["Authorization"] == "Bearer S" and h["TransferHeaderAuthorization"] == "Bearer D"


def test_digest_headers_in_both_md5_spellings() -> None:
    assert parse_digest("adler32=0A0b0c0d, md5=1B2M2Y8AsgTpgAmY7PhCfg==") == {
        "adler32": "0a0b0c0d", "md5": "d41d8cd98f00b204e9800998ecf8427e"}
    assert parse_digest("md5=d41d8cd98f00b204e9800998ecf8427e")["md5"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert parse_digest("md5=:1B2M2Y8AsgTpgAmY7PhCfg==:")["md5"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert want_digest().startswith("adler32")
