"""Client calls of onegrid.transfers (the FTS3-shaped REST API under /transfers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onegrid.client.base import Transport


def url_file(sources: Sequence[str], destination: str, *, checksum: str | None = None, filesize: int | None = None,
             activity: str | None = None) -> dict[str, Any]:
    """One file of a job given by URLs (as FTS3's `files[]`)."""
    return {"sources": list(sources), "destinations": [destination], "checksum": checksum, "filesize": filesize,
            "activity": activity}


def did_file(did: str, destination_rse: str, *, activity: str | None = None) -> dict[str, Any]:
    """One file of a job given by DID: the catalogue provides sources, size and checksum."""
    return {"did": did, "destination_rse": destination_rse, "activity": activity}


class TransfersClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def submit(self, files: Sequence[dict[str, Any]], *, priority: int = 3, retry: int = 3, overwrite: bool = True,
               verify_checksum: bool = True, activity: str = "default", job_metadata: Any = None) -> str:
        """Submit a job; returns its id."""
        body = {"files": list(files), "params": {"priority": priority, "retry": retry, "overwrite": overwrite,
                                                 "verify_checksum": verify_checksum, "activity": activity,
                                                 "job_metadata": job_metadata}}
        return str(self.t.json("POST", "/transfers/jobs", json=body)["job_id"])

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/transfers/jobs/{job_id}"))

    def cancel(self, job_id: str) -> dict[str, Any]:
        return dict(self.t.json("DELETE", f"/transfers/jobs/{job_id}"))

    def requests(self, *, state: str | None = None, link: str | None = None, rule_id: str | None = None,
                 limit: int = 1000) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"state": state, "link": link, "rule_id": rule_id, "limit": limit}.items()
                  if v is not None}
        return list(self.t.json("GET", "/transfers/requests", params=params))

    def links(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/transfers/links"))

    def set_link_limits(self, source: str, destination: str, *, min_active: int | None = None,
                        max_active: int | None = None) -> dict[str, Any]:
        return dict(self.t.json("PUT", f"/transfers/links/{source}/{destination}",
                                json={"min_active": min_active, "max_active": max_active}))

    def set_storage_limits(self, rse: str, *, max_reads: int | None = None,
                           max_writes: int | None = None) -> dict[str, Any]:
        return dict(self.t.json("PUT", f"/transfers/storage-limits/{rse}",
                                json={"max_reads": max_reads, "max_writes": max_writes}))

    def activities(self) -> dict[str, float]:
        return dict(self.t.json("GET", "/transfers/activities"))

    def set_activity_share(self, activity: str, weight: float) -> None:
        self.t.json("PUT", f"/transfers/activities/{activity}", json={"weight": weight})

    def set_distance(self, source: str, destination: str, distance: int) -> None:
        self.t.json("PUT", f"/transfers/distances/{source}/{destination}", json={"distance": distance})
