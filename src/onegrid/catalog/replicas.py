"""Replica operations: bulk registration, listing with PFNs, states, bad replicas."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _encode  # type: ignore[attr-defined]
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk, did_tree, paths, rses
from onegrid.catalog import dids as did_ops
from onegrid.catalog.errors import ReplicaAlreadyExists, ReplicaNotFound, RSEUnavailable
from onegrid.catalog.tables import (
    DID,
    RSE,
    BadReplica,
    BadReplicaState,
    Content,
    Replica,
    ReplicaState,
    RSEAttribute,
    RSEType,
)
from onegrid.clock import Clock
from onegrid.errors import InvalidInput, NotFound

# Allowed state changes (one table, checked in one place). The rules engine and the
# reaper move replicas through COPYING and BEING_DELETED; people declare BAD.
TRANSITIONS: dict[ReplicaState, set[ReplicaState]] = {
    ReplicaState.COPYING: {ReplicaState.AVAILABLE, ReplicaState.UNAVAILABLE, ReplicaState.BAD, ReplicaState.BEING_DELETED},
    ReplicaState.AVAILABLE: {ReplicaState.UNAVAILABLE, ReplicaState.BAD, ReplicaState.BEING_DELETED,
                             ReplicaState.TEMPORARY_UNAVAILABLE},
    ReplicaState.UNAVAILABLE: {ReplicaState.AVAILABLE, ReplicaState.BAD, ReplicaState.BEING_DELETED, ReplicaState.COPYING},
    ReplicaState.TEMPORARY_UNAVAILABLE: {ReplicaState.AVAILABLE, ReplicaState.UNAVAILABLE, ReplicaState.BAD,
                                         ReplicaState.BEING_DELETED},
    ReplicaState.BAD: {ReplicaState.AVAILABLE, ReplicaState.COPYING, ReplicaState.BEING_DELETED, ReplicaState.UNAVAILABLE},
    ReplicaState.BEING_DELETED: set(),
}


def parse_state(value: str | ReplicaState) -> ReplicaState:
    text = str(value).upper()
    for s in ReplicaState:
        if text == s.value or (len(text) == 1 and text == s.value[0] and s is not ReplicaState.BEING_DELETED):
            return s
    if text == "D":
        return ReplicaState.BEING_DELETED
    if text == "T":
        return ReplicaState.TEMPORARY_UNAVAILABLE
    raise InvalidInput(f"unknown replica state {value!r} (one of {', '.join(s.value for s in ReplicaState)})")


def add_replicas(session: Session, clock: Clock, account: str, rse_name: str, files: Sequence[dict[str, Any]],
                 *, ignore_availability: bool = True) -> int:
    """Register replicas of files on one RSE, creating the file DIDs that are new.
    Each file: `{scope, name, bytes, adler32?, md5?, meta?, pfn?/path?, state?}`."""
    rse = rses.get_rse(session, rse_name)
    if not ignore_availability and not rse.availability_write:
        raise RSEUnavailable(f"RSE {rse_name} is not available for writing")
    for f in files:
        if f.get("bytes") is None:
            raise InvalidInput(f"replica {f.get('scope')}:{f.get('name')} needs bytes")
    did_ops.ensure_files(session, clock, account, files)
    now = clock.now()
    keys = [(f["scope"], f["name"]) for f in files]
    if len(set(keys)) != len(keys):
        raise InvalidInput("the same file is given twice")
    by_scope: dict[str, list[str]] = {}
    for s, n in keys:
        by_scope.setdefault(s, []).append(n)
    for s, names in by_scope.items():
        for part in did_ops.chunks(names):
            dups = bulk.existing(session, Replica.__table__, {"rse_id": rse.id, "scope": s}, "name", part)
            if dups:
                raise ReplicaAlreadyExists(f"replica of {s}:{min(dups)} on {rse_name} already exists")
    rows = []
    total = 0
    for f in files:
        path = None if rse.deterministic else (f.get("path") or f.get("pfn"))
        if not rse.deterministic and not path:
            raise InvalidInput(f"RSE {rse_name} is not deterministic: {f['scope']}:{f['name']} needs a pfn")
        state = parse_state(f["state"]) if f.get("state") else ReplicaState.AVAILABLE
        size = int(f["bytes"])
        total += size
        rows.append({"scope": f["scope"], "name": f["name"], "rse_id": rse.id, "bytes": size,
                     "adler32": f.get("adler32"), "md5": f.get("md5"), "path": path, "state": state,
                     "lock_cnt": 0, "tombstone": None if f.get("tombstone") is None else f["tombstone"],
                     "accessed_at": None, "created_at": now, "updated_at": now})
    if rows:
        bulk.insert_rows(session, Replica.__table__, rows)
        rses.add_catalog_usage(session, clock, rse.id, len(rows), total)
    return len(rows)


def _keys_on(session: Session, rse_name: str, files: Sequence[dict[str, Any]]) -> tuple[RSE, list[Replica]]:
    rse = rses.get_rse(session, rse_name)
    out = []
    for f in files:
        rep = session.get(Replica, (f["scope"], f["name"], rse.id))
        if rep is None:
            raise ReplicaNotFound(f"no replica of {f['scope']}:{f['name']} on {rse_name}")
        out.append(rep)
    return rse, out


def update_states(session: Session, clock: Clock, updates: Sequence[dict[str, Any]]) -> int:
    """`[{scope, name, rse, state}]`; refuses changes the transition table forbids."""
    now = clock.now()
    for u in updates:
        _rse, (rep,) = _keys_on(session, u["rse"], [u])
        new = parse_state(u["state"])
        if new is not rep.state and new not in TRANSITIONS[rep.state]:
            raise InvalidInput(f"replica {rep.scope}:{rep.name} on {u['rse']} cannot go from {rep.state.value} to {new.value}")
        rep.state = new
        rep.updated_at = now
    session.flush()
    return len(updates)


def delete_replicas(session: Session, clock: Clock, rse_name: str, files: Sequence[dict[str, Any]]) -> int:
    rse, reps = _keys_on(session, rse_name, files)
    total = sum(r.bytes for r in reps)
    for r in reps:
        session.delete(r)
    session.flush()
    rses.add_catalog_usage(session, clock, rse.id, -len(reps), -total)
    return len(reps)


def declare_bad(session: Session, clock: Clock, account: str, replicas: Sequence[dict[str, Any]], reason: str,
                *, state: BadReplicaState = BadReplicaState.BAD) -> list[str]:
    """Mark replicas BAD (`{scope, name, rse}`) and record why. Returns what was unknown."""
    now = clock.now()
    unknown = []
    for item in replicas:
        try:
            rse = rses.get_rse(session, item["rse"])
        except NotFound:
            unknown.append(f"{item.get('scope')}:{item.get('name')} on {item.get('rse')}")
            continue
        rep = session.get(Replica, (item["scope"], item["name"], rse.id))
        if rep is None:
            unknown.append(f"{item['scope']}:{item['name']} on {item['rse']}")
            continue
        if state is BadReplicaState.BAD:
            rep.state = ReplicaState.BAD
            rep.updated_at = now
        session.add(BadReplica(scope=rep.scope, name=rep.name, rse_id=rse.id, state=state, reason=reason,
                               account=account, created_at=now))
    session.flush()
    return unknown


def list_bad(session: Session, rse_name: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(BadReplica, RSE.name).join(RSE, RSE.id == BadReplica.rse_id).order_by(BadReplica.id)
    if rse_name:
        query = query.where(RSE.name == rse_name)
    return [{"scope": b.scope, "name": b.name, "rse": n, "rse_id": str(b.rse_id), "state": b.state.value,
             "reason": b.reason, "account": b.account, "created_at": b.created_at.isoformat()}
            for b, n in session.execute(query).all()]


# -- listing -------------------------------------------------------------------------


@dataclass
class _RSEInfo:
    id: int
    name: str
    rse_type: RSEType
    deterministic: bool
    volatile: bool
    algorithm: str
    site: str | None
    protocols: list[tuple[str, str, int, str]] = field(default_factory=list)  # scheme, host, port, prefix


def _rse_infos(session: Session, schemes: Sequence[str] | None, only: set[str] | None) -> dict[int, _RSEInfo]:
    attrs: dict[int, dict[str, Any]] = {}
    for rse_id, key, value in session.execute(sa.select(RSEAttribute.rse_id, RSEAttribute.key, RSEAttribute.value)
                                              .where(RSEAttribute.key.in_(["site", paths.ALGORITHM_ATTRIBUTE]))):
        attrs.setdefault(rse_id, {})[key] = value
    infos = {}
    for r in session.scalars(sa.select(RSE).where(RSE.deleted_at.is_(None), RSE.availability_read.is_(True))):
        if only is not None and r.name not in only:
            continue
        a = attrs.get(r.id, {})
        infos[r.id] = _RSEInfo(r.id, r.name, r.rse_type, r.deterministic, r.volatile,
                               str(a.get(paths.ALGORITHM_ATTRIBUTE) or paths.DEFAULT_ALGORITHM), a.get("site"))
    protos = rses.protocols_of(session, infos, operation="read")
    for rse_id, plist in protos.items():
        for p in plist:
            if schemes and p.scheme not in schemes:
                continue
            infos[rse_id].protocols.append((p.scheme, p.hostname, p.port, p.prefix))
    return infos


def _replica_entry(scope: str, name: str, size: int | None, adler32: str | None, md5: str | None,
                   reps: list[tuple[int, ReplicaState, str | None]], infos: dict[int, _RSEInfo],
                   site: str | None) -> dict[str, Any]:
    rses_out: dict[str, list[str]] = {}
    pfns: dict[str, dict[str, Any]] = {}
    states: dict[str, str] = {}
    if len(reps) > 1:
        reps = sorted(reps, key=lambda r: (infos[r[0]].site != site if site else False, infos[r[0]].name))
    priority = 0
    for rse_id, state, path in reps:
        info = infos[rse_id]
        states[info.name] = state.value
        if path is None:
            path = paths.deterministic_path(scope, name, info.algorithm)
        urls = rses_out.setdefault(info.name, [])
        for scheme, host, port, prefix in info.protocols:
            pfn = path if "://" in path else paths.build_pfn(scheme, host, port, prefix, path)
            priority += 1
            urls.append(pfn)
            pfns[pfn] = {"rse": info.name, "rse_id": str(rse_id), "type": info.rse_type.value, "domain": "wan",
                         "priority": priority, "volatile": info.volatile, "client_extract": False}
    return {"scope": scope, "name": name, "bytes": size, "adler32": adler32, "md5": md5,
            "rses": rses_out, "pfns": pfns, "states": states}


def list_replicas(session: Session, dids: Sequence[tuple[str, str]], *, schemes: Sequence[str] | None = None,
                  rse_names: set[str] | None = None, client_site: str | None = None,
                  all_states: bool = False) -> Iterator[dict[str, Any]]:
    """One entry per file below the DIDs, with its replicas' PFNs (client's site first).
    Datasets are listed in one join each; a generator, for streaming."""
    files, datasets = did_tree.datasets_below(session, dids)
    infos = _rse_infos(session, schemes, rse_names)
    ok_state = None if all_states else ReplicaState.AVAILABLE

    def visible(rse_id: int | None, state: ReplicaState | None) -> bool:
        return rse_id is not None and rse_id in infos and (ok_state is None or state is ok_state)

    seen: set[tuple[str, str]] = set()
    for ds, dn in datasets:
        query = (sa.select(Content.child_scope, Content.child_name, Content.bytes, Content.adler32, Content.md5,
                           Replica.rse_id, Replica.state, Replica.path)
                 .outerjoin(Replica, sa.and_(Replica.scope == Content.child_scope, Replica.name == Content.child_name))
                 .where(Content.scope == ds, Content.name == dn)
                 .order_by(Content.child_scope, Content.child_name))
        current: tuple[str, str] | None = None
        meta: tuple[Any, Any, Any] = (None, None, None)
        reps: list[tuple[int, ReplicaState, str | None]] = []
        for s, n, b, a, m, rse_id, state, path in session.execute(query.execution_options(yield_per=20000)):
            if (s, n) != current:
                if current is not None and current not in seen:
                    seen.add(current)
                    yield _replica_entry(*current, *meta, reps, infos, client_site)
                current, meta, reps = (s, n), (b, a, m), []
            if visible(rse_id, state):
                reps.append((rse_id, state, path))
        if current is not None and current not in seen:
            seen.add(current)
            yield _replica_entry(*current, *meta, reps, infos, client_site)
    by_scope: dict[str, list[str]] = {}
    for s, n in files:
        if (s, n) not in seen:
            by_scope.setdefault(s, []).append(n)


    for s, names in by_scope.items():
        for part in did_ops.chunks(names):
            found: dict[str, list[tuple[int, ReplicaState, str | None]]] = {}
            query = sa.select(Replica.name, Replica.rse_id, Replica.state, Replica.path).where(Replica.scope == s)
            for n, rse_id, state, path in session.execute(bulk.where_in(session, query, Replica.name, part)):
                if visible(rse_id, state):
                    found.setdefault(n, []).append((rse_id, state, path))
            query = sa.select(DID.name, DID.bytes, DID.adler32, DID.md5).where(DID.scope == s).order_by(DID.name)
            for n, b, a, m in session.execute(bulk.where_in(session, query, DID.name, part)):
                yield _replica_entry(s, n, b, a, m, found.get(n, []), infos, client_site)


def replica_json(e: dict[str, Any]) -> str:
    """One listing entry as a JSON line, written out by hand: the generic encoder is the
    largest cost of a 100,000-file listing."""
    enc = _encode
    rses_part = ", ".join(f"{enc(r)}: [{', '.join(enc(u) for u in urls)}]" for r, urls in e["rses"].items())
    pfns_part = ", ".join(
        f'{enc(u)}: {{"rse": {enc(p["rse"])}, "rse_id": {enc(p["rse_id"])}, "type": "{p["type"]}", "domain": "wan", '
        f'"priority": {p["priority"]}, "volatile": {"true" if p["volatile"] else "false"}, "client_extract": false}}'
        for u, p in e["pfns"].items())
    states_part = ", ".join(f'{enc(r)}: "{st}"' for r, st in e["states"].items())
    size = "null" if e["bytes"] is None else int(e["bytes"])
    return (f'{{"scope": {enc(e["scope"])}, "name": {enc(e["name"])}, "bytes": {size}, '
            f'"adler32": {_encode_opt(e["adler32"])}, "md5": {_encode_opt(e["md5"])}, "rses": {{{rses_part}}}, '
            f'"pfns": {{{pfns_part}}}, "states": {{{states_part}}}}}\n')


def _encode_opt(value: str | None) -> str:
    return "null" if value is None else _encode(value)


def metalink(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    """The listing as Metalink 4 (RFC 5854), as `rucio list-file-replicas --metalink` reads it."""
    from xml.sax.saxutils import escape, quoteattr

    yield '<?xml version="1.0" encoding="UTF-8"?>\n<metalink xmlns="urn:ietf:params:xml:ns:metalink">\n'
    for e in entries:
        parts = [f' <file name={quoteattr(e["name"])}>\n  <identity>{escape(e["scope"])}:{escape(e["name"])}</identity>\n']
        if e.get("bytes") is not None:
            parts.append(f'  <size>{e["bytes"]}</size>\n')
        if e.get("adler32"):
            parts.append(f'  <hash type="adler32">{escape(e["adler32"])}</hash>\n')
        if e.get("md5"):
            parts.append(f'  <hash type="md5">{escape(e["md5"])}</hash>\n')
        for pfn, p in e["pfns"].items():
            parts.append(f'  <url location={quoteattr(p["rse"])} domain="wan" priority="{p["priority"]}" '
                         f'client_extract="false">{escape(pfn)}</url>\n')
        parts.append(" </file>\n")
        yield "".join(parts)
    yield "</metalink>\n"


def dataset_replicas(session: Session, scope: str, name: str) -> list[dict[str, Any]]:
    """Per RSE, how much of a dataset (or of the datasets below a container) is there."""
    _files, datasets = did_tree.datasets_below(session, [(scope, name)])
    out = []
    for ds, dn in datasets:
        length, total = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Content.bytes), 0))
                                        .where(Content.scope == ds, Content.name == dn)).one()
        rows = session.execute(
            sa.select(RSE.id, RSE.name, sa.func.count(), sa.func.coalesce(sa.func.sum(Replica.bytes), 0))
            .select_from(Content)
            .join(Replica, sa.and_(Replica.scope == Content.child_scope, Replica.name == Content.child_name))
            .join(RSE, RSE.id == Replica.rse_id)
            .where(Content.scope == ds, Content.name == dn, Replica.state == ReplicaState.AVAILABLE)
            .group_by(RSE.id, RSE.name).order_by(RSE.name))
        for rse_id, rse_name, n, nbytes in rows:
            out.append({"scope": ds, "name": dn, "rse": rse_name, "rse_id": str(rse_id), "length": length,
                        "bytes": int(total), "available_length": n, "available_bytes": int(nbytes),
                        "state": "AVAILABLE" if n == length else "UNAVAILABLE"})
    return out
