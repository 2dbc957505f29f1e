"""Rucio-compatible RSE routes: RSEs, attributes, protocols, lfns2pfns, usage, limits, distances."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from onegrid.catalog import paths, rses
from onegrid.catalog.rest_common import created, json_body, json_response, ok, require, stream
from onegrid.catalog.tables import RSE
from onegrid.deps import RuntimeDep, SessionDep
from onegrid.errors import InvalidInput
from onegrid.iam.deps import CurrentPrincipal

router = APIRouter(tags=["rucio: rses"])


def rse_info(session: Session, rse: RSE) -> dict[str, Any]:
    """What the stock client's rsemanager reads: the RSE with its protocols."""
    attrs = rses.attributes(session, rse.name)
    info = rses.rse_to_dict(rse)
    info.update({
        "protocols": [rses.protocol_to_dict(p) for p in rses.protocols(session, rse.name)],
        "lfn2pfn_algorithm": attrs.get(paths.ALGORITHM_ATTRIBUTE, paths.DEFAULT_ALGORITHM),
        "domain": ["lan", "wan"], "sign_url": attrs.get("sign_url"), "verify_checksum": True,
        "credentials": None, "qos_class": None, "site": attrs.get("site"),
    })
    return info


@router.get("/rses")
@router.get("/rses/")
def list_rses(request: Request, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    expression = request.query_params.get("expression")
    with runtime.reading() as session:
        found = [rses.rse_to_dict(r) for r in rses.list_rses(session, expression)]  # errors before streaming
    return stream(runtime, lambda _s: found)


@router.get("/rses/{rse}/attr")
@router.get("/rses/{rse}/attr/")
def list_attributes(rse: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(rses.attributes(session, rse))


@router.post("/rses/{rse}/attr/{key}")
def set_attribute(rse: str, key: str, principal: CurrentPrincipal, session: SessionDep,
                  body: Any = Depends(json_body)) -> Response:
    principal.require_root("set RSE attributes")
    rses.set_attribute(session, rse, key, require(body, "value"))
    return created()


@router.delete("/rses/{rse}/attr/{key}")
def delete_attribute(rse: str, key: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require_root("delete RSE attributes")
    rses.delete_attribute(session, rse, key)
    return ok()


@router.get("/rses/{rse}/protocols")
@router.get("/rses/{rse}/protocols/{scheme}")
def get_protocols(rse: str, principal: CurrentPrincipal, session: SessionDep, scheme: str | None = None) -> Response:
    info = rse_info(session, rses.get_rse(session, rse))
    if scheme:
        info["protocols"] = [p for p in info["protocols"] if p["scheme"] == scheme]
        if not info["protocols"]:
            raise rses.RSEProtocolNotFound(f"RSE {rse} has no protocol {scheme}")
    return json_response(info)


@router.post("/rses/{rse}/protocols/{scheme}")
def add_protocol(rse: str, scheme: str, principal: CurrentPrincipal, session: SessionDep,
                 body: Any = Depends(json_body)) -> Response:
    principal.require_root("add RSE protocols")
    rses.add_protocol(session, rse, {**body, "scheme": scheme})
    return created()


@router.delete("/rses/{rse}/protocols/{scheme}")
@router.delete("/rses/{rse}/protocols/{scheme}/{hostname}")
@router.delete("/rses/{rse}/protocols/{scheme}/{hostname}/{port}")
def delete_protocol(rse: str, scheme: str, principal: CurrentPrincipal, session: SessionDep,
                    hostname: str | None = None, port: int | None = None) -> Response:
    principal.require_root("delete RSE protocols")
    rses.delete_protocol(session, rse, scheme, hostname, port)
    return ok()


@router.get("/rses/{rse}/lfns2pfns")
def lfns2pfns(rse: str, request: Request, principal: CurrentPrincipal, session: SessionDep) -> Response:
    row = rses.get_rse(session, rse)
    scheme = request.query_params.get("scheme")
    operation = request.query_params.get("operation", "read")
    protos = rses.protocols(session, rse, operation=operation, scheme=scheme)
    if not protos:
        raise rses.RSEProtocolNotFound(f"RSE {rse} has no protocol for {operation}" + (f" with {scheme}" if scheme else ""))
    p = protos[0]
    algorithm = rses.lfn2pfn_algorithm(session, row.id)
    out = {}
    for lfn in request.query_params.getlist("lfns"):
        scope, sep, name = lfn.partition(":")
        if not sep:
            raise InvalidInput(f"lfn {lfn!r} must be scope:name")
        path = paths.deterministic_path(scope, name, algorithm)
        out[lfn] = paths.build_pfn(p.scheme, p.hostname, p.port, p.prefix, path)
    return json_response(out)


@router.get("/rses/{rse}/usage")
def get_usage(rse: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep) -> Response:
    found = rses.usage(session, rse)
    return stream(runtime, lambda _s: found)


@router.put("/rses/{rse}/usage")
def set_usage(rse: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
              body: Any = Depends(json_body)) -> Response:
    principal.require_root("set RSE usage")
    rses.set_usage(session, runtime.clock, rse, str(require(body, "source")), int(body.get("used") or 0),
                   body.get("free"), body.get("total"), body.get("files"))
    return ok()


@router.get("/rses/{rse}/limits")
def get_limits(rse: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(rses.limits(session, rse))


@router.put("/rses/{rse}/limits")
def set_limit(rse: str, principal: CurrentPrincipal, session: SessionDep, body: Any = Depends(json_body)) -> Response:
    principal.require_root("set RSE limits")
    rses.set_limit(session, rse, str(require(body, "name")), int(require(body, "value", (int, float))))
    return ok()


@router.get("/rses/{src}/distances/{dest}")
def get_distance(src: str, dest: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(rses.get_distances(session, src, dest))


@router.post("/rses/{src}/distances/{dest}")
@router.put("/rses/{src}/distances/{dest}")
def set_distance(src: str, dest: str, request: Request, principal: CurrentPrincipal, session: SessionDep,
                 body: Any = Depends(json_body)) -> Response:
    principal.require_root("set RSE distances")
    value = body.get("distance", body.get("ranking"))
    if value is None:
        raise InvalidInput("request body needs 'distance'")
    rses.set_distance(session, src, dest, int(value))
    return created() if request.method == "POST" else ok()


@router.get("/rses/{rse}")
def get_rse(rse: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(rse_info(session, rses.get_rse(session, rse)))


@router.post("/rses/{rse}")
def add_rse(rse: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
            body: Any = Depends(json_body)) -> Response:
    principal.require_root("add RSEs")
    props = {k: v for k, v in body.items() if k in rses.RSE_SETTABLE}
    rses.add_rse(session, runtime.clock, rse, **props)
    return created()


@router.put("/rses/{rse}")
def update_rse(rse: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
               body: Any = Depends(json_body)) -> Response:
    principal.require_root("update RSEs")
    props = dict(body)
    if "availability" in props:
        a = int(props.pop("availability"))
        props.update(availability_read=bool(a & 4), availability_write=bool(a & 2), availability_delete=bool(a & 1))
    rses.update_rse(session, runtime.clock, rse, props)
    return created()


@router.delete("/rses/{rse}")
def delete_rse(rse: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep) -> Response:
    principal.require_root("delete RSEs")
    rses.delete_rse(session, runtime.clock, rse)
    return ok()
