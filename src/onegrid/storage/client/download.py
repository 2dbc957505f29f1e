"""Download DIDs: files, datasets and containers resolved through the catalogue, each
file read from the best replica that works, checked against the catalogue's checksums.

Sources are tried in the order the catalogue gives for the client's site (its replicas
first, then by distance), available replicas before others. A replica that is missing or
whose bytes do not match the catalogue is declared bad (so the grid repairs it) and the
next one is tried; one that is only unreachable is skipped without blame. A file already
present with the right checksum is not read again. Each file sends a trace (popularity).
The pilot's input-data step reads its files through `fetch_file` too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onegrid.client.catalog import CatalogClient
from onegrid.errors import InvalidInput, NotFound, OneGridError
from onegrid.storage.client import HTTP_SCHEMES, for_url, scheme_of, tokens
from onegrid.storage.client.base import FileStat, StorageClient
from onegrid.storage.client.checksums import mismatches, of_file

READ_SCHEMES = ("davs", "https", "http", "dav", "file")
DEFAULT_WORKERS = 4
# Replica states that are worth trying, best first (the catalogue's ReplicaState names).
_STATE_RANK = {"AVAILABLE": 0, "A": 0, "COPYING": 2, "C": 2, "UNAVAILABLE": 3, "U": 3, "TEMPORARY_UNAVAILABLE": 3,
               "T": 3}


@dataclass
class DownloadResult:
    scope: str
    name: str
    dest: Path
    state: str = "PENDING"  # DONE, ALREADY_PRESENT, FAILED
    rse: str = ""
    bytes: int = 0
    adler32: str = ""
    error: str = ""
    bad: list[str] = field(default_factory=list)  # RSEs whose replica was declared bad
    tried: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {"did": f"{self.scope}:{self.name}", "path": str(self.dest), "state": self.state, "rse": self.rse,
                "bytes": self.bytes, "adler32": self.adler32, "bad": self.bad, "error": self.error}


OnBytes = Callable[[str, int], None]  # (scope:name, bytes done)
OnDone = Callable[[DownloadResult], None]


class StorageClients:
    """One storage client per kind of URL, all sending the same token; thread-safe as httpx is."""

    def __init__(self, token: str | None = None, *, timeout: float = 300) -> None:
        self.token = token
        self.timeout = timeout
        self._by_kind: dict[str, StorageClient] = {}

    def for_url(self, url: str) -> StorageClient:
        kind = "http" if scheme_of(url) in HTTP_SCHEMES else scheme_of(url)
        if kind not in self._by_kind:
            self._by_kind[kind] = for_url(url, self.token, timeout=self.timeout)
        return self._by_kind[kind]

    def close(self) -> None:
        for client in self._by_kind.values():
            client.close()


def local_destination(dest_dir: Path, scope: str, name: str) -> Path:
    """`DIR/<scope>/<name>`; a name that is a path (`/belle/MC/.../f.root`) keeps its folders,
    so two files of one name in different folders do not collide. Nothing may lead
    outside `DIR` (`..`, absolute names)."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or "/" in scope or scope in ("", ".", ".."):
        raise InvalidInput(f"{scope}:{name} cannot be stored below {dest_dir}")
    return dest_dir.joinpath(scope, *parts)


def ordered_sources(entry: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """`(pfn, info)` of a `list_replicas` entry, best first: available before others, then
    the catalogue's priority (client site first, then distance), then the RSE name."""
    pfns = [(pfn, dict(info)) for pfn, info in (entry.get("pfns") or {}).items()
            if scheme_of(pfn) in READ_SCHEMES]
    states = entry.get("states") or {}

    def key(item: tuple[str, dict[str, Any]]) -> tuple[int, int, int, str]:
        info = item[1]
        state = str(states.get(info.get("rse"), "AVAILABLE")).upper()
        on_tape = str(info.get("type", "DISK")).upper() == "TAPE"  # a recall is slow: disk first
        return (_STATE_RANK.get(state, 1), int(on_tape), int(info.get("priority") or 0), str(info.get("rse") or ""))

    return sorted(pfns, key=key)


def expected_checksums(entry: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(entry[k]) for k in ("adler32", "md5") if entry.get(k)}


def fetch_file(entry: Mapping[str, Any], dest: Path, clients: StorageClients, *, catalog: CatalogClient | None = None,
               declare_bad: bool = True, on_bytes: Callable[[int], None] | None = None,
               trace: Mapping[str, Any] | None = None) -> DownloadResult:
    """Read one catalogue file (`list_replicas` entry) to `dest` from its best working
    replica. Missing or corrupt replicas are declared bad through `catalog` when
    `declare_bad`; a trace (`trace` = extra fields) goes to the catalogue per attempt."""
    result = DownloadResult(str(entry["scope"]), str(entry["name"]), dest)
    expected = expected_checksums(entry)
    if expected and dest.is_file():
        local = of_file(dest)
        if not mismatches(expected, local.as_dict()) and (not entry.get("bytes") or local.bytes == entry["bytes"]):
            result.state, result.bytes, result.adler32 = "ALREADY_PRESENT", local.bytes, local.adler32
            _trace(catalog, result, trace, "ALREADY_DONE", "")
            return result
    errors: list[str] = []
    for pfn, info in ordered_sources(entry):
        rse = str(info.get("rse") or "")
        result.tried.append(rse)
        try:
            got: FileStat = clients.for_url(pfn).get(pfn, dest, progress=on_bytes)
        except (OneGridError, OSError) as exc:
            reason = exc.message if isinstance(exc, OneGridError) else f"{type(exc).__name__}: {exc}"
            errors.append(f"{rse}: {reason}")
            if isinstance(exc, NotFound):
                _declare(catalog, declare_bad, result, rse, f"download: replica missing ({reason})")
            _trace(catalog, result, trace, "FAILED", reason, rse)
            continue
        problems = mismatches(expected, got.checksums)
        if entry.get("bytes") is not None and got.size != int(entry["bytes"]):
            problems.append(f"size {got.size} != {entry['bytes']}")
        if problems:
            dest.unlink(missing_ok=True)
            reason = "; ".join(problems)
            errors.append(f"{rse}: corrupt ({reason})")
            _declare(catalog, declare_bad, result, rse, f"download: checksum mismatch ({reason})")
            _trace(catalog, result, trace, "CORRUPTED", reason, rse)
            continue
        result.state, result.rse, result.bytes, result.adler32 = "DONE", rse, got.size, got.adler32 or ""
        _trace(catalog, result, trace, "DONE", "", rse)
        return result
    result.state = "FAILED"
    result.error = "; ".join(errors) or "no replica with a readable protocol"
    return result


def download(catalog: CatalogClient, dids: Sequence[Mapping[str, str]], dest_dir: Path, *,
             rse_expression: str | None = None, client_site: str | None = None, storage_token: str | None = None,
             workers: int = DEFAULT_WORKERS, declare_bad: bool = True, on_bytes: OnBytes | None = None,
             on_start: Callable[[list[Mapping[str, Any]]], None] | None = None,
             on_done: OnDone | None = None) -> list[DownloadResult]:
    """Download the files below `dids` into `dest_dir/<scope>/<name>` (`local_destination`)."""
    entries: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
    for did in dids:
        found = list(catalog.list_replicas([did], schemes=list(READ_SCHEMES), client_site=client_site,
                                           rse_expression=rse_expression))
        if not found:
            raise NotFound(f"{did['scope']}:{did['name']} has no file with a replica"
                           + (f" on {rse_expression}" if rse_expression else ""))
        for e in found:
            entries.setdefault((e["scope"], e["name"]), (e, f"{did['scope']}:{did['name']}"))
    if on_start:
        on_start([e for e, _ in entries.values()])
    if storage_token is None:
        pfns = [pfn for e, _ in entries.values() for pfn in (e.get("pfns") or {})]
        storage_token = tokens.storage_token(catalog.t, pfns, write=False)
    clients = StorageClients(storage_token)

    def one(item: tuple[Mapping[str, Any], str]) -> DownloadResult:
        entry, parent = item
        did = f"{entry['scope']}:{entry['name']}"
        dest = local_destination(dest_dir, str(entry["scope"]), str(entry["name"]))
        ds_scope, _, ds_name = parent.partition(":") if parent != did else ("", "", "")
        trace = {"localSite": client_site, "datasetScope": ds_scope or None, "dataset": ds_name or None}
        progress = (lambda n: on_bytes(did, n)) if on_bytes else None
        r = fetch_file(entry, dest, clients, catalog=catalog, declare_bad=declare_bad, on_bytes=progress,
                       trace=trace)
        if on_done:
            on_done(r)
        return r

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(entries)))) as pool:
            return list(pool.map(one, entries.values()))
    finally:
        clients.close()


def _declare(catalog: CatalogClient | None, enabled: bool, result: DownloadResult, rse: str, reason: str) -> None:
    if catalog is None or not enabled or not rse:
        return
    with contextlib.suppress(OneGridError):
        catalog.declare_bad([{"scope": result.scope, "name": result.name, "rse": rse}], reason)
        result.bad.append(rse)


def _trace(catalog: CatalogClient | None, result: DownloadResult, extra: Mapping[str, Any] | None, state: str,
           reason: str, rse: str = "") -> None:
    # Traces are best effort: they feed popularity, they must not fail a download.
    if catalog is None:
        return
    with contextlib.suppress(OneGridError):
        catalog.send_trace({"eventType": "download", "clientState": state, "scope": result.scope,
                            "filename": result.name, "remoteSite": rse or None, "filesize": result.bytes or None,
                            "eventVersion": "onegrid", "stateReason": reason or None, **dict(extra or {})})
