"""WLCG HTTP third-party copy, the client side (SPECS §1; gfal2's `gfal_http_copy.cpp`).

The `COPY` goes to the active party: the destination with `Source:` (pull) or the source
with `Destination:` (push). The passive party's token travels as
`TransferHeaderAuthorization`, which the active party forwards as `Authorization`. The
answer is `202` and a chunked text body of performance markers; only the last line says
whether the copy worked, so it is read to the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import httpx

from onegrid.errors import OneGridError
from onegrid.storage.client.base import (
    ChecksumMismatch,
    PerfMarker,
    TpcMode,
    TransferFailed,
    TransferResult,
    is_recoverable,
)
from onegrid.storage.client.errors import error_for, network_error, server_message

# Seconds without a byte from the active party before the copy is given up (markers come
# at least every 30 s by the spec, every 5 s from xrootd and ours).
DEFAULT_MARKER_TIMEOUT = 120.0
MAX_REDIRECTS = 5
# Words in a `failure:` line that mean trying again cannot help.
_PERMANENT_WORDS = ("404", "not found", "no such file", "403", "forbidden", "permission", "401", "unauthori",
                    "already exists", "412", "overwrite", "400 ", "bad request")


def _http(url: str) -> str:
    from onegrid.storage.client.http import http_url

    return http_url(url)


def copy_headers(source_url: str, dest_url: str, mode: TpcMode, source_token: str | None, dest_token: str | None,
                 overwrite: bool) -> tuple[str, dict[str, str]]:
    """The URL that receives the `COPY` and its headers."""
    src, dst = _http(source_url), _http(dest_url)
    if mode == "pull":
        target, own, remote = dst, dest_token, source_token
        headers = {"Source": src}
    elif mode == "push":
        target, own, remote = src, source_token, dest_token
        headers = {"Destination": dst}
    else:
        raise TransferFailed(f"unknown third-party copy mode {mode!r} (pull or push)", recoverable=False)
    headers["Overwrite"] = "T" if overwrite else "F"
    headers["Credential"] = "none"  # no X.509 delegation: tokens only
    if own:
        headers["Authorization"] = f"Bearer {own}"
    if remote:
        headers["TransferHeaderAuthorization"] = f"Bearer {remote}"
    return target, headers


def copy(http: httpx.Client, source_url: str, dest_url: str, *, mode: TpcMode = "pull",
         source_token: str | None = None, dest_token: str | None = None,
         on_marker: Callable[[PerfMarker], None] | None = None, overwrite: bool = True,
         timeout: float | None = None, measure: bool = True) -> TransferResult:
    """One HTTP-TPC copy; see `StorageClient.third_party_copy`. `timeout`: seconds of
    silence (no marker) after which the copy is abandoned as failed (recoverable).
    `measure=False` skips asking the destination for its size afterwards (a caller that
    checks the destination itself saves a request)."""
    target, headers = copy_headers(source_url, dest_url, mode, source_token, dest_token, overwrite)
    read_timeout = httpx.Timeout(timeout or DEFAULT_MARKER_TIMEOUT, connect=30)
    for _ in range(MAX_REDIRECTS):
        try:
            with http.stream("COPY", target, headers=headers, timeout=read_timeout) as r:
                if r.status_code in (301, 302, 303, 307, 308) and "Location" in r.headers:
                    target = urljoin(target, r.headers["Location"])
                    continue
                if r.is_error:
                    r.read()
                    raise _refused(r, f"COPY {target}")
                if r.status_code != 202:
                    # Some servers copy synchronously and answer 201/204 with no markers.
                    r.read()
                    done = TransferResult(0, 0, f"success: {r.status_code}")
                    return _finish(http, dest_url, dest_token, done) if measure else done
                result = read_markers(r.iter_lines(), on_marker)
        except httpx.HTTPError as exc:
            err = network_error(exc, f"COPY {target}")
            raise TransferFailed(err.message, recoverable=True) from exc
        return _finish(http, dest_url, dest_token, result) if measure else result
    raise TransferFailed(f"COPY {target}: too many redirects", recoverable=False)


def _refused(r: httpx.Response, what: str) -> OneGridError:
    """A `COPY` refused before any byte moved: the mapped error, marked recoverable or not."""
    err = error_for(r, what)
    err.recoverable = is_recoverable(err)  # type: ignore[attr-defined]
    if r.status_code == 412:
        err.message = f"{what}: destination exists and overwrite was not asked ({server_message(r)})"
    return err


def read_markers(lines: Iterator[str], on_marker: Callable[[PerfMarker], None] | None = None) -> TransferResult:
    """Read a `202` body: markers to `on_marker`, then the closing line. Raises
    `TransferFailed` for `failure:`/`aborted:` or a body that ends without a verdict."""
    block: dict[str, str] | None = None
    last_bytes, markers, verdict = 0, 0, ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line == "Perf Marker":
            block = {}
        elif line == "End" and block is not None:
            marker = _marker(block)
            last_bytes, markers, block = marker.bytes_transferred, markers + 1, None
            if on_marker:
                on_marker(marker)
        elif block is not None:
            key, _, value = line.partition(":")
            block[key.strip()] = value.strip()
        else:
            verdict = line
    low = verdict.lower()
    if low.startswith("success"):
        return TransferResult(bytes_transferred=last_bytes, markers=markers, message=verdict)
    if not verdict:
        raise TransferFailed(f"third-party copy ended without a verdict after {markers} markers "
                             f"({last_bytes} bytes)", recoverable=True)
    if "checksum" in low and ("mismatch" in low or "differ" in low):
        raise ChecksumMismatch(verdict, recoverable=True)
    permanent = any(w in low for w in _PERMANENT_WORDS)
    raise TransferFailed(verdict, recoverable=not permanent)


def _marker(block: dict[str, Any]) -> PerfMarker:
    def num(key: str, default: float = 0) -> float:
        try:
            return float(block.get(key, default))
        except ValueError:
            return default

    return PerfMarker(timestamp=num("Timestamp"), bytes_transferred=int(num("Stripe Bytes Transferred")),
                      stripe_index=int(num("Stripe Index")), total_stripes=int(num("Total Stripe Count", 1)))


def _finish(http: httpx.Client, dest_url: str, dest_token: str | None, result: TransferResult) -> TransferResult:
    """The destination's size is the number of bytes copied: the last marker may predate
    the end of the copy (or there was none: a small file, a synchronous copy)."""
    headers = {"Authorization": f"Bearer {dest_token}"} if dest_token else {}
    try:
        r = http.head(_http(dest_url), headers=headers, follow_redirects=True)
        size = int(r.headers.get("Content-Length") or 0) if r.is_success else 0
    except httpx.HTTPError:
        size = 0
    return TransferResult(bytes_transferred=size or result.bytes_transferred, markers=result.markers,
                          message=result.message)
