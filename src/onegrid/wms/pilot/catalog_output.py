"""Outputs through storage and the catalogue: each output file is uploaded to the job's
`OutputSE` (else the disk RSE of the pilot's own site), checksummed end to end, then
registered with the job's metadata and attached to its output dataset — through the same
library function as `onegrid upload` (`onegrid.storage.client.upload.upload`), so the
invariant holds here too: nothing is registered that did not arrive intact.

When the job names no `OutputSE` and the catalogue knows no writable disk RSE at this
site, the outputs are only recorded on the job (size, adler32, LFN), as a grid without
storage does; a named `OutputSE` that does not exist fails the job instead, since the
user asked for that storage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onegrid.client import OneGridClient
from onegrid.errors import InvalidInput, NotFound, OneGridError
from onegrid.storage.client.upload import UploadItem, upload
from onegrid.wms.pilot.steps import OutputDataStep, RecordOutputs

# Files of one job uploaded at once (jobs have few outputs; the pilot runs several jobs).
UPLOAD_WORKERS = 4


def output_did(lfn: str, owner: str, default_scope: str = "belle") -> tuple[str, str]:
    """The scope and name of an output LFN: `scope:name` as written; a user's
    `/belle/user/<owner>/...` goes to the user's scope `user.<owner>`; else `belle`."""
    scope, sep, name = lfn.partition(":")
    if sep and not scope.startswith("/"):
        return scope, name
    parts = lfn.split("/")
    if owner and len(parts) > 3 and parts[2] == "user" and parts[3] == owner:
        return f"user.{owner}", lfn
    return default_scope, lfn


def parse_dataset(text: str | None, default_scope: str = "belle") -> dict[str, str] | None:
    if not text:
        return None
    scope, sep, name = text.partition(":")
    return {"scope": scope, "name": name} if sep and not scope.startswith("/") else {"scope": default_scope,
                                                                                       "name": text}


def pick_rse(candidates: Sequence[Mapping[str, Any]], site_rses: set[str]) -> str | None:
    """The RSE to write to: writable, disk before tape, this site's first, then by name."""
    usable = [r for r in candidates if r.get("availability_write", True)]
    if not usable:
        return None
    best = min(usable, key=lambda r: (str(r.get("rse_type", "DISK")).upper() == "TAPE", r["rse"] not in site_rses,
                                      r["rse"]))
    return str(best["rse"])


@dataclass
class CatalogOutputData:
    """The pilot's default output step. `storage_token` is sent to the storage (default:
    the pilot's own token, which the site director mints with `storage.create:/` and
    `storage.read:/` and the WLCG any-audience)."""

    client: OneGridClient
    site: str
    storage_token: str | None = None
    default_scope: str = "belle"
    fallback: OutputDataStep = field(default_factory=RecordOutputs)

    def store(self, files: Sequence[tuple[Path, str]], output_se: str | None, *, owner: str = "",
              meta: Mapping[str, Any] | None = None, dataset: str | None = None) -> list[dict[str, Any]]:
        if not files:
            return []
        rse = self.choose_rse(output_se)
        if rse is None:
            return self.fallback.store(files, output_se, owner=owner, meta=meta, dataset=dataset)
        items = [UploadItem(path, *output_did(lfn, owner, self.default_scope), dict(meta or {}))
                 for path, lfn in files]
        token = self.storage_token or self.client.transport.token
        results = upload(self.client.catalog, items, rse=rse, dataset=parse_dataset(dataset, self.default_scope),
                         storage_token=token, workers=UPLOAD_WORKERS)
        failed = [r for r in results if r.state == "FAILED"]
        if failed:
            r = failed[0]
            raise RuntimeError(f"{r.item.scope}:{r.item.name} to {rse}: {r.error}")
        return [{"lfn": lfn, "scope": r.item.scope, "name": path.name, "bytes": r.bytes, "adler32": r.adler32,
                 "se": rse, "pfn": r.pfn, "registered": True}
                for (path, lfn), r in zip(files, results, strict=True)]

    def choose_rse(self, output_se: str | None) -> str | None:
        """The job's OutputSE (a name or an RSE expression), else this site's disk RSE;
        None when the job names none and the site has none."""
        site_rses = self._rses(f"site={self.site}")
        if output_se:
            try:
                candidates = self.client.catalog.list_rses(output_se)
            except OneGridError as exc:
                raise RuntimeError(f"OutputSE {output_se}: {exc.message}") from exc
            rse = pick_rse(candidates, {r["rse"] for r in site_rses})
            if rse is None:
                raise RuntimeError(f"OutputSE {output_se} has no RSE open for writing")
            return rse
        disk = [r for r in site_rses if str(r.get("rse_type", "DISK")).upper() != "TAPE"]
        return pick_rse(disk, {r["rse"] for r in disk})

    def _rses(self, expression: str) -> list[dict[str, Any]]:
        try:
            return self.client.catalog.list_rses(expression)
        except (NotFound, InvalidInput):  # matches nothing (or a site name no RSE could have)
            return []
