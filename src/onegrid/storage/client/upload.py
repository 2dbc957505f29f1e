"""Upload files to an RSE and register them, in that order and only if the bytes are right.

For each file: the deterministic URL on the RSE's write protocol, a streamed `put` that
computes adler32 and md5 on the way, the storage's own report of the file compared with
them, and only then the catalogue registration (with the dataset attachment). A file that
fails anywhere is removed from the storage and never registered: the catalogue never
names bytes that are not there (the invariant Rucio's `upload` keeps with its
`COPYING`-state replica, here by ordering alone).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onegrid.client.catalog import CatalogClient, pfn_for, protocol_for
from onegrid.errors import AlreadyExists, InvalidInput, NotFound, OneGridError
from onegrid.storage.client import HTTP_SCHEMES, for_url, tokens
from onegrid.storage.client.base import StorageClient
from onegrid.storage.client.checksums import of_file

SUPPORTED_SCHEMES = (*HTTP_SCHEMES, "file")
# Files in flight at once: enough to hide per-request latency on many small files.
DEFAULT_WORKERS = 8


@dataclass(frozen=True)
class UploadItem:
    path: Path
    scope: str
    name: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class UploadResult:
    item: UploadItem
    pfn: str = ""
    bytes: int = 0
    adler32: str = ""
    md5: str = ""
    state: str = "PENDING"  # DONE, SKIPPED (already registered with the same content), FAILED
    error: str = ""

    def as_row(self) -> dict[str, Any]:
        return {"did": f"{self.item.scope}:{self.item.name}", "path": str(self.item.path), "state": self.state,
                "bytes": self.bytes, "adler32": self.adler32, "md5": self.md5, "pfn": self.pfn, "error": self.error}


# Called as files progress: (item, bytes done so far); and with each result at the end.
OnBytes = Callable[[UploadItem, int], None]
OnDone = Callable[[UploadResult], None]


def write_scheme(rse_info: Mapping[str, Any]) -> str:
    """The first write protocol of the RSE that this client speaks."""
    for scheme in (None, *SUPPORTED_SCHEMES):
        with contextlib.suppress(OneGridError):
            proto = protocol_for(rse_info, "write", scheme)
            if proto["scheme"] in SUPPORTED_SCHEMES:
                return str(proto["scheme"])
    raise InvalidInput(f"RSE {rse_info.get('rse')} has no write protocol this client speaks "
                       f"({', '.join(SUPPORTED_SCHEMES)})")


def upload(catalog: CatalogClient, items: Sequence[UploadItem], *, rse: str, dataset: Mapping[str, str] | None = None,
           storage_token: str | None = None, workers: int = DEFAULT_WORKERS, on_bytes: OnBytes | None = None,
           on_done: OnDone | None = None, storage: StorageClient | None = None) -> list[UploadResult]:
    """Upload and register `items` on `rse` (attached to `dataset`, made if missing).
    Returns one result per item; registration happens once, for all the files that
    arrived intact, and if it fails their copies are removed again."""
    rse_info = catalog.get_rse(rse)
    scheme = write_scheme(rse_info)
    results = [UploadResult(item) for item in items]
    for r in results:
        r.pfn = pfn_for(rse_info, r.item.scope, r.item.name, operation="write", scheme=scheme)
    if results and storage is None and storage_token is None:
        storage_token = tokens.storage_token(catalog.t, [r.pfn for r in results], write=True)
    client = storage or (for_url(results[0].pfn, storage_token) if results else None)

    def one(r: UploadResult) -> UploadResult:
        assert client is not None
        try:
            if _already_registered(catalog, r):
                return r
            # Not in the catalogue: whatever sits at the path is an orphan of an earlier
            # failed attempt, so it is overwritten.
            stat = client.put(r.item.path, r.pfn, overwrite=True,
                              progress=(lambda n: on_bytes(r.item, n)) if on_bytes else None)
            r.bytes, r.adler32, r.md5 = stat.size, stat.adler32 or "", stat.md5 or ""
            r.state = "UPLOADED"
        except (OneGridError, OSError) as exc:
            r.state, r.error = "FAILED", _message(exc)
        return r

    try:
        if results:
            # Each worker also looks its file up in the catalogue: those round trips overlap.
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(results)))) as pool:
                list(pool.map(one, results))
        arrived = [r for r in results if r.state == "UPLOADED"]
        if arrived:
            _register(catalog, rse, arrived, dataset, client)
    finally:
        if client is not None and storage is None:
            client.close()
    if dataset is not None:
        _attach_skipped(catalog, dataset, [r for r in results if r.state == "SKIPPED"])
    for r in results:
        if on_done:
            on_done(r)
    _traces(catalog, results, rse)
    return results


def _already_registered(catalog: CatalogClient, r: UploadResult) -> bool:
    """A DID already in the catalogue with the same adler32 is not uploaded again (as
    Rucio's upload does: `SKIPPED`); with other content it is an error for that file."""
    if not r.item.path.is_file():
        r.state, r.error = "FAILED", f"{r.item.path}: no such file"
        return True
    try:
        did = catalog.get_did(r.item.scope, r.item.name)
    except NotFound:
        return False
    local = of_file(r.item.path)
    if (did.get("adler32") or "").lower().zfill(8) == local.adler32:
        r.state, r.bytes, r.adler32, r.md5 = "SKIPPED", local.bytes, local.adler32, local.md5
    else:
        r.state = "FAILED"
        r.error = (f"{r.item.scope}:{r.item.name} is already registered with adler32 {did.get('adler32')}, "
                   f"this file has {local.adler32}: choose another name")
    return True


def _register(catalog: CatalogClient, rse: str, arrived: list[UploadResult], dataset: Mapping[str, str] | None,
              client: StorageClient | None) -> None:
    files = [{"scope": r.item.scope, "name": r.item.name, "bytes": r.bytes, "adler32": r.adler32, "md5": r.md5,
              "meta": dict(r.item.meta)} for r in arrived]
    try:
        catalog.add_files(rse, files, dataset=dataset, create_dataset=True)
    except OneGridError as exc:
        # Not registered: the copies would be dark data, so they go again.
        for r in arrived:
            if client is not None:
                with contextlib.suppress(OneGridError):
                    client.delete(r.pfn)
            r.state, r.error = "FAILED", f"registration failed, copy removed: {exc.message}"
        return
    for r in arrived:
        r.state = "DONE"


def _attach_skipped(catalog: CatalogClient, dataset: Mapping[str, str], skipped: list[UploadResult]) -> None:
    if not skipped:
        return
    with contextlib.suppress(AlreadyExists):
        catalog.add_dataset(dataset["scope"], dataset["name"])
    with contextlib.suppress(AlreadyExists):
        catalog.attach(dataset["scope"], dataset["name"],
                       [{"scope": r.item.scope, "name": r.item.name} for r in skipped])


def _traces(catalog: CatalogClient, results: list[UploadResult], rse: str) -> None:
    """One `upload` trace per file, all in one request (the traces route takes a list)."""
    traces = [{"eventType": "upload", "clientState": r.state, "scope": r.item.scope, "filename": r.item.name,
               "remoteSite": rse, "filesize": r.bytes or None, "eventVersion": "onegrid",
               "stateReason": r.error or None} for r in results]
    # Best effort: the uploads have already succeeded or failed.
    with contextlib.suppress(OneGridError):
        if traces:
            catalog.t.request("POST", "/traces/", content=json.dumps(traces))


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, OneGridError) else f"{type(exc).__name__}: {exc}"
