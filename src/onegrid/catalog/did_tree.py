"""The DID hierarchy, read downwards and upwards: a collection's content, the files and
datasets below any DIDs (containers walked down), a DID's parents."""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk
from onegrid.catalog.dids import chunks, get_did
from onegrid.catalog.errors import DIDNotFound
from onegrid.catalog.tables import DID, Content, DIDType


def list_content(session: Session, scope: str, name: str) -> Iterator[dict[str, Any]]:
    get_did(session, scope, name)
    query = (sa.select(Content.child_scope, Content.child_name, Content.child_type, Content.bytes,
                       Content.adler32, Content.md5)
             .where(Content.scope == scope, Content.name == name).order_by(Content.child_scope, Content.child_name))
    for s, n, t, b, a, m in session.execute(query.execution_options(yield_per=10000)):
        yield {"scope": s, "name": n, "type": t.value, "bytes": b, "adler32": a, "md5": m}


def datasets_below(session: Session, dids: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Resolve DIDs to (files, datasets): containers are walked down to their datasets."""
    files: list[tuple[str, str]] = []
    datasets: list[tuple[str, str]] = []
    types: dict[tuple[str, str], DIDType] = {}
    by_scope: dict[str, list[str]] = {}
    for s, n in dids:
        by_scope.setdefault(s, []).append(n)
    for scope, names in by_scope.items():  # the types of many DIDs in a few queries
        for part in chunks(names):
            query = sa.select(DID.name, DID.did_type).where(DID.scope == scope)
            types.update(((scope, n), t) for n, t in session.execute(bulk.where_in(session, query, DID.name, part)))
    missing = next((key for key in dids if key not in types), None)
    if missing is not None:
        raise DIDNotFound(f"data identifier {missing[0]}:{missing[1]} not found")
    seen: set[tuple[str, str]] = set()
    frontier = collections.deque(dids)
    while frontier:
        key = frontier.popleft()
        if key in seen:
            continue
        seen.add(key)
        t = types.get(key)
        if t is DIDType.FILE:
            files.append(key)
        elif t is DIDType.DATASET:
            datasets.append(key)
        else:
            for cs, cn, ct in session.execute(sa.select(Content.child_scope, Content.child_name, Content.child_type)
                                              .where(Content.scope == key[0], Content.name == key[1])):
                types[(cs, cn)] = ct
                frontier.append((cs, cn))
    return files, datasets


def list_files(session: Session, scope: str, name: str) -> Iterator[dict[str, Any]]:
    """Every file below a DID (a file lists itself)."""
    files, datasets = datasets_below(session, [(scope, name)])
    for s, n in files:
        d = get_did(session, s, n)
        yield {"scope": s, "name": n, "bytes": d.bytes, "adler32": d.adler32, "md5": d.md5, "guid": d.guid, "events": d.events}
    for ds, dn in datasets:
        query = (sa.select(DID.scope, DID.name, DID.bytes, DID.adler32, DID.md5, DID.guid, DID.events)
                 .join(Content, sa.and_(Content.child_scope == DID.scope, Content.child_name == DID.name))
                 .where(Content.scope == ds, Content.name == dn).order_by(DID.name))
        for s, n, b, a, m, g, e in session.execute(query.execution_options(yield_per=10000)):
            yield {"scope": s, "name": n, "bytes": b, "adler32": a, "md5": m, "guid": g, "events": e}


def list_parents(session: Session, scope: str, name: str) -> list[dict[str, Any]]:
    get_did(session, scope, name)
    rows = session.execute(sa.select(Content.scope, Content.name, DID.did_type)
                           .join(DID, sa.and_(DID.scope == Content.scope, DID.name == Content.name))
                           .where(Content.child_scope == scope, Content.child_name == name)
                           .order_by(Content.scope, Content.name))
    return [{"scope": s, "name": n, "type": t.value} for s, n, t in rows]
