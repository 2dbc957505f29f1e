"""The reaper: replicas with a tombstone and no lock are deleted from the storage, then
forgotten by the catalogue.

Per RSE and cycle: decide what goes (`deletion.choose_victims`: obsolete ones always,
everything due on a greedy RSE, otherwise least recently accessed first while the RSE
lacks free space), mark those BEING_DELETED (that mark is the lease: a reaper killed
mid-way leaves them to be taken again after `lease_seconds`), delete each on the storage
with a token for exactly its path, and remove from the catalogue only what the storage
confirmed gone. Free space comes from the storage's SRR (RSE attribute `srr_url`, stored
as usage source `srr`), or from the catalogue's own count against the RSE's
`TotalSpace` limit; the minimum is the RSE's `MinFreeSpace` limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk, paths, rses
from onegrid.catalog import dids as did_ops
from onegrid.catalog.rules.deletion import DeletionCandidate, bytes_needed, choose_victims
from onegrid.catalog.rules.settings import RuleSettings
from onegrid.catalog.tables import RSE, Replica, ReplicaState, RSEAttribute, RSELimit, RSEUsage, Trace
from onegrid.iam.issuer import mint
from onegrid.runtime import Runtime

log = logging.getLogger("onegrid.reaper")
SRR_SOURCES = ("srr", "storage")

StorageFactory = Callable[[str, str | None], Any]  # (url, token) -> a client with .delete(url, missing_ok=True)


def default_storage(url: str, token: str | None) -> Any:
    from onegrid.storage.client import for_url

    return for_url(url, token)


@dataclass
class Victim:
    scope: str
    name: str
    bytes: int
    path: str | None


def free_space(session: Session, rse_id: int) -> tuple[int | None, int | None]:
    """(free bytes, minimum free bytes) of an RSE; None where unknown."""
    limits = dict(session.execute(sa.select(RSELimit.name, RSELimit.value).where(RSELimit.rse_id == rse_id)).all())
    usage = {u.source: u for u in session.scalars(sa.select(RSEUsage).where(RSEUsage.rse_id == rse_id))}
    free: int | None = None
    for source in SRR_SOURCES:
        u = usage.get(source)
        if u is not None and (u.free is not None or u.total is not None):
            free = u.free if u.free is not None else int(u.total or 0) - u.used
            break
    if free is None and "TotalSpace" in limits:
        used = usage["rucio"].used if "rucio" in usage else 0
        free = int(limits["TotalSpace"]) - used
    return free, limits.get("MinFreeSpace")


def refresh_srr(runtime: Runtime, rse_id: int, url: str) -> None:
    """Read the storage's SRR (WLCG Storage Resource Reporting) into the RSE's usage."""
    try:
        doc = httpx.get(url, timeout=10).json()["storageservice"]
        online = doc["storagecapacity"]["online"]
        total, used = int(online["totalsize"]), int(online["usedsize"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning("SRR of RSE %s at %s unreadable: %s", rse_id, url, exc)
        return
    with runtime.transaction() as s:
        name = s.get(RSE, rse_id)
        if name is not None:
            rses.set_usage(s, runtime.clock, name.name, "srr", used, free=max(0, total - used), total=total)


def rses_with_work(session: Session, now: Any) -> list[int]:
    """RSEs that may delete and hold replicas whose tombstone has passed."""
    query = (sa.select(Replica.rse_id).join(RSE, RSE.id == Replica.rse_id)
             .where(Replica.lock_cnt <= 0, Replica.tombstone.is_not(None), Replica.tombstone <= now,
                    RSE.availability_delete.is_(True), RSE.deleted_at.is_(None)).distinct())
    return sorted(session.scalars(query))


def claim_victims(runtime: Runtime, rse_id: int, settings: RuleSettings) -> list[Victim]:
    """Choose this cycle's deletions on one RSE and mark them BEING_DELETED."""
    now = runtime.clock.now()
    stale = now - timedelta(seconds=settings.lease_seconds)
    with runtime.transaction() as s:
        attrs = dict(s.execute(sa.select(RSEAttribute.key, RSEAttribute.value).where(
            RSEAttribute.rse_id == rse_id, RSEAttribute.key.in_(["greedyDeletion", "greedy_deletion"]))).all())
        greedy = any(str(v).lower() in ("true", "1") for v in attrs.values())
        free, min_free = free_space(s, rse_id)
        needed = bytes_needed(free, min_free)
        claimable = sa.or_(Replica.state != ReplicaState.BEING_DELETED, Replica.updated_at < stale)
        query = (sa.select(Replica.scope, Replica.name, Replica.bytes, Replica.tombstone, Replica.path,
                           Replica.accessed_at, Replica.created_at)
                 .where(Replica.rse_id == rse_id, Replica.lock_cnt <= 0, Replica.tombstone.is_not(None),
                        Replica.tombstone <= now, claimable)
                 .order_by(Replica.tombstone).limit(settings.reaper_pool))
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = s.execute(query).all()
        rse_name = s.scalar(sa.select(RSE.name).where(RSE.id == rse_id))
        last = _last_access(s, rse_name or "", [(r[0], r[1]) for r in rows])
        cands = [DeletionCandidate(sc, n, b, t, max(x for x in (acc, made, last.get((sc, n))) if x is not None))
                 for sc, n, b, t, _p, acc, made in rows]
        chosen = choose_victims(cands, now=now, needed=needed, greedy=greedy, limit=settings.reaper_per_rse)
        path_of = {(sc, n): p for sc, n, _b, _t, p, _a, _m in rows}
        if chosen:
            t = Replica.__table__
            s.execute(sa.update(t).where(t.c.scope == sa.bindparam("b_scope"), t.c.name == sa.bindparam("b_name"),
                                         t.c.rse_id == rse_id, t.c.lock_cnt <= 0)
                      .values(state=ReplicaState.BEING_DELETED, updated_at=now),
                      [{"b_scope": c.scope, "b_name": c.name} for c in chosen])
    return [Victim(c.scope, c.name, c.bytes, path_of.get((c.scope, c.name))) for c in chosen]


def _last_access(session: Session, rse_name: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The latest trace (download or upload) of each file on this RSE."""
    out: dict[tuple[str, str], Any] = {}
    by_scope: dict[str, list[str]] = {}
    for sc, n in keys:
        by_scope.setdefault(sc, []).append(n)
    for sc, names in by_scope.items():
        for part in did_ops.chunks(names):
            query = (sa.select(Trace.name, sa.func.max(Trace.created_at))
                     .where(Trace.scope == sc, Trace.rse == rse_name).group_by(Trace.name))
            for n, at in session.execute(bulk.where_in(session, query, Trace.name, part)):
                out[(sc, n)] = at
    return out


def _audience(url: str) -> str:
    parts = urlsplit(url.replace("davs://", "https://", 1).replace("dav://", "http://", 1))
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def delete_on_storage(runtime: Runtime, rse_id: int, victims: list[Victim],
                      storage: StorageFactory = default_storage) -> tuple[list[Victim], list[str]]:
    """Delete each victim on the storage. Returns (confirmed gone, errors)."""
    with runtime.reading() as s:
        protos = rses.protocols_of(s, [rse_id], operation="delete").get(rse_id, [])
        algorithm = rses.lfn2pfn_algorithm(s, rse_id)
    if not protos:
        return [], [f"RSE {rse_id} has no protocol for deletion"]
    p = protos[0]
    gone: list[Victim] = []
    errors: list[str] = []
    for v in victims:
        rel = v.path or paths.deterministic_path(v.scope, v.name, algorithm)
        url = rel if "://" in rel else paths.build_pfn(p.scheme, p.hostname, p.port, p.prefix, rel)
        # Token paths are the URL's path below the storage's base path (the protocol's prefix).
        local = urlsplit(url).path
        prefix = "/" + p.prefix.strip("/") if p.prefix.strip("/") else ""
        if prefix and local.startswith(prefix + "/"):
            local = local[len(prefix):]
        scope_path = local or "/"
        token = None
        if p.scheme in ("http", "https", "davs", "dav"):
            token = mint(runtime, "onegrid-reaper", scopes=[f"storage.modify:{scope_path}"],
                         audience=_audience(url), lifetime=600)
        try:
            client = storage(url, token)
            try:
                client.delete(url, missing_ok=True)
            finally:
                close = getattr(client, "close", None)
                if close:
                    close()
            gone.append(v)
        except Exception as exc:  # any storage failure leaves the replica for a later cycle
            errors.append(f"{v.scope}:{v.name}: {exc}")
    return gone, errors


def forget(runtime: Runtime, rse_id: int, gone: list[Victim]) -> int:
    """Remove from the catalogue the replicas the storage confirmed gone."""
    if not gone:
        return 0
    with runtime.transaction() as s:
        t = Replica.__table__
        result = s.execute(sa.delete(t).where(t.c.scope == sa.bindparam("b_scope"), t.c.name == sa.bindparam("b_name"),
                                              t.c.rse_id == rse_id, t.c.state == ReplicaState.BEING_DELETED),
                           [{"b_scope": v.scope, "b_name": v.name} for v in gone])
        rses.add_catalog_usage(s, runtime.clock, rse_id, -len(gone), -sum(v.bytes for v in gone))
        return int(result.rowcount or len(gone))


def reap(runtime: Runtime, settings: RuleSettings, storage: StorageFactory = default_storage) -> dict[str, int]:
    """One reaper cycle over every RSE with work."""
    counts = {"deleted": 0, "deletion_errors": 0, "rses": 0}
    with runtime.reading() as s:
        rse_ids = rses_with_work(s, runtime.clock.now())
        srr = dict(s.execute(sa.select(RSEAttribute.rse_id, RSEAttribute.value).where(
            RSEAttribute.key == "srr_url", RSEAttribute.rse_id.in_(rse_ids))).all())
    for rse_id in rse_ids:
        if rse_id in srr:
            refresh_srr(runtime, rse_id, str(srr[rse_id]))
        victims = claim_victims(runtime, rse_id, settings)
        if not victims:
            continue
        counts["rses"] += 1
        gone, errors = delete_on_storage(runtime, rse_id, victims, storage)
        for e in errors[:5]:
            log.warning("deletion on RSE %s failed: %s", rse_id, e)
        counts["deleted"] += forget(runtime, rse_id, gone)
        counts["deletion_errors"] += len(errors)
    return counts
