"""WLCG Tape REST API v1, the client side (SPECS §2).

The API is found by discovery (`/.well-known/wlcg-tape-rest-api` on the storage host) and
cached per host. A stage request is handed back as one string, the absolute URL of its
`stage/{id}` resource, so the conveyor can store it in a column and poll it later from any
process. Files are named by the path of their URL, as FTS and dCache do.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from onegrid.errors import InvalidInput
from onegrid.storage.client.base import Locality, StagedFile, StageState, StageStatus
from onegrid.storage.client.errors import network_error, raise_for

WELL_KNOWN = "/.well-known/wlcg-tape-rest-api"
_endpoints: dict[str, str] = {}
_lock = threading.Lock()


def _http(url: str) -> str:
    from onegrid.storage.client.http import http_url

    return http_url(url)


def _origin(url: str) -> str:
    parts = urlsplit(_http(url))
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    return unquote(urlsplit(_http(url)).path)


def iso_duration(seconds: int) -> str:
    return f"PT{int(seconds)}S"


class TapeApi:
    def __init__(self, http: httpx.Client, headers: Mapping[str, str]) -> None:
        self.http = http
        self.headers = dict(headers)

    def _call(self, method: str, url: str, body: Any = None) -> httpx.Response:
        try:
            r = self.http.request(method, url, headers=self.headers, json=body, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise network_error(exc, f"{method} {url}") from exc
        raise_for(r, f"{method} {url}")
        return r

    def endpoint(self, url: str) -> str:
        """The v1 API URI of the storage holding `url` (discovery, cached per host)."""
        origin = _origin(url)
        with _lock:
            if origin in _endpoints:
                return _endpoints[origin]
        doc = self._call("GET", origin + WELL_KNOWN).json()
        uris = [e.get("uri") for e in doc.get("endpoints", []) if str(e.get("version", "")).lower() == "v1"]
        if not uris or not uris[0]:
            raise InvalidInput(f"{origin}{WELL_KNOWN} offers no v1 endpoint")
        uri = urljoin(origin + "/", str(uris[0])).rstrip("/")
        with _lock:
            _endpoints[origin] = uri
        return uri

    def _one_endpoint(self, urls: Sequence[str]) -> str:
        origins = {_origin(u) for u in urls}
        if len(origins) != 1:
            raise InvalidInput(f"tape calls take files of one storage, got {sorted(origins)}")
        return self.endpoint(urls[0])

    def stage(self, urls: Sequence[str], *, disk_lifetime: int | None = None) -> str:
        if not urls:
            raise InvalidInput("stage needs at least one file")
        uri = self._one_endpoint(urls)
        files = [{"path": _path(u), **({"diskLifetime": iso_duration(disk_lifetime)} if disk_lifetime else {})}
                 for u in urls]
        r = self._call("POST", f"{uri}/stage", {"files": files})
        request_id = r.json().get("requestId")
        if not request_id:
            raise InvalidInput(f"POST {uri}/stage answered no requestId")
        return f"{uri}/stage/{request_id}"

    def stage_status(self, request: str) -> StageStatus:
        doc = self._call("GET", request).json()
        origin = _origin(request)
        files = [_staged(origin, f) for f in doc.get("files", [])]
        return StageStatus(request=request, files=files, created_at=doc.get("createdAt"),
                           completed_at=doc.get("completedAt"))

    def cancel(self, request: str, urls: Sequence[str] | None = None) -> None:
        if urls is None:
            self._call("DELETE", request)
        else:
            self._call("POST", f"{request}/cancel", {"paths": [_path(u) for u in urls]})

    def release(self, request: str, urls: Sequence[str]) -> None:
        uri, _, request_id = request.rpartition("/stage/")
        self._call("POST", f"{uri}/release/{request_id}", {"paths": [_path(u) for u in urls]})

    def archive_info(self, urls: Sequence[str]) -> dict[str, Locality | str]:
        if not urls:
            return {}
        uri = self._one_endpoint(urls)
        by_path = {_path(u): u for u in urls}
        rows = self._call("POST", f"{uri}/archiveinfo", {"paths": list(by_path)}).json()
        out: dict[str, Locality | str] = {}
        for row in rows:
            url = by_path.get(row.get("path", ""), row.get("path", ""))
            try:
                out[url] = Locality(row["locality"]) if "locality" in row else str(row.get("error", "unknown"))
            except ValueError:
                out[url] = str(row["locality"])
        return out


def _staged(origin: str, f: Mapping[str, Any]) -> StagedFile:
    path = str(f.get("path", ""))
    raw = f.get("state")
    if raw is None:
        state = StageState.COMPLETED if f.get("onDisk") else StageState.SUBMITTED
    else:
        try:
            state = StageState(str(raw).upper())
        except ValueError:
            state = StageState.FAILED
    return StagedFile(url=origin + path, path=path, state=state,
                      on_disk=bool(f.get("onDisk", state == StageState.COMPLETED)), error=f.get("error"))
