"""Input data through the catalogue: the best replica first (this site's), each file's
adler32 checked against the catalogue, the next replica on a mismatch or an error, and a
download trace sent for each file (as Rucio's clients do)."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from onegrid.client import OneGridClient
from onegrid.errors import OneGridError

SCHEMES = ("https", "http", "davs")


def split_lfn(lfn: str, default_scope: str) -> tuple[str, str]:
    scope, sep, name = lfn.partition(":")
    return (scope, name) if sep else (default_scope, lfn)


@dataclass
class CatalogInputData:
    client: OneGridClient
    site: str
    default_scope: str = "belle"
    timeout: float = 300

    def fetch(self, lfns: Sequence[str], workdir: Path) -> None:
        if not lfns:
            return
        dids = [dict(zip(("scope", "name"), split_lfn(lfn, self.default_scope), strict=True)) for lfn in lfns]
        entries = {(e["scope"], e["name"]): e for e in self.client.catalog.list_replicas(
            dids, schemes=list(SCHEMES), client_site=self.site)}
        for did in dids:
            entry = entries.get((did["scope"], did["name"]))
            if entry is None or not entry.get("pfns"):
                raise RuntimeError(f"input {did['scope']}:{did['name']} has no replica to read")
            self._fetch_one(entry, workdir / Path(did["name"]).name)

    def _fetch_one(self, entry: dict[str, Any], dest: Path) -> None:
        errors = []
        pfns = sorted(entry["pfns"].items(), key=lambda kv: kv[1].get("priority", 0))
        for pfn, info in pfns:
            try:
                adler = self._download(pfn, dest)
            except (httpx.HTTPError, OSError) as exc:
                errors.append(f"{info.get('rse')}: {exc}")
                self._trace(entry, info, "FAILED")
                continue
            if entry.get("adler32") and adler != entry["adler32"].lower().zfill(8):
                errors.append(f"{info.get('rse')}: adler32 {adler} != {entry['adler32']}")
                self._trace(entry, info, "CHECKSUM_MISMATCH")
                continue
            self._trace(entry, info, "DONE")
            return
        dest.unlink(missing_ok=True)
        raise RuntimeError(f"input {entry['scope']}:{entry['name']} could not be read: {'; '.join(errors)}")

    def _download(self, pfn: str, dest: Path) -> str:
        url = "https://" + pfn[len("davs://"):] if pfn.startswith("davs://") else pfn
        value = 1
        headers = {"Authorization": f"Bearer {self.client.transport.token}"} if self.client.transport.token else {}
        with httpx.stream("GET", url, headers=headers, timeout=self.timeout, follow_redirects=True) as r:
            r.raise_for_status()
            with dest.open("wb") as f:
                for chunk in r.iter_bytes(1 << 20):
                    f.write(chunk)
                    value = zlib.adler32(chunk, value)
        return f"{value & 0xFFFFFFFF:08x}"

    def _trace(self, entry: dict[str, Any], info: dict[str, Any], state: str) -> None:
        # A trace is best effort: the download already succeeded or failed.
        with contextlib.suppress(OneGridError):
            self.client.catalog.send_trace({
                "eventType": "get_sm", "clientState": state, "scope": entry["scope"], "filename": entry["name"],
                "dataset": "", "remoteSite": info.get("rse"), "localSite": self.site, "filesize": entry.get("bytes"),
                "usrdn": "pilot", "eventVersion": "onegrid-pilot"})
