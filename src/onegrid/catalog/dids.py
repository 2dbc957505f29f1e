"""DID operations: files, datasets and containers; attachments; metadata; status."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk
from onegrid.catalog import scopes as scopes_mod
from onegrid.catalog.errors import (
    DIDAlreadyExists,
    DIDNotFound,
    FileConsistencyMismatch,
    UnsupportedOperation,
)
from onegrid.catalog.rules.tables import ChangedDID
from onegrid.catalog.scopes import ScopeNotFound
from onegrid.catalog.tables import DID, TYPED_META, Content, DIDType, Scope
from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, InvalidInput, NotFound

DID_NAME = re.compile(r"^[A-Za-z0-9_.\-/:+=]{1,255}$")
CHUNK = 5000  # rows per IN (...) list: under every database's bound-parameter limit






def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def parse_type(value: str | DIDType) -> DIDType:
    text = str(value).upper()
    for t in DIDType:
        if text in (t.value, t.value[0]):
            return t
    raise InvalidInput(f"DID type must be FILE, DATASET or CONTAINER, not {value!r}")


def check_name(scope: str, name: str) -> None:
    if not DID_NAME.match(name):
        raise InvalidInput(f"DID name {name!r} in scope {scope} has invalid characters or length")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def did_to_dict(d: DID) -> dict[str, Any]:
    return {
        "scope": d.scope, "name": d.name, "type": d.did_type.value, "account": d.account,
        "bytes": d.bytes, "length": d.length, "adler32": d.adler32, "md5": d.md5, "guid": d.guid,
        "open": d.is_open if d.did_type is not DIDType.FILE else None, "monotonic": d.monotonic,
        "suppressed": d.suppressed, "expired_at": _iso(d.expired_at), "created_at": _iso(d.created_at),
        "updated_at": _iso(d.updated_at), "closed_at": _iso(d.closed_at),
    }


def split_meta(meta: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(typed columns, free-form JSON) from a metadata dictionary, with types checked."""
    typed: dict[str, Any] = {}
    free: dict[str, Any] = {}
    for key, value in (meta or {}).items():
        kind = TYPED_META.get(key)
        if kind is None:
            free[key] = value
        elif value is None:
            typed[key] = None
        elif kind is int:
            try:
                typed[key] = int(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"metadata {key} must be an integer, not {value!r}") from None
        else:
            typed[key] = str(value)
    return typed, free


def _check_scopes(session: Session, scopes: Iterable[str], clock: Clock) -> None:
    wanted = set(scopes)
    found = set(session.scalars(sa.select(Scope.scope).where(Scope.scope.in_(wanted))))
    for scope in sorted(wanted - found):
        # `user.<account>` is made on first use for any account (a job's outputs, an upload).
        if scope.startswith("user.") and scopes_mod.account_exists(session, scope[5:]):
            scopes_mod.ensure_user_scope(session, clock, scope[5:])
            found.add(scope)
    if wanted - found:
        raise ScopeNotFound(f"scope {sorted(wanted - found)[0]} does not exist")


def get_did(session: Session, scope: str, name: str) -> DID:
    did = session.get(DID, (scope, name))
    if did is None:
        raise DIDNotFound(f"data identifier {scope}:{name} not found")
    return did


def add_dids(session: Session, clock: Clock, account: str, specs: Sequence[dict[str, Any]]) -> None:
    """Add collections (and bare files) in bulk: `{scope, name, type, meta?, lifetime?, open?}`."""
    now = clock.now()
    _check_scopes(session, {s["scope"] for s in specs}, clock)
    rows = []
    for s in specs:
        scope, name = s["scope"], s["name"]
        check_name(scope, name)
        did_type = parse_type(s.get("type") or s.get("did_type") or "DATASET")
        typed, free = split_meta(s.get("meta"))
        lifetime = s.get("lifetime")
        rows.append({
            "scope": scope, "name": name, "did_type": did_type, "account": s.get("account") or account,
            "is_open": bool(s.get("open", True)) if did_type is not DIDType.FILE else False,
            "monotonic": bool(s.get("monotonic", False)), "suppressed": False,
            "bytes": s.get("bytes") if did_type is DIDType.FILE else 0, "length": None if did_type is DIDType.FILE else 0,
            "adler32": s.get("adler32"), "md5": s.get("md5"), "guid": s.get("guid"),
            "created_at": now, "updated_at": now, "closed_at": None,
            "expired_at": now + timedelta(seconds=int(lifetime)) if lifetime else None,
            **{k: None for k in TYPED_META}, **typed, "meta": free or None,
        })
    existing = _existing(session, [(r["scope"], r["name"]) for r in rows])
    if existing:
        scope, name = sorted(existing)[0]
        raise DIDAlreadyExists(f"data identifier {scope}:{name} already exists")
    if len({(r["scope"], r["name"]) for r in rows}) != len(rows):
        raise InvalidInput("the same DID is given twice")
    if rows:
        bulk.insert_rows(session, DID.__table__, rows)


def _existing(session: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    by_scope: dict[str, list[str]] = {}
    for scope, name in keys:
        by_scope.setdefault(scope, []).append(name)
    found: set[tuple[str, str]] = set()
    for scope, names in by_scope.items():
        for part in chunks(names):
            query = sa.select(DID.scope, DID.name).where(DID.scope == scope)
            found.update(session.execute(bulk.where_in(session, query, DID.name, part)).all())
    return found


def ensure_files(session: Session, clock: Clock, account: str, files: Sequence[dict[str, Any]]) -> int:
    """Create the FILE DIDs that do not exist yet (bulk); existing ones must agree on size
    and checksums. Returns how many were created."""
    by_scope: dict[str, dict[str, dict[str, Any]]] = {}
    for f in files:
        check_name(f["scope"], f["name"])
        by_scope.setdefault(f["scope"], {})[f["name"]] = f
    _check_scopes(session, by_scope, clock)
    now = clock.now()
    new_rows = []
    for scope, named in by_scope.items():
        names = list(named)
        for part in chunks(names):
            query = sa.select(DID.name, DID.did_type, DID.bytes, DID.adler32, DID.md5).where(DID.scope == scope)
            rows = session.execute(bulk.where_in(session, query, DID.name, part))
            for name, did_type, size, adler32, md5 in rows:
                f = named.pop(name)
                if did_type is not DIDType.FILE:
                    raise UnsupportedOperation(f"{scope}:{name} is a {did_type.value}, not a file")
                if (f.get("bytes") is not None and size is not None and int(f["bytes"]) != size) or (
                        f.get("adler32") and adler32 and f["adler32"] != adler32) or (
                        f.get("md5") and md5 and f["md5"] != md5):
                    raise FileConsistencyMismatch(f"{scope}:{name} is registered with other size or checksum")
        for name, f in named.items():
            typed, free = split_meta(f.get("meta"))
            new_rows.append({
                "scope": scope, "name": name, "did_type": DIDType.FILE, "account": f.get("account") or account,
                "is_open": False, "monotonic": False, "suppressed": False,
                "bytes": int(f["bytes"]) if f.get("bytes") is not None else None, "length": None,
                "adler32": f.get("adler32"), "md5": f.get("md5"), "guid": f.get("guid"),
                "created_at": now, "updated_at": now, "closed_at": None, "expired_at": None,
                **{k: None for k in TYPED_META}, **typed, "meta": free or None,
            })
    if new_rows:
        bulk.insert_rows(session, DID.__table__, new_rows)
    return len(new_rows)


# -- attachments ---------------------------------------------------------------------

_ALLOWED_CHILD = {DIDType.DATASET: {DIDType.FILE}, DIDType.CONTAINER: {DIDType.DATASET, DIDType.CONTAINER}}


def attach(session: Session, clock: Clock, scope: str, name: str, children: Sequence[dict[str, Any]],
           *, ignore_duplicates: bool = False) -> int:
    """Attach DIDs to a dataset (files) or container (datasets, containers), in bulk."""
    parent = get_did(session, scope, name)
    allowed = _ALLOWED_CHILD.get(parent.did_type)
    if allowed is None:
        raise UnsupportedOperation(f"cannot attach to {scope}:{name}: it is a file")
    if not parent.is_open:
        raise UnsupportedOperation(f"cannot attach to {scope}:{name}: it is closed")
    keys = list(dict.fromkeys((c["scope"], c["name"]) for c in children))
    found: dict[tuple[str, str], tuple[DIDType, int | None, str | None, str | None]] = {}
    by_scope: dict[str, list[str]] = {}
    for s, n in keys:
        by_scope.setdefault(s, []).append(n)
    for s, names in by_scope.items():
        for part in chunks(names):
            query = sa.select(DID.name, DID.did_type, DID.bytes, DID.adler32, DID.md5).where(DID.scope == s)
            for n, t, b, a, m in session.execute(bulk.where_in(session, query, DID.name, part)):
                found[(s, n)] = (t, b, a, m)
    missing = [k for k in keys if k not in found]
    if missing:
        raise DIDNotFound(f"data identifier {missing[0][0]}:{missing[0][1]} not found")
    for key, (t, *_rest) in found.items():
        if t not in allowed:
            raise UnsupportedOperation(f"cannot attach {t.value} {key[0]}:{key[1]} to {parent.did_type.value} {scope}:{name}")
        if key == (scope, name):
            raise UnsupportedOperation(f"cannot attach {scope}:{name} to itself")
    already: set[tuple[str, str]] = set()
    for s, names in by_scope.items():
        for part in chunks(names):
            fixed = {"scope": scope, "name": name, "child_scope": s}
            already.update((s, n) for n in bulk.existing(session, Content.__table__, fixed, "child_name", part))
    if already and not ignore_duplicates:
        s, n = sorted(already)[0]
        raise AlreadyExists(f"{s}:{n} is already attached to {scope}:{name}")
    if parent.did_type is DIDType.CONTAINER:
        _refuse_cycle(session, scope, name, [k for k in keys if k not in already])
    now = clock.now()
    rows = [{"scope": scope, "name": name, "child_scope": s, "child_name": n, "child_type": found[(s, n)][0],
             "bytes": found[(s, n)][1], "adler32": found[(s, n)][2], "md5": found[(s, n)][3], "created_at": now}
            for s, n in keys if (s, n) not in already]
    if rows:
        bulk.insert_rows(session, Content.__table__, rows)
        parent.length = (parent.length or 0) + len(rows)
        parent.bytes = (parent.bytes or 0) + sum(r["bytes"] or 0 for r in rows)
        parent.updated_at = now
        # The rules on this collection (and above it) follow its content: tell the judge.
        session.add(ChangedDID(scope=scope, name=name, created_at=now))
        session.flush()
    return len(rows)


def _refuse_cycle(session: Session, scope: str, name: str, children: list[tuple[str, str]]) -> None:
    """A container may not (indirectly) contain itself."""
    ancestors = {(scope, name)}
    frontier = [(scope, name)]
    while frontier:
        s, n = frontier.pop()
        for ps, pn in session.execute(sa.select(Content.scope, Content.name).where(
                Content.child_scope == s, Content.child_name == n)).all():
            if (ps, pn) not in ancestors:
                ancestors.add((ps, pn))
                frontier.append((ps, pn))
    for child in children:
        if child in ancestors:
            raise UnsupportedOperation(f"attaching {child[0]}:{child[1]} to {scope}:{name} would make a cycle")


def detach(session: Session, clock: Clock, scope: str, name: str, children: Sequence[dict[str, Any]]) -> int:
    parent = get_did(session, scope, name)
    removed = 0
    freed = 0
    for c in children:
        row = session.get(Content, (scope, name, c["scope"], c["name"]))
        if row is None:
            raise DIDNotFound(f"{c['scope']}:{c['name']} is not attached to {scope}:{name}")
        freed += row.bytes or 0
        session.delete(row)
        removed += 1
    parent.length = max(0, (parent.length or 0) - removed)
    parent.bytes = max(0, (parent.bytes or 0) - freed)
    parent.updated_at = clock.now()
    if removed:
        session.add(ChangedDID(scope=scope, name=name, created_at=parent.updated_at))
    session.flush()
    return removed


# -- metadata and status -------------------------------------------------------------


def get_metadata(session: Session, scope: str, name: str) -> dict[str, Any]:
    d = get_did(session, scope, name)
    out = did_to_dict(d)
    out["did_type"] = out["type"]
    out["is_open"] = d.is_open
    out.update({k: getattr(d, k) for k in TYPED_META})
    out.update(d.meta or {})
    return out


def set_metadata(session: Session, clock: Clock, scope: str, name: str, meta: dict[str, Any]) -> None:
    d = get_did(session, scope, name)
    reserved = {"scope", "name", "type", "did_type", "account", "bytes", "length", "adler32", "md5", "created_at"}
    bad = reserved & meta.keys()
    if bad:
        raise InvalidInput(f"metadata key {sorted(bad)[0]} is a system attribute and cannot be set")
    if "lifetime" in meta:
        lifetime = meta.pop("lifetime")
        d.expired_at = clock.now() + timedelta(seconds=int(lifetime)) if lifetime else None
    if "guid" in meta:
        d.guid = meta.pop("guid")
    typed, free = split_meta(meta)
    for key, value in typed.items():
        setattr(d, key, value)
    if free:
        d.meta = {**(d.meta or {}), **free}
    d.updated_at = clock.now()
    session.flush()


def delete_metadata(session: Session, clock: Clock, scope: str, name: str, key: str) -> None:
    d = get_did(session, scope, name)
    if key in TYPED_META:
        setattr(d, key, None)
    elif d.meta and key in d.meta:
        d.meta = {k: v for k, v in d.meta.items() if k != key}
    else:
        raise NotFound(f"{scope}:{name} has no metadata {key}")
    d.updated_at = clock.now()


def set_status(session: Session, clock: Clock, scope: str, name: str, *, is_open: bool) -> None:
    d = get_did(session, scope, name)
    if d.did_type is DIDType.FILE:
        raise UnsupportedOperation(f"{scope}:{name} is a file: only collections are open or closed")
    if is_open and not d.is_open:
        raise UnsupportedOperation(f"{scope}:{name} is closed and cannot be reopened")
    if d.is_open and not is_open:
        d.is_open = False
        d.closed_at = clock.now()
    d.updated_at = clock.now()
