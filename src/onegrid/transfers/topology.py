"""What the conveyor reads from the catalogue: where RSEs are, how to reach them, how far
apart they are, and which replicas a batch of files has.

Read-only, one query per table for a whole batch (the RSE tables are small; replicas are
read for the batch's files only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import paths, rses
from onegrid.catalog.tables import RSE, Replica, RSEAttribute, RSEDistance, RSEType
from onegrid.transfers.sources import Place

# Schemes the conveyor can copy with (HTTP-TPC and the streamed fallback).
COPY_SCHEMES = ("https", "davs", "http", "dav")
# RSE attribute naming the storage path that token scopes are relative to (Rucio's name);
# without it, the protocol's prefix (the VO's base path on the storage).
TOKEN_BASE_ATTRIBUTE = "oidc_base_path"


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


@dataclass(frozen=True)
class Endpoint:
    """How to reach files on one RSE for a third-party copy."""

    rse_id: int
    scheme: str
    host: str
    port: int
    prefix: str
    algorithm: str
    deterministic: bool
    token_base: str
    # Rucio's third_party_copy_read/write priorities: 0 = this storage does not do HTTP-TPC
    # in that role (a plain WebDAV server), so the conveyor never asks it to pull or push.
    tpc_read: bool = True
    tpc_write: bool = True

    def url(self, scope: str, name: str, path: str | None = None) -> str:
        if path is not None and "://" in path:
            return path
        rel = path if path is not None else paths.deterministic_path(scope, name, self.algorithm)
        return paths.build_pfn(self.scheme, self.host, self.port, self.prefix, rel)

    @property
    def audience(self) -> str:
        return audience_of(self.url("x", "x"))


def audience_of(url: str) -> str:
    """The storage's URL as a token audience: scheme://host[:port], no default port (SPECS §4)."""
    parts = urlsplit(url.replace("davs://", "https://", 1).replace("dav://", "http://", 1))
    default = {"https": 443, "http": 80}.get(parts.scheme)
    netloc = parts.hostname or ""
    if parts.port and parts.port != default:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}"


def token_path(url: str, base: str) -> str:
    """The path a token scope names for `url`: the URL's path below the storage's base path."""
    path = urlsplit(url).path or "/"
    base = "/" + base.strip("/") if base.strip("/") else ""
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base):] or "/"
    return path


@dataclass
class Topology:
    places: dict[int, Place]
    endpoints: dict[int, Endpoint]
    distances: dict[tuple[int, int], int]

    def name(self, rse_id: int | None) -> str:
        if rse_id is None:
            return "-"
        place = self.places.get(rse_id)
        return place.name if place else str(rse_id)


def load_topology(session: Session) -> Topology:
    attrs: dict[int, dict[str, Any]] = {}
    keys = ["site", "country", "draining", "istape", paths.ALGORITHM_ATTRIBUTE, TOKEN_BASE_ATTRIBUTE]
    for rse_id, key, value in session.execute(
            sa.select(RSEAttribute.rse_id, RSEAttribute.key, RSEAttribute.value).where(RSEAttribute.key.in_(keys))):
        attrs.setdefault(rse_id, {})[key] = value
    places: dict[int, Place] = {}
    deterministic: dict[int, bool] = {}
    for r in session.scalars(sa.select(RSE).where(RSE.deleted_at.is_(None))):
        a = attrs.get(r.id, {})
        places[r.id] = Place(
            rse_id=r.id, name=r.name, site=a.get("site"), country=a.get("country") or r.country_name,
            readable=bool(r.availability_read), draining=_truthy(a.get("draining", False)),
            is_tape=r.rse_type is RSEType.TAPE or _truthy(a.get("istape", False)))
        deterministic[r.id] = bool(r.deterministic)
    endpoints: dict[int, Endpoint] = {}
    for rse_id, plist in rses.protocols_of(session, places).items():
        usable = [p for p in plist if p.scheme in COPY_SCHEMES and (p.tpc_read_wan or p.tpc_write_wan)]
        if not usable:
            usable = [p for p in plist if p.scheme in COPY_SCHEMES]
        if not usable:
            continue
        p = min(usable, key=lambda p: (p.tpc_write_wan or 99, p.id))
        a = attrs.get(rse_id, {})
        endpoints[rse_id] = Endpoint(
            rse_id=rse_id, scheme=p.scheme, host=p.hostname, port=p.port, prefix=p.prefix or "",
            algorithm=str(a.get(paths.ALGORITHM_ATTRIBUTE) or paths.DEFAULT_ALGORITHM),
            deterministic=deterministic[rse_id],
            token_base=str(a.get(TOKEN_BASE_ATTRIBUTE) or p.prefix or "/"),
            tpc_read=bool(p.tpc_read_wan), tpc_write=bool(p.tpc_write_wan))
    distances = {(s, d): dist for s, d, dist in session.execute(
        sa.select(RSEDistance.src_rse_id, RSEDistance.dest_rse_id, RSEDistance.distance))}
    return Topology(places=places, endpoints=endpoints, distances=distances)


@dataclass(frozen=True)
class ReplicaRow:
    rse_id: int
    state: str
    path: str | None
    adler32: str | None
    md5: str | None
    bytes: int


def replicas_of(session: Session, dids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[ReplicaRow]]:
    """Every replica (any state) of the given files."""
    by_scope: dict[str, set[str]] = {}
    for scope, name in dids:
        by_scope.setdefault(scope, set()).add(name)
    out: dict[tuple[str, str], list[ReplicaRow]] = {}
    for scope, names in by_scope.items():
        ordered: Sequence[str] = sorted(names)
        for i in range(0, len(ordered), 500):
            q = sa.select(Replica.name, Replica.rse_id, Replica.state, Replica.path, Replica.adler32, Replica.md5,
                          Replica.bytes).where(Replica.scope == scope, Replica.name.in_(ordered[i:i + 500]))
            for name, rse_id, state, path, adler, md5, size in session.execute(q):
                out.setdefault((scope, name), []).append(
                    ReplicaRow(rse_id=rse_id, state=str(state.value if hasattr(state, "value") else state),
                               path=path, adler32=adler, md5=md5, bytes=size))
    return out
