"""Rucio-compatible replica routes (add, update, delete, list, bad) and traces."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from onegrid.catalog import pfns, replicas, rses, traces
from onegrid.catalog.rest_common import (
    created,
    json_body,
    json_response,
    ok,
    require,
    require_scope_writer,
    split_scope_name,
    stream,
)
from onegrid.deps import RuntimeDep, SessionDep
from onegrid.errors import InvalidInput
from onegrid.iam.deps import CurrentPrincipal, OptionalPrincipal

router = APIRouter(tags=["rucio: replicas"])
METALINK = "application/metalink4+xml"


@router.post("/replicas")
@router.post("/replicas/")
def add_replicas(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                 body: Any = Depends(json_body)) -> Response:
    files = require(body, "files", list)
    require_scope_writer(session, principal, (f.get("scope", "") for f in files))
    replicas.add_replicas(session, runtime.clock, principal.account, str(require(body, "rse")), files,
                          ignore_availability=bool(body.get("ignore_availability", True)))
    return created()


@router.put("/replicas")
@router.put("/replicas/")
def update_replicas(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                    body: Any = Depends(json_body)) -> Response:
    files = require(body, "files", list)
    require_scope_writer(session, principal, (f.get("scope", "") for f in files))
    rse = body.get("rse")
    replicas.update_states(session, runtime.clock, [{**f, "rse": f.get("rse", rse)} for f in files])
    return ok()


@router.delete("/replicas")
@router.delete("/replicas/")
def delete_replicas(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                    body: Any = Depends(json_body)) -> Response:
    principal.require_root("delete replicas")
    replicas.delete_replicas(session, runtime.clock, str(require(body, "rse")), require(body, "files", list))
    return ok()


@router.post("/replicas/list")
def list_replicas(request: Request, principal: CurrentPrincipal, runtime: RuntimeDep,
                  body: Any = Depends(json_body)) -> Response:
    wanted = [(d["scope"], d["name"]) for d in require(body, "dids", list)]
    schemes = body.get("schemes") or None
    if isinstance(schemes, str):
        schemes = schemes.split(",")
    location = body.get("client_location") or {}
    expression = body.get("rse_expression")
    all_states = bool(body.get("all_states", False))
    rse_names = None
    if expression:
        with runtime.reading() as s:
            rse_names = set(rses.resolve_expression(s, expression))

    def produce(s: Any) -> Any:
        return replicas.list_replicas(s, wanted, schemes=schemes, rse_names=rse_names,
                                      client_site=location.get("site"), all_states=all_states)

    if METALINK in request.headers.get("accept", ""):
        return stream(runtime, lambda s: replicas.metalink(iter(produce(s))), media_type=METALINK)
    return stream(runtime, produce, line=replicas.replica_json)


@router.post("/replicas/bad")
def declare_bad(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                body: Any = Depends(json_body)) -> Response:
    reason = str(body.get("reason") or "")
    items = []
    given = require(body, "replicas", list)
    for r in given:
        if isinstance(r, dict):
            items.append({"scope": r["scope"], "name": r["name"], "rse": r.get("rse") or r.get("rse_id")})
        elif not isinstance(r, str):
            raise InvalidInput("each bad replica is a PFN or {scope, name, rse}")
    by_pfn, unresolved = pfns.resolve(session, [r for r in given if isinstance(r, str)])
    items += by_pfn
    require_scope_writer(session, principal, (i["scope"] for i in items))
    unknown = replicas.declare_bad(session, runtime.clock, principal.account, items, reason)
    out: dict[str, list[str]] = {"unknown": [f"{p}: no replica at this PFN" for p in unresolved]} if unresolved else {}
    for text in unknown:
        out.setdefault(text.rsplit(" on ", 1)[-1], []).append(f"{text}: unknown replica")
    return json_response(out, status=201)


@router.post("/replicas/bad/dids")
def declare_bad_dids(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                     body: Any = Depends(json_body)) -> Response:
    rse = str(require(body, "rse"))
    items = [{"scope": d["scope"], "name": d["name"], "rse": rse} for d in require(body, "dids", list)]
    require_scope_writer(session, principal, (i["scope"] for i in items))
    unknown = replicas.declare_bad(session, runtime.clock, principal.account, items, str(body.get("reason") or ""))
    return json_response(unknown, status=201)


@router.get("/replicas/bad")
def list_bad(request: Request, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    rse = request.query_params.get("rse")
    return stream(runtime, lambda s: replicas.list_bad(s, rse))


@router.post("/replicas/datasets_bulk")
def dataset_replicas_bulk(principal: CurrentPrincipal, runtime: RuntimeDep, body: Any = Depends(json_body)) -> Response:
    wanted = require(body, "dids", list)
    return stream(runtime, lambda s: (r for d in wanted for r in replicas.dataset_replicas(s, d["scope"], d["name"])))


@router.get("/replicas/{scope_name:path}/datasets")
def dataset_replicas(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: replicas.dataset_replicas(s, scope, name))


@router.post("/traces")
@router.post("/traces/")
def add_traces(principal: OptionalPrincipal, runtime: RuntimeDep, session: SessionDep,
               body: Any = Depends(json_body)) -> Response:
    items = body if isinstance(body, list) else [body]
    if not all(isinstance(t, dict) for t in items):
        raise InvalidInput("a trace is a JSON object")
    traces.add_traces(session, runtime.clock, items)
    return created("OK")
