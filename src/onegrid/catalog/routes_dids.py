"""Rucio-compatible DID routes: add, get, search, attach, contents, files, parents, metadata.

Names may hold slashes, so a DID is one `{scope_name:path}` split at its first slash,
as Rucio does; the more specific routes are declared first."""

from __future__ import annotations

import ast
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from onegrid.catalog import did_query, did_tree, dids, meta_filter, replicas
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
from onegrid.iam.deps import CurrentPrincipal

router = APIRouter(tags=["rucio: dids"])


def _filters_from(request: Request) -> meta_filter.Filter:
    raw = request.query_params.get("filters")
    if raw is None:
        group = {k: v for k, v in request.query_params.items() if k not in ("type", "limit", "long", "recursive")}
        return meta_filter.parse_wire([group])
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        raise meta_filter.InvalidFilter(f"filters {raw!r} is not a list of dictionaries") from None
    return meta_filter.parse_wire(value)


def _flag(request: Request, key: str) -> bool:
    return request.query_params.get(key, "").lower() in ("true", "1")


@router.get("/dids/{scope}/dids/search")
def search(scope: str, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    groups = _filters_from(request)
    did_type = request.query_params.get("type", "collection")
    did_query.types_for(did_type)
    limit = request.query_params.get("limit")
    long = _flag(request, "long")
    return stream(runtime, lambda s: did_query.search(s, scope, groups, did_type=did_type,
                                                      limit=int(limit) if limit else None, long=long))


def _add_one(session: Any, runtime: Any, account: str, scope: str, name: str, body: dict[str, Any]) -> None:
    did_type = body.get("type", "DATASET")
    meta = dict(body.get("meta") or {})
    statuses = body.get("statuses") or {}
    spec = {"scope": scope, "name": name, "type": did_type, "meta": meta, "lifetime": body.get("lifetime"),
            "monotonic": statuses.get("monotonic", False)}
    dids.add_dids(session, runtime.clock, account, [spec])
    if body.get("dids"):
        rse = body.get("rse")
        if rse:
            replicas.add_replicas(session, runtime.clock, account, rse, body["dids"])
        dids.attach(session, runtime.clock, scope, name, body["dids"])


@router.post("/dids")
@router.post("/dids/")
def add_dids(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
             body: Any = Depends(json_body)) -> Response:
    if not isinstance(body, list):
        raise InvalidInput("expected a list of DIDs")
    require_scope_writer(session, principal, (d.get("scope", "") for d in body))
    for d in body:
        _add_one(session, runtime, principal.account, d["scope"], d["name"], d)
    return created()


@router.post("/dids/attachments")
def attach_many(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                body: Any = Depends(json_body)) -> Response:
    attachments = body if isinstance(body, list) else require(body, "attachments", list)
    ignore = bool(body.get("ignore_duplicate", False)) if isinstance(body, dict) else False
    require_scope_writer(session, principal, (a["scope"] for a in attachments))
    for a in attachments:
        if a.get("rse"):
            replicas.add_replicas(session, runtime.clock, principal.account, a["rse"], a["dids"])
        dids.attach(session, runtime.clock, a["scope"], a["name"], a["dids"], ignore_duplicates=ignore)
    return created()


@router.post("/dids/bulkmeta")
def bulk_meta(principal: CurrentPrincipal, runtime: RuntimeDep, body: Any = Depends(json_body)) -> Response:
    wanted = require(body, "dids", list)
    return stream(runtime, lambda s: (dids.get_metadata(s, d["scope"], d["name"]) for d in wanted))


@router.post("/dids/bulkfiles")
def bulk_files(principal: CurrentPrincipal, runtime: RuntimeDep, body: Any = Depends(json_body)) -> Response:
    wanted = require(body, "dids", list)
    return stream(runtime, lambda s: (f for d in wanted for f in did_tree.list_files(s, d["scope"], d["name"])))


@router.get("/dids/{scope_name:path}/dids")
def list_content(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: did_tree.list_content(s, scope, name))


@router.post("/dids/{scope_name:path}/dids")
def attach(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
           body: Any = Depends(json_body)) -> Response:
    scope, name = split_scope_name(scope_name)
    children = require(body, "dids", list)
    require_scope_writer(session, principal, [scope])
    if body.get("rse"):
        replicas.add_replicas(session, runtime.clock, principal.account, body["rse"], children)
    dids.attach(session, runtime.clock, scope, name, children)
    return created()


@router.delete("/dids/{scope_name:path}/dids")
def detach(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
           body: Any = Depends(json_body)) -> Response:
    scope, name = split_scope_name(scope_name)
    require_scope_writer(session, principal, [scope])
    dids.detach(session, runtime.clock, scope, name, require(body, "dids", list))
    return ok()


@router.get("/dids/{scope_name:path}/files")
def list_files(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: did_tree.list_files(s, scope, name))


@router.get("/dids/{scope_name:path}/parents")
def list_parents(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: did_tree.list_parents(s, scope, name))


@router.get("/dids/{scope_name:path}/rules")
@router.get("/dids/{scope_name:path}/associated_rules")
def list_rules(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    # Replication rules arrive with onegrid.catalog.rules; until then a DID has none.
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: (dids.get_did(s, scope, name) and ()))


@router.get("/dids/{scope_name:path}/meta")
def get_meta(scope_name: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return json_response(dids.get_metadata(session, scope, name))


@router.post("/dids/{scope_name:path}/meta")
def set_meta_bulk(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                  body: Any = Depends(json_body)) -> Response:
    scope, name = split_scope_name(scope_name)
    require_scope_writer(session, principal, [scope])
    dids.set_metadata(session, runtime.clock, scope, name, dict(require(body, "meta", dict)))
    return created()


@router.delete("/dids/{scope_name:path}/meta")
def delete_meta(scope_name: str, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep,
                session: SessionDep) -> Response:
    scope, name = split_scope_name(scope_name)
    require_scope_writer(session, principal, [scope])
    key = request.query_params.get("key")
    if not key:
        raise InvalidInput("key is required")
    dids.delete_metadata(session, runtime.clock, scope, name, key)
    return ok()


@router.post("/dids/{scope_name:path}/meta/{key}")
def set_meta(scope_name: str, key: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
             body: Any = Depends(json_body)) -> Response:
    scope, name = split_scope_name(scope_name)
    require_scope_writer(session, principal, [scope])
    dids.set_metadata(session, runtime.clock, scope, name, {key: require(body, "value")})
    return created()


@router.put("/dids/{scope_name:path}/status")
def set_status(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
               body: Any = Depends(json_body)) -> Response:
    scope, name = split_scope_name(scope_name)
    require_scope_writer(session, principal, [scope])
    if "open" in body:
        dids.set_status(session, runtime.clock, scope, name, is_open=bool(body["open"]))
    return ok()


@router.get("/dids/{scope}/")
def scope_list(scope: str, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    name = request.query_params.get("name")
    groups = meta_filter.parse_wire([{"name": name}] if name else [{}])
    return stream(runtime, lambda s: ({"scope": d["scope"], "name": d["name"], "type": d["did_type"],
                                        "parent": None, "level": 0}
                                       for d in did_query.search(s, scope, groups, did_type="all", long=True)))


@router.get("/dids/{scope_name:path}")
def get_did(scope_name: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return json_response(dids.did_to_dict(dids.get_did(session, scope, name)))


@router.post("/dids/{scope_name:path}")
def add_did(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
            body: Any = Depends(json_body)) -> Response:
    scope, name = split_scope_name(scope_name)
    require_scope_writer(session, principal, [scope])
    _add_one(session, runtime, principal.account, scope, name, body)
    return created()
