"""Clients for storage that OneGrid or anyone else runs: one interface (`StorageClient`),
an HTTP/WebDAV implementation (any WebDAV server: ours, dCache, EOS, XRootD, nginx) and a
local-file one. `for_url(url, token=...)` gives the right client for a URL.

Used by the conveyor (`third_party_copy`, `stat`, `delete`, the tape calls), the reaper
(`delete`), `onegrid upload/download` and the pilot.
"""

from __future__ import annotations

from collections.abc import Callable

from onegrid.errors import InvalidInput
from onegrid.storage.client.base import (
    ChecksumMismatch,
    FileStat,
    Locality,
    PerfMarker,
    StagedFile,
    StageState,
    StageStatus,
    StorageClient,
    TpcMode,
    TransferFailed,
    TransferResult,
    is_recoverable,
)

__all__ = [
    "ChecksumMismatch", "FileStat", "Locality", "PerfMarker", "StageState", "StageStatus", "StagedFile",
    "StorageClient", "TpcMode", "TransferFailed", "TransferResult", "for_url", "is_recoverable",
    "third_party_copy",
]

HTTP_SCHEMES = ("https", "http", "davs", "dav")


def scheme_of(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep else "file"


def for_url(url: str, token: str | None = None, *, timeout: float = 300,
            verify: bool | str | None = None) -> StorageClient:
    """The storage client for a URL's scheme, sending `token` as a bearer token (HTTP).
    `verify`: TLS verification (True, False, a CA bundle path; None: `$ONEGRID_CA_BUNDLE`,
    `$X509_CERT_DIR`, then the system store)."""
    scheme = scheme_of(url)
    if scheme in HTTP_SCHEMES:
        from onegrid.storage.client.http import HttpStorage

        return HttpStorage(token=token, timeout=timeout, verify=verify)
    if scheme == "file":
        from onegrid.storage.client.local import LocalStorage

        return LocalStorage()
    raise InvalidInput(f"no storage client for scheme {scheme!r} in {url} (known: file, {', '.join(HTTP_SCHEMES)})")


def third_party_copy(source_url: str, dest_url: str, *, mode: TpcMode = "pull", source_token: str | None = None,
                     dest_token: str | None = None, on_marker: Callable[[PerfMarker], None] | None = None,
                     overwrite: bool = True, timeout: float | None = None,
                         measure: bool = True) -> TransferResult:
    """HTTP-TPC between two storages (see `StorageClient.third_party_copy`): the client
    is chosen by the URL that receives the `COPY` (the destination for pull, the source
    for push); local-to-local copies are done directly."""
    active = dest_url if mode == "pull" else source_url
    client = for_url(active, dest_token if mode == "pull" else source_token)
    try:
        return client.third_party_copy(source_url, dest_url, mode=mode, source_token=source_token,
                                       dest_token=dest_token, on_marker=on_marker, overwrite=overwrite,
                                       timeout=timeout, measure=measure)
    finally:
        client.close()
