"""The WLCG Tape REST API v1 as Starlette routes (mounted by the storage endpoint).

Paths, bodies and status codes follow the v1 reference document: discovery at
`/.well-known/wlcg-tape-rest-api`; `POST stage` → 201 + `Location` + `{"requestId"}`;
`GET stage/{id}`; `POST stage/{id}/cancel`; `DELETE stage/{id}`; `POST release/{id}`;
`POST archiveinfo`. Errors are RFC 7807 problems (`application/problem+json`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from onegrid.errors import InvalidInput, OneGridError
from onegrid.storage.tape.buffer import Locality
from onegrid.storage.tape.stage import StageFile, parse_duration

if TYPE_CHECKING:
    from onegrid.storage.tape.backend import TapeBackend

log = logging.getLogger(__name__)

STAGE_SCOPE = "storage.stage"
READ_SCOPE = "storage.read"
MAX_FILES = 10_000  # per request; larger bulk requests are refused with 400

Handler = Callable[[Request], Awaitable[Response]]


def problem(status: int, title: str, detail: str | None = None) -> Response:
    """An RFC 7807 problem document, as the Tape REST API uses for every error."""
    body: dict[str, Any] = {"title": title, "status": status}
    if detail:
        body["detail"] = detail
    return Response(json.dumps(body), status_code=status, media_type="application/problem+json")


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    503: "Service Unavailable",
}


def _problems(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except OneGridError as exc:
            return problem(exc.status, _TITLES.get(exc.status, "Error"), exc.message)
        except Exception:  # still a problem document, and the trace in the log
            log.exception("tape API: %s %s failed", request.method, request.url.path)
            return problem(500, "Internal Server Error", "the tape emulation failed; see the endpoint's log")

    return wrapped


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    return body


def _paths(body: dict[str, Any]) -> list[str]:
    paths = body.get("paths")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise InvalidInput('"paths" must be a non-empty list of strings')
    if len(paths) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} paths per request")
    return paths


def _stage_files(body: dict[str, Any], default_lifetime: float) -> list[StageFile]:
    files = body.get("files")
    if not isinstance(files, list) or not files:
        raise InvalidInput('"files" must be a non-empty list of {"path": ...} objects')
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files per request")
    out: list[StageFile] = []
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise InvalidInput('every file needs a "path" string')
        lifetime = entry.get("diskLifetime")
        if lifetime is not None and not isinstance(lifetime, str):
            raise InvalidInput('"diskLifetime" must be an ISO 8601 duration string')
        metadata = entry.get("targetedMetadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidInput('"targetedMetadata" must be an object')
        seconds = parse_duration(lifetime) if lifetime else default_lifetime
        out.append(StageFile(entry["path"], seconds))
    return out


def tape_routes(backend: TapeBackend, prefix: str | None = None) -> list[BaseRoute]:
    from onegrid.storage.tape.backend import DISCOVERY_PATH, TAPE_API_PREFIX

    prefix = prefix or TAPE_API_PREFIX
    requests = backend.requests

    async def authorize(request: Request, scope: str, paths: Sequence[str]) -> None:
        """The caller may act on every one of `paths`."""
        if backend.authorize is not None:
            await backend.authorize(request, scope, paths)

    async def authorize_any(request: Request, scope: str, paths: Sequence[str]) -> None:
        """The caller may act on at least one of `paths`: enough to follow a request.

        A client polls with a token narrowed to the files it still waits for (the
        conveyor does), not necessarily to every file the request was made for.
        """
        if backend.authorize is None:
            return
        try:
            await backend.authorize(request, scope, paths)
            return
        except OneGridError as refused:
            first = refused
        for path in paths:
            try:
                await backend.authorize(request, scope, [path])
                return
            except OneGridError:
                continue
        raise first

    async def discovery(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "sitename": backend.settings.sitename,
                "description": backend.settings.description,
                "endpoints": [{"uri": base + prefix, "version": "v1", "metadata": {}}],
            }
        )

    async def stage(request: Request) -> Response:
        files = _stage_files(await _json(request), backend.settings.default_disk_lifetime)
        await authorize(request, STAGE_SCOPE, [f.path for f in files])
        request_id = await asyncio.to_thread(requests.create, files)
        location = str(request.url_for("tape_stage_status", request_id=request_id))
        return JSONResponse({"requestId": request_id}, status_code=201, headers={"Location": location})

    async def request_paths(request_id: str) -> list[str]:
        _, files = await asyncio.to_thread(requests.get, request_id)
        return [f.path for f in files]

    async def stage_status(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        await authorize_any(request, STAGE_SCOPE, await request_paths(request_id))
        return JSONResponse(await asyncio.to_thread(requests.status, request_id))

    async def cancel(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        paths = _paths(await _json(request))
        await request_paths(request_id)  # 404 before 403 for a request that does not exist
        await authorize(request, STAGE_SCOPE, paths)  # the files acted on
        await asyncio.to_thread(requests.cancel, request_id, paths)
        return Response(status_code=200)

    async def delete(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        await authorize(request, STAGE_SCOPE, await request_paths(request_id))
        await asyncio.to_thread(requests.delete, request_id)
        return Response(status_code=200)

    async def release(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        paths = _paths(await _json(request))
        await request_paths(request_id)  # 404 before 403 for a request that does not exist
        await authorize(request, STAGE_SCOPE, paths)  # the files acted on
        await asyncio.to_thread(requests.release, request_id, paths)
        return Response(status_code=200)

    async def archiveinfo(request: Request) -> Response:
        paths = _paths(await _json(request))
        await authorize(request, READ_SCOPE, paths)
        return JSONResponse(await asyncio.to_thread(archive_info, backend, paths))

    return [
        Route(DISCOVERY_PATH, _problems(discovery), methods=["GET"]),
        Route(f"{prefix}/stage", _problems(stage), methods=["POST"]),
        Route(
            f"{prefix}/stage/{{request_id}}",
            _problems(stage_status),
            methods=["GET"],
            name="tape_stage_status",
        ),
        Route(f"{prefix}/stage/{{request_id}}", _problems(delete), methods=["DELETE"]),
        Route(f"{prefix}/stage/{{request_id}}/cancel", _problems(cancel), methods=["POST"]),
        Route(f"{prefix}/release/{{request_id}}", _problems(release), methods=["POST"]),
        Route(f"{prefix}/archiveinfo", _problems(archiveinfo), methods=["POST"]),
    ]


def archive_info(backend: TapeBackend, paths: Sequence[str]) -> list[dict[str, str]]:
    """One entry per path: its locality, or an error for a path that does not exist."""
    out: list[dict[str, str]] = []
    for path in paths:
        relpath = backend.relpath_of(path)
        if relpath is None:
            out.append({"path": path, "error": "path is outside this storage's namespace"})
            continue
        locality = backend.locality(relpath)
        if locality == Locality.NONE.value:
            disk = backend.disk_path(relpath)
            if disk.is_file():
                locality = Locality.DISK.value  # on the buffer, not yet known to the tape
            elif not disk.is_dir():
                out.append({"path": path, "error": "No such file or directory"})
                continue
        out.append({"path": path, "locality": locality})
    return out
