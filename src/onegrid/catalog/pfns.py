"""From a PFN back to the replica it names: which RSE (by its protocols) and which file (by
the RSE's path convention, or the path stored for a non-deterministic RSE). Used to declare
bad replicas by PFN, as `rucio replica declare-bad` and the download clients do."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import paths
from onegrid.catalog.tables import RSE, Replica, RSEAttribute, RSEProtocol

DEFAULT_PORTS = {"https": 443, "davs": 443, "http": 80, "dav": 80, "root": 1094, "file": 0}


def _split(pfn: str) -> tuple[str, str, int, str]:
    parts = urlsplit(pfn)
    scheme = parts.scheme.lower()
    path = unquote(parts.path)
    if scheme == "root" and path.startswith("//"):
        path = path[1:]
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0), path


def _candidate_names(rel: str) -> set[str]:
    """Names whose path on a deterministic RSE could be `rel`: the path itself (identity),
    or what follows one to four leading directories (a scope's directory, a hash prefix)."""
    segments = [s for s in rel.split("/") if s]
    out = {rel, rel.lstrip("/")}
    for k in range(1, min(len(segments), 5)):
        rest = "/".join(segments[k:])
        out |= {rest, "/" + rest}
    return out


def resolve(session: Session, pfns: Sequence[str]) -> tuple[list[dict[str, str]], list[str]]:
    """(`[{scope, name, rse, pfn}]` for the PFNs that name a known replica, the PFNs that do not)."""
    rses = {r.id: r for r in session.scalars(sa.select(RSE).where(RSE.deleted_at.is_(None)))}
    algorithm = {rse_id: str(v) for rse_id, v in session.execute(
        sa.select(RSEAttribute.rse_id, RSEAttribute.value).where(RSEAttribute.key == paths.ALGORITHM_ATTRIBUTE))}
    protocols = list(session.execute(sa.select(RSEProtocol.rse_id, RSEProtocol.scheme, RSEProtocol.hostname,
                                               RSEProtocol.port, RSEProtocol.prefix)))
    found: list[dict[str, str]] = []
    unknown: list[str] = []
    for pfn in pfns:
        scheme, host, port, path = _split(pfn)
        hit = None
        for rse_id, p_scheme, p_host, p_port, prefix in protocols:
            if rse_id not in rses or p_scheme != scheme or (p_host or "").lower() != host or \
                    (p_port or DEFAULT_PORTS.get(scheme, 0)) != port:
                continue
            base = paths.join_path(prefix or "", "")
            if not path.startswith(base.rstrip("/") + "/") and base != "/":
                continue
            rel = "/" + path[len(base.rstrip("/")):].lstrip("/")
            hit = _replica_at(session, rses[rse_id], algorithm.get(rse_id) or paths.DEFAULT_ALGORITHM, rel)
            if hit is not None:
                break
        if hit is None:
            unknown.append(pfn)
        else:
            found.append({**hit, "pfn": pfn})
    return found, unknown


def _replica_at(session: Session, rse: RSE, algorithm: str, rel: str) -> dict[str, str] | None:
    if not rse.deterministic:
        row = session.execute(sa.select(Replica.scope, Replica.name).where(
            Replica.rse_id == rse.id, Replica.path.in_([rel, rel.lstrip("/")]))).first()
        return None if row is None else {"scope": row.scope, "name": row.name, "rse": rse.name}
    rows = session.execute(sa.select(Replica.scope, Replica.name).where(
        Replica.rse_id == rse.id, Replica.name.in_(sorted(_candidate_names(rel)))))
    for scope, name in rows:
        if paths.deterministic_path(scope, name, algorithm) == rel:
            return {"scope": scope, "name": name, "rse": rse.name}
    return None
