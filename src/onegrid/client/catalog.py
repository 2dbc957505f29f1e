"""Client calls of onegrid.catalog: scopes, DIDs, metadata, RSEs, replicas, traces.

The server speaks Rucio's REST API; these calls use it with OneGrid's token. Bulk calls
take and return many items in one round trip. The path conventions and PFN building are
pure functions (`deterministic_path`, `build_pfn`, `pfn_for`) usable without a server.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, quote_plus

import onegrid.catalog.errors
from onegrid.catalog.meta_filter import Filter, parse_text, to_wire
from onegrid.catalog.paths import build_pfn, deterministic_path, join_path  # noqa: F401  (re-exported)
from onegrid.client.base import Transport
from onegrid.errors import AlreadyExists

__all__ = ["CatalogClient", "build_pfn", "deterministic_path", "pfn_for", "protocol_for"]

DIDRef = Mapping[str, Any]  # {"scope": ..., "name": ...}
_OPERATION_KEYS = {"read": "read", "write": "write", "delete": "delete",
                   "third_party_copy_read": "third_party_copy_read", "third_party_copy_write": "third_party_copy_write"}


def protocol_for(rse_info: Mapping[str, Any], operation: str = "read", scheme: str | None = None,
                 domain: str = "wan") -> dict[str, Any]:
    """The protocol an RSE offers first for an operation (lowest non-zero priority)."""
    key = _OPERATION_KEYS.get(operation, operation)
    usable = [p for p in rse_info.get("protocols", [])
              if (scheme is None or p["scheme"] == scheme) and (p.get("domains", {}).get(domain, {}).get(key) or 0) > 0]
    if not usable:
        raise onegrid.catalog.errors.RSEProtocolNotFound(
            f"RSE {rse_info.get('rse')} has no protocol for {operation}" + (f" with scheme {scheme}" if scheme else ""))
    return dict(min(usable, key=lambda p: p["domains"][domain][key]))


def pfn_for(rse_info: Mapping[str, Any], scope: str, name: str, *, operation: str = "write",
            scheme: str | None = None, path: str | None = None) -> str:
    """The URL of `scope:name` on an RSE (from `get_rse`): the RSE's convention
    (`lfn2pfn_algorithm`: hash or identity) under its first protocol for the operation."""
    p = protocol_for(rse_info, operation, scheme)
    if path is None:
        path = deterministic_path(scope, name, str(rse_info.get("lfn2pfn_algorithm") or "hash"))
    return build_pfn(p["scheme"], p["hostname"], p["port"], p["prefix"], path)


def _did_path(scope: str, name: str) -> str:
    return f"{quote_plus(scope)}/{quote_plus(name)}"


def _filters(filters: str | Filter | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if filters is None or filters == "":
        return [{}]
    if isinstance(filters, str):
        return to_wire(parse_text(filters)) or [{}]
    if filters and isinstance(filters[0], list):
        return to_wire(filters)  # type: ignore[arg-type]
    return [dict(g) for g in filters]  # type: ignore[union-attr]


class CatalogClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    # -- server, accounts, scopes --------------------------------------------------

    def ping(self) -> dict[str, Any]:
        return self.t.json("GET", "/ping")  # type: ignore[no-any-return]

    def whoami(self) -> dict[str, Any]:
        return self.t.json("GET", "/accounts/whoami")  # type: ignore[no-any-return]

    def list_scopes(self, account: str | None = None) -> list[str]:
        if account:
            return self.t.json("GET", f"/accounts/{account}/scopes/")  # type: ignore[no-any-return]
        return self.t.json("GET", "/scopes/")  # type: ignore[no-any-return]

    def scope_owners(self) -> list[dict[str, str]]:
        return self.t.json("GET", "/scopes/owner")  # type: ignore[no-any-return]

    def add_scope(self, scope: str, account: str) -> None:
        self.t.request("POST", f"/accounts/{account}/scopes/{quote_plus(scope)}")

    # -- RSEs ------------------------------------------------------------------------

    def add_rse(self, name: str, **props: Any) -> None:
        self.t.request("POST", f"/rses/{name}", content=json.dumps(props))

    def update_rse(self, name: str, **props: Any) -> None:
        self.t.request("PUT", f"/rses/{name}", content=json.dumps(props))

    def delete_rse(self, name: str) -> None:
        self.t.request("DELETE", f"/rses/{name}")

    def list_rses(self, expression: str | None = None) -> list[dict[str, Any]]:
        params = {"expression": expression} if expression else None
        return list(self.t.stream_lines("GET", "/rses/", params=params))

    def get_rse(self, name: str) -> dict[str, Any]:
        """The RSE with its protocols and `lfn2pfn_algorithm` (what `pfn_for` needs)."""
        return self.t.json("GET", f"/rses/{name}")  # type: ignore[no-any-return]

    def get_rses(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {n: self.get_rse(n) for n in dict.fromkeys(names)}

    def rse_attributes(self, name: str) -> dict[str, Any]:
        return self.t.json("GET", f"/rses/{name}/attr/")  # type: ignore[no-any-return]

    def set_rse_attribute(self, name: str, key: str, value: Any) -> None:
        self.t.request("POST", f"/rses/{name}/attr/{quote(key, safe='')}", content=json.dumps({"value": value}))

    def delete_rse_attribute(self, name: str, key: str) -> None:
        self.t.request("DELETE", f"/rses/{name}/attr/{quote(key, safe='')}")

    def add_protocol(self, rse: str, scheme: str, hostname: str, port: int, prefix: str = "", *,
                     impl: str = "", domains: Mapping[str, Mapping[str, int]] | None = None) -> None:
        """Add a protocol; `domains` defaults to priority 1 for every WAN operation."""
        body = {"scheme": scheme, "hostname": hostname, "port": port, "prefix": prefix, "impl": impl}
        if domains is not None:
            body["domains"] = {k: dict(v) for k, v in domains.items()}
        self.t.request("POST", f"/rses/{rse}/protocols/{scheme}", content=json.dumps(body))

    def protocols(self, rse: str) -> list[dict[str, Any]]:
        return self.t.json("GET", f"/rses/{rse}/protocols")["protocols"]  # type: ignore[no-any-return]

    def delete_protocol(self, rse: str, scheme: str, hostname: str | None = None, port: int | None = None) -> None:
        path = f"/rses/{rse}/protocols/{scheme}" + (f"/{hostname}" if hostname else "") + (f"/{port}" if hostname and port else "")
        self.t.request("DELETE", path)

    def lfns2pfns(self, rse: str, dids: Iterable[DIDRef], *, scheme: str | None = None,
                  operation: str = "write") -> dict[str, str]:
        params: list[tuple[str, str]] = [("lfns", f"{d['scope']}:{d['name']}") for d in dids]
        params.append(("operation", operation))
        if scheme:
            params.append(("scheme", scheme))
        return self.t.json("GET", f"/rses/{rse}/lfns2pfns", params=params)  # type: ignore[no-any-return]

    def set_distance(self, src: str, dest: str, distance: int) -> None:
        self.t.request("PUT", f"/rses/{src}/distances/{dest}", content=json.dumps({"distance": distance}))

    def get_distance(self, src: str, dest: str) -> int | None:
        rows = self.t.json("GET", f"/rses/{src}/distances/{dest}")
        return int(rows[0]["distance"]) if rows else None

    def rse_usage(self, rse: str) -> list[dict[str, Any]]:
        return list(self.t.stream_lines("GET", f"/rses/{rse}/usage"))

    def set_rse_usage(self, rse: str, source: str, used: int, free: int | None = None, *,
                      total: int | None = None, files: int | None = None) -> None:
        body = {"source": source, "used": used, "free": free, "total": total, "files": files}
        self.t.request("PUT", f"/rses/{rse}/usage", content=json.dumps(body))

    def set_rse_limit(self, rse: str, name: str, value: int) -> None:
        self.t.request("PUT", f"/rses/{rse}/limits", content=json.dumps({"name": name, "value": value}))

    def rse_limits(self, rse: str) -> dict[str, int]:
        return self.t.json("GET", f"/rses/{rse}/limits")  # type: ignore[no-any-return]

    # -- account limits ---------------------------------------------------------------

    def set_account_limit(self, account: str, rse: str, nbytes: int) -> None:
        self.t.request("POST", f"/accounts/{account}/limits/local/{rse}", content=json.dumps({"bytes": nbytes}))

    def account_limits(self, account: str) -> dict[str, int]:
        return self.t.json("GET", f"/accounts/{account}/limits/local")  # type: ignore[no-any-return]

    def account_usage(self, account: str) -> list[dict[str, Any]]:
        return list(self.t.stream_lines("GET", f"/accounts/{account}/usage/local"))

    # -- DIDs -------------------------------------------------------------------------

    def add_did(self, scope: str, name: str, did_type: str = "DATASET", *, meta: Mapping[str, Any] | None = None,
                lifetime: int | None = None) -> None:
        body = {"type": did_type.upper(), "meta": dict(meta or {}), "lifetime": lifetime}
        self.t.request("POST", f"/dids/{_did_path(scope, name)}", content=json.dumps(body))

    def add_dataset(self, scope: str, name: str, **kwargs: Any) -> None:
        self.add_did(scope, name, "DATASET", **kwargs)

    def add_container(self, scope: str, name: str, **kwargs: Any) -> None:
        self.add_did(scope, name, "CONTAINER", **kwargs)

    def add_dids(self, dids: Sequence[Mapping[str, Any]]) -> None:
        """Many DIDs at once: `{scope, name, type, meta?, lifetime?}`."""
        self.t.request("POST", "/dids", content=json.dumps([dict(d) for d in dids]))

    def get_did(self, scope: str, name: str) -> dict[str, Any]:
        return self.t.json("GET", f"/dids/{_did_path(scope, name)}")  # type: ignore[no-any-return]

    def list_dids(self, scope: str, filters: str | Filter | Sequence[Mapping[str, Any]] | None = None, *,
                  did_type: str = "collection", long: bool = False, limit: int | None = None) -> Iterator[Any]:
        """Names (or dicts with `long`) of the DIDs matching a filter: text as
        `rucio list-dids --filter` takes it, or the wire form."""
        params: dict[str, Any] = {"type": did_type, "filters": repr(_filters(filters)), "long": str(long)}
        if limit:
            params["limit"] = limit
        return self.t.stream_lines("GET", f"/dids/{quote_plus(scope)}/dids/search", params=params)

    def attach(self, scope: str, name: str, dids: Sequence[DIDRef], *, rse: str | None = None) -> None:
        """Attach DIDs to a collection; with `rse`, the files' replicas there are
        registered in the same transaction (files then need bytes/checksums)."""
        body: dict[str, Any] = {"dids": [dict(d) for d in dids]}
        if rse:
            body["rse"] = rse
        self.t.request("POST", f"/dids/{_did_path(scope, name)}/dids", content=json.dumps(body))

    def detach(self, scope: str, name: str, dids: Sequence[DIDRef]) -> None:
        self.t.request("DELETE", f"/dids/{_did_path(scope, name)}/dids",
                       content=json.dumps({"dids": [{"scope": d["scope"], "name": d["name"]} for d in dids]}))

    def list_content(self, scope: str, name: str) -> Iterator[dict[str, Any]]:
        return self.t.stream_lines("GET", f"/dids/{_did_path(scope, name)}/dids")

    def list_files(self, scope: str, name: str) -> Iterator[dict[str, Any]]:
        return self.t.stream_lines("GET", f"/dids/{_did_path(scope, name)}/files")

    def list_parents(self, scope: str, name: str) -> list[dict[str, Any]]:
        return list(self.t.stream_lines("GET", f"/dids/{_did_path(scope, name)}/parents"))

    def get_metadata(self, scope: str, name: str) -> dict[str, Any]:
        return self.t.json("GET", f"/dids/{_did_path(scope, name)}/meta")  # type: ignore[no-any-return]

    def set_metadata(self, scope: str, name: str, meta: Mapping[str, Any]) -> None:
        self.t.request("POST", f"/dids/{_did_path(scope, name)}/meta", content=json.dumps({"meta": dict(meta)}))

    def delete_metadata(self, scope: str, name: str, key: str) -> None:
        self.t.request("DELETE", f"/dids/{_did_path(scope, name)}/meta", params={"key": key})

    def close(self, scope: str, name: str) -> None:
        self.t.request("PUT", f"/dids/{_did_path(scope, name)}/status", content=json.dumps({"open": False}))

    # -- replicas ---------------------------------------------------------------------

    def add_replicas(self, rse: str, files: Sequence[Mapping[str, Any]]) -> None:
        """Register files and their replicas on an RSE in one call:
        `{scope, name, bytes, adler32?, md5?, meta?, pfn? (non-deterministic RSEs)}`."""
        self.t.request("POST", "/replicas", content=json.dumps({"rse": rse, "files": [dict(f) for f in files]}))

    def add_files(self, rse: str, files: Sequence[Mapping[str, Any]], *, dataset: DIDRef | None = None,
                  create_dataset: bool = False, batch: int = 10000) -> None:
        """Register files with replicas on `rse` and, if given, attach them to a dataset
        (made first when `create_dataset`), in batches of one round trip each."""
        if dataset is not None and create_dataset:
            with contextlib.suppress(AlreadyExists):
                self.add_dataset(dataset["scope"], dataset["name"])
        for i in range(0, len(files), batch):
            part = files[i:i + batch]
            if dataset is None:
                self.add_replicas(rse, part)
            else:
                self.attach(dataset["scope"], dataset["name"], part, rse=rse)

    def list_replicas(self, dids: Sequence[DIDRef], *, schemes: Sequence[str] | None = None,
                      client_site: str | None = None, rse_expression: str | None = None,
                      all_states: bool = False) -> Iterator[dict[str, Any]]:
        """The files below the DIDs with `rses: {rse: [pfn...]}` and `pfns: {pfn: {...}}`,
        replicas at `client_site` first."""
        body: dict[str, Any] = {"dids": [{"scope": d["scope"], "name": d["name"]} for d in dids],
                                "all_states": all_states}
        if schemes:
            body["schemes"] = list(schemes)
        if client_site:
            body["client_location"] = {"site": client_site}
        if rse_expression:
            body["rse_expression"] = rse_expression
        return self.t.stream_lines("POST", "/replicas/list", content=json.dumps(body))

    def update_replica_states(self, rse: str, files: Sequence[Mapping[str, Any]]) -> None:
        """`files`: `{scope, name, state}` with state AVAILABLE, UNAVAILABLE, COPYING, BAD ..."""
        self.t.request("PUT", "/replicas", content=json.dumps({"rse": rse, "files": [dict(f) for f in files]}))

    def delete_replicas(self, rse: str, files: Sequence[DIDRef]) -> None:
        self.t.request("DELETE", "/replicas", content=json.dumps(
            {"rse": rse, "files": [{"scope": f["scope"], "name": f["name"]} for f in files]}))

    def declare_bad(self, replicas: Sequence[Mapping[str, Any]], reason: str) -> dict[str, list[str]]:
        """`replicas`: `{scope, name, rse}`. Returns the ones that were not found, by RSE."""
        return self.t.json("POST", "/replicas/bad", content=json.dumps(  # type: ignore[no-any-return]
            {"replicas": [dict(r) for r in replicas], "reason": reason}))

    def list_bad_replicas(self, rse: str | None = None) -> list[dict[str, Any]]:
        return list(self.t.stream_lines("GET", "/replicas/bad", params={"rse": rse} if rse else None))

    # -- traces -----------------------------------------------------------------------

    def send_trace(self, trace: Mapping[str, Any]) -> None:
        """Report an upload or download (`eventType`, `scope`, `filename`, `remoteSite`,
        `clientState`, ...), as Rucio's clients do."""
        self.t.request("POST", "/traces/", content=json.dumps(dict(trace)))



def connect(server: str | None = None, token: str | None = None, *, default_server: str | None = None,
            timeout: float = 60) -> CatalogClient:
    """A catalogue client: the server from `--server`, `ONEGRID_SERVER`, or the one saved by
    `onegrid login`; the token by WLCG bearer-token discovery (`onegrid.client.auth`)."""
    from onegrid.client.auth import connect as connect_client

    return connect_client(server, token, default_server=default_server, timeout=timeout).catalog


def parse_did(text: str) -> dict[str, str]:
    """`scope:name` → `{"scope", "name"}`."""
    scope, sep, name = text.partition(":")
    if not sep or not scope or not name:
        from onegrid.errors import InvalidInput

        raise InvalidInput(f"expected scope:name, got {text!r}")
    return {"scope": scope, "name": name}


def parse_value(text: str) -> Any:
    """A command-line value: JSON where it parses (numbers, true/false), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text
