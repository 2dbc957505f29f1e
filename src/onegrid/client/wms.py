"""Client calls of onegrid.wms (what the CLI and the pilot use)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onegrid.client.base import Transport


class WmsClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    # -- users --------------------------------------------------------------------------

    def submit(self, jobs: dict[str, Any] | list[dict[str, Any]]) -> list[int]:
        """Submit one job description or many (bulk); parametric ones expand on the server."""
        return list(self.t.json("POST", "/wms/jobs", json=jobs)["job_ids"])

    def submit_jdl(self, jdl: str) -> list[int]:
        return list(self.t.json("POST", "/wms/jobs", content=jdl.encode(),
                                headers={"Content-Type": "text/plain"})["job_ids"])

    def job(self, job_id: int) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/wms/jobs/{job_id}"))

    def jobs(self, *, status: Sequence[str] = (), production: int | None = None, job_group: str | None = None,
             site: str | None = None, limit: int = 1000, after: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"status": list(status), "limit": limit, "after": after}
        for k, v in (("production", production), ("job_group", job_group), ("site", site)):
            if v is not None:
                params[k] = v
        return list(self.t.json("GET", "/wms/jobs", params=params))

    def summary(self) -> dict[str, int]:
        return dict(self.t.json("GET", "/wms/jobs/summary"))

    def description(self, job_id: int) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/wms/jobs/{job_id}/description"))

    def logging(self, job_id: int) -> list[dict[str, Any]]:
        return list(self.t.json("GET", f"/wms/jobs/{job_id}/logging"))

    def parameters(self, job_id: int) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/wms/jobs/{job_id}/parameters"))

    def kill(self, job_ids: Sequence[int]) -> dict[str, str]:
        return dict(self.t.json("POST", "/wms/jobs/kill", json={"job_ids": list(job_ids)}))

    def delete(self, job_ids: Sequence[int]) -> dict[str, str]:
        return dict(self.t.json("POST", "/wms/jobs/delete", json={"job_ids": list(job_ids)}))

    def reschedule(self, job_ids: Sequence[int]) -> dict[str, str]:
        return dict(self.t.json("POST", "/wms/jobs/reschedule", json={"job_ids": list(job_ids)}))

    def upload_sandbox(self, tarball: bytes) -> str:
        return str(self.t.json("POST", "/wms/sandboxes", content=tarball,
                               headers={"Content-Type": "application/x-tar"})["sandbox"])

    def download_sandbox(self, ref: str) -> bytes:
        return self.t.request("GET", f"/wms/sandboxes/{ref.removeprefix('SB:')}").content

    # -- operators ----------------------------------------------------------------------

    def sites(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/wms/sites"))

    def ban_site(self, site: str, reason: str = "") -> dict[str, Any]:
        return dict(self.t.json("POST", f"/wms/sites/{site}/ban", json={"reason": reason}))

    def allow_site(self, site: str, reason: str = "") -> dict[str, Any]:
        return dict(self.t.json("POST", f"/wms/sites/{site}/allow", json={"reason": reason}))

    def queues(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/wms/queues"))

    def put_queue(self, queue: dict[str, Any]) -> dict[str, Any]:
        return dict(self.t.json("PUT", f"/wms/queues/{queue['name']}", json=queue))

    def delete_queue(self, name: str) -> None:
        self.t.request("DELETE", f"/wms/queues/{name}")

    def accounting(self, group_by: str = "site") -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/wms/accounting", params={"group_by": group_by}))

    def pilots(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/wms/pilots"))

    # -- productions --------------------------------------------------------------------

    def submit_production(self, definition: str | bytes) -> dict[str, Any]:
        body = definition.encode() if isinstance(definition, str) else definition
        return dict(self.t.json("POST", "/wms/productions", content=body,
                                headers={"Content-Type": "application/json"}))

    def productions(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/wms/productions"))

    def production(self, ref: str | int) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/wms/productions/{ref}"))

    def production_action(self, ref: str | int, action: str) -> dict[str, Any]:
        return dict(self.t.json("POST", f"/wms/productions/{ref}/{action}"))

    def extend_production(self, ref: str | int, run_events: dict[str, dict[str, int]]) -> dict[str, Any]:
        return dict(self.t.json("POST", f"/wms/productions/{ref}/extend", json={"RunEvents": run_events}))

    def add_transformation(self, spec: dict[str, Any]) -> dict[str, Any]:
        return dict(self.t.json("POST", "/wms/transformations", json=spec))

    def transformations(self) -> list[dict[str, Any]]:
        return list(self.t.json("GET", "/wms/transformations"))

    def transformation(self, ref: str | int) -> dict[str, Any]:
        return dict(self.t.json("GET", f"/wms/transformations/{ref}"))

    # -- pilots -------------------------------------------------------------------------

    def match(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        job = self.t.json("POST", "/wms/match", json=resource)["job"]
        return dict(job) if job else None

    def heartbeat(self, job_id: int, pilot_id: str | None, **values: Any) -> dict[str, Any]:
        params = {"pilot_id": pilot_id} if pilot_id else {}
        return dict(self.t.json("POST", f"/wms/jobs/{job_id}/heartbeat", params=params, json=values))

    def set_status(self, job_id: int, pilot_id: str | None, status: str, minor_status: str = "",
                   **values: Any) -> dict[str, Any]:
        params = {"pilot_id": pilot_id} if pilot_id else {}
        body = {"status": status, "minor_status": minor_status, **values}
        return dict(self.t.json("POST", f"/wms/jobs/{job_id}/status", params=params, json=body))

    def set_parameters(self, job_id: int, params: dict[str, Any]) -> None:
        self.t.json("POST", f"/wms/jobs/{job_id}/parameters", json=params)

    def upload_output_sandbox(self, tarball: bytes) -> str:
        return str(self.t.json("POST", "/wms/pilot-sandboxes", content=tarball,
                               headers={"Content-Type": "application/x-tar"})["sandbox"])

    def pilot_finished(self, pilot_id: str, *, failed: bool = False) -> None:
        self.t.json("POST", f"/wms/pilots/{pilot_id}/finished", params={"failed": failed})


def connect(server: str | None = None, token: str | None = None, *, default_server: str | None = None,
            timeout: float = 60) -> WmsClient:
    """A WMS client: the server from `--server`, `ONEGRID_SERVER`, or the one saved by
    `onegrid login`; the token by WLCG bearer-token discovery (`onegrid.client.auth`)."""
    from onegrid.client.auth import connect as connect_client

    return connect_client(server, token, default_server=default_server, timeout=timeout).wms

