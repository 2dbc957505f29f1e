"""RSE operations: storage endpoints, their attributes, protocols, distances, limits, usage."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk, paths
from onegrid.catalog.errors import RSENotFound, RSEProtocolNotFound
from onegrid.catalog.rse_expression import RSEView, evaluate
from onegrid.catalog.tables import RSE, RSEAttribute, RSEDistance, RSELimit, RSEProtocol, RSEType, RSEUsage
from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, InvalidInput, NotFound

RSE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RSE_SETTABLE = ("rse_type", "deterministic", "volatile", "staging_area", "availability_read",
                "availability_write", "availability_delete", "country_name", "city", "latitude", "longitude")
# The catalogue's own count of what is on each RSE (rse_usage.source).
CATALOG_USAGE_SOURCE = "rucio"


def rse_to_dict(rse: RSE) -> dict[str, Any]:
    return {
        "id": str(rse.id), "rse": rse.name, "rse_type": rse.rse_type.value,
        "deterministic": rse.deterministic, "volatile": rse.volatile, "staging_area": rse.staging_area,
        "availability_read": rse.availability_read, "availability_write": rse.availability_write,
        "availability_delete": rse.availability_delete,
        "availability": 4 * rse.availability_read + 2 * rse.availability_write + rse.availability_delete,
        "country_name": rse.country_name, "city": rse.city,
        "latitude": rse.latitude, "longitude": rse.longitude, "vo": "def",
        "created_at": rse.created_at.isoformat(), "updated_at": rse.updated_at.isoformat(),
    }


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _apply(rse: RSE, props: dict[str, Any]) -> None:
    for key, value in props.items():
        if key not in RSE_SETTABLE:
            raise InvalidInput(f"unknown RSE property {key!r} (settable: {', '.join(RSE_SETTABLE)})")
        if key == "rse_type":
            try:
                value = RSEType(str(value).upper())
            except ValueError:
                raise InvalidInput(f"rse_type must be DISK or TAPE, not {value!r}") from None
        elif key in ("deterministic", "volatile", "staging_area") or key.startswith("availability_"):
            value = _bool(value)
        elif key in ("latitude", "longitude") and value is not None:
            value = float(value)
        setattr(rse, key, value)


def add_rse(session: Session, clock: Clock, name: str, **props: Any) -> RSE:
    if not RSE_NAME.match(name):
        raise InvalidInput(f"RSE name {name!r} must be 1-64 letters, digits, '_' or '-'")
    if session.scalar(sa.select(RSE.id).where(RSE.name == name)) is not None:
        raise AlreadyExists(f"RSE {name} already exists")
    now = clock.now()
    rse = RSE(name=name, rse_type=RSEType.DISK, deterministic=True, volatile=False, staging_area=False,
              availability_read=True, availability_write=True, availability_delete=True,
              created_at=now, updated_at=now)
    _apply(rse, {k: v for k, v in props.items() if v is not None})
    session.add(rse)
    session.flush()
    # As in Rucio: an RSE carries its own name as a true attribute, and its type.
    session.add(RSEAttribute(rse_id=rse.id, key=name, value=True))
    session.add(RSEAttribute(rse_id=rse.id, key="istape", value=rse.rse_type is RSEType.TAPE))
    session.flush()
    return rse


def get_rse(session: Session, name: str) -> RSE:
    rse = session.scalars(sa.select(RSE).where(RSE.name == name, RSE.deleted_at.is_(None))).first()
    if rse is None:
        raise RSENotFound(f"RSE {name} does not exist")
    return rse


def rse_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """name -> id for the given RSE names; raises RSENotFound for an unknown one."""
    wanted = set(names)
    found = dict(session.execute(sa.select(RSE.name, RSE.id).where(RSE.name.in_(wanted), RSE.deleted_at.is_(None))).all())
    missing = wanted - found.keys()
    if missing:
        raise RSENotFound(f"RSE {sorted(missing)[0]} does not exist")
    return found


def update_rse(session: Session, clock: Clock, name: str, props: dict[str, Any]) -> RSE:
    rse = get_rse(session, name)
    _apply(rse, props)
    rse.updated_at = clock.now()
    if "rse_type" in props:
        set_attribute(session, name, "istape", rse.rse_type is RSEType.TAPE)
    session.flush()
    return rse


def delete_rse(session: Session, clock: Clock, name: str) -> None:
    rse = get_rse(session, name)
    rse.deleted_at = clock.now()
    rse.availability_read = rse.availability_write = rse.availability_delete = False
    # Free the name for a new RSE, as Rucio does with deleted RSEs.
    rse.name = f"{name}-deleted-{rse.id}"[:64]


def all_views(session: Session) -> list[RSEView]:
    """Every live RSE with its attributes, for expression evaluation."""
    attrs: dict[int, dict[str, Any]] = {}
    for rse_id, key, value in session.execute(sa.select(RSEAttribute.rse_id, RSEAttribute.key, RSEAttribute.value)):
        attrs.setdefault(rse_id, {})[key] = value
    rows = session.execute(sa.select(RSE.id, RSE.name, RSE.rse_type, RSE.country_name).where(RSE.deleted_at.is_(None)))
    views = []
    for rse_id, name, rse_type, country in rows:
        a = {"rse": name, "rse_type": rse_type.value, **({"country_name": country} if country else {}),
             **attrs.get(rse_id, {})}
        views.append(RSEView(name=name, attributes=a))
    return views


def resolve_expression(session: Session, expression: str, *, allow_empty: bool = False) -> list[str]:
    return evaluate(expression, all_views(session), allow_empty=allow_empty)


def list_rses(session: Session, expression: str | None = None) -> list[RSE]:
    query = sa.select(RSE).where(RSE.deleted_at.is_(None)).order_by(RSE.name)
    if expression:
        query = query.where(RSE.name.in_(resolve_expression(session, expression)))
    return list(session.scalars(query))


# -- attributes ----------------------------------------------------------------------


def set_attribute(session: Session, rse_name: str, key: str, value: Any) -> None:
    rse = get_rse(session, rse_name)
    if not key or len(key) > 64:
        raise InvalidInput("attribute key must be 1-64 characters")
    if key == paths.ALGORITHM_ATTRIBUTE and value not in (*paths.ALGORITHMS, "default"):
        raise InvalidInput(f"{key} must be one of {', '.join(paths.ALGORITHMS)}")
    row = session.get(RSEAttribute, (rse.id, key))
    if row is None:
        session.add(RSEAttribute(rse_id=rse.id, key=key, value=value))
    else:
        row.value = value
    session.flush()


def delete_attribute(session: Session, rse_name: str, key: str) -> None:
    rse = get_rse(session, rse_name)
    row = session.get(RSEAttribute, (rse.id, key))
    if row is None:
        raise NotFound(f"RSE {rse_name} has no attribute {key}")
    session.delete(row)


def attributes(session: Session, rse_name: str) -> dict[str, Any]:
    rse = get_rse(session, rse_name)
    return dict(session.execute(sa.select(RSEAttribute.key, RSEAttribute.value).where(RSEAttribute.rse_id == rse.id)).all())


# -- protocols -----------------------------------------------------------------------

_DOMAIN_COLUMNS = {
    ("lan", "read"): "read_lan", ("lan", "write"): "write_lan", ("lan", "delete"): "delete_lan",
    ("wan", "read"): "read_wan", ("wan", "write"): "write_wan", ("wan", "delete"): "delete_wan",
    ("wan", "third_party_copy_read"): "tpc_read_wan", ("wan", "third_party_copy_write"): "tpc_write_wan",
    ("wan", "third_party_copy"): "tpc_read_wan",
}


def protocol_to_dict(p: RSEProtocol) -> dict[str, Any]:
    return {
        "scheme": p.scheme, "hostname": p.hostname, "port": p.port, "prefix": p.prefix, "impl": p.impl,
        "domains": {
            "lan": {"read": p.read_lan, "write": p.write_lan, "delete": p.delete_lan},
            "wan": {"read": p.read_wan, "write": p.write_wan, "delete": p.delete_wan,
                    "third_party_copy_read": p.tpc_read_wan, "third_party_copy_write": p.tpc_write_wan},
        },
        "extended_attributes": p.extended_attributes,
    }


def add_protocol(session: Session, rse_name: str, spec: dict[str, Any]) -> RSEProtocol:
    rse = get_rse(session, rse_name)
    try:
        scheme, hostname = str(spec["scheme"]), str(spec.get("hostname") or "")
        port = int(spec.get("port") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"a protocol needs scheme, hostname and port: {exc}") from None
    exists = session.scalar(sa.select(RSEProtocol.id).where(
        RSEProtocol.rse_id == rse.id, RSEProtocol.scheme == scheme, RSEProtocol.hostname == hostname,
        RSEProtocol.port == port))
    if exists is not None:
        raise AlreadyExists(f"RSE {rse_name} already has protocol {scheme}://{hostname}:{port}")
    proto = RSEProtocol(rse_id=rse.id, scheme=scheme, hostname=hostname, port=port,
                        prefix=str(spec.get("prefix") or ""), impl=str(spec.get("impl") or ""),
                        read_lan=0, write_lan=0, delete_lan=0, read_wan=1, write_wan=1, delete_wan=1,
                        tpc_read_wan=1, tpc_write_wan=1, extended_attributes=spec.get("extended_attributes"))
    for domain, ops in (spec.get("domains") or {}).items():
        for op, priority in (ops or {}).items():
            column = _DOMAIN_COLUMNS.get((domain, op))
            if column is None:
                raise InvalidInput(f"unknown protocol domain/operation {domain}/{op}")
            if column == "tpc_read_wan" and op == "third_party_copy":
                proto.tpc_write_wan = int(priority or 0)
            setattr(proto, column, int(priority or 0))
    session.add(proto)
    session.flush()
    return proto


def protocols(session: Session, rse_name: str, *, operation: str | None = None, scheme: str | None = None,
              domain: str = "wan") -> list[RSEProtocol]:
    """The RSE's protocols, those usable for `operation` first by priority."""
    rse = get_rse(session, rse_name)
    return protocols_of(session, [rse.id], operation=operation, scheme=scheme, domain=domain).get(rse.id, [])


def protocols_of(session: Session, ids: Iterable[int], *, operation: str | None = None,
                 scheme: str | None = None, domain: str = "wan") -> dict[int, list[RSEProtocol]]:
    query = sa.select(RSEProtocol).where(RSEProtocol.rse_id.in_(list(ids)))
    if scheme:
        query = query.where(RSEProtocol.scheme.in_(scheme.split(",")))
    column = _DOMAIN_COLUMNS.get((domain, operation)) if operation else None
    out: dict[int, list[RSEProtocol]] = {}
    for p in session.scalars(query.order_by(RSEProtocol.id)):
        if column and not getattr(p, column):
            continue
        out.setdefault(p.rse_id, []).append(p)
    if column:
        for plist in out.values():
            plist.sort(key=lambda p: getattr(p, column))
    return out


def delete_protocol(session: Session, rse_name: str, scheme: str, hostname: str | None = None,
                    port: int | None = None) -> int:
    rse = get_rse(session, rse_name)
    query = sa.delete(RSEProtocol).where(RSEProtocol.rse_id == rse.id, RSEProtocol.scheme == scheme)
    if hostname:
        query = query.where(RSEProtocol.hostname == hostname)
    if port:
        query = query.where(RSEProtocol.port == port)
    count = session.execute(query).rowcount
    if not count:
        raise RSEProtocolNotFound(f"RSE {rse_name} has no protocol {scheme}")
    return int(count)


def lfn2pfn_algorithm(session: Session, rse_id: int) -> str:
    value = session.scalar(sa.select(RSEAttribute.value).where(
        RSEAttribute.rse_id == rse_id, RSEAttribute.key == paths.ALGORITHM_ATTRIBUTE))
    return str(value) if value else paths.DEFAULT_ALGORITHM


# -- distances, limits, usage --------------------------------------------------------


def set_distance(session: Session, src: str, dest: str, distance: int) -> None:
    ids = rse_ids(session, [src, dest])
    if distance < 0:
        raise InvalidInput("distance must not be negative")
    row = session.get(RSEDistance, (ids[src], ids[dest]))
    if row is None:
        session.add(RSEDistance(src_rse_id=ids[src], dest_rse_id=ids[dest], distance=distance))
    else:
        row.distance = distance
    session.flush()


def get_distances(session: Session, src: str, dest: str) -> list[dict[str, Any]]:
    ids = rse_ids(session, [src, dest])
    row = session.get(RSEDistance, (ids[src], ids[dest]))
    if row is None:
        return []
    return [{"src_rse_id": str(row.src_rse_id), "dest_rse_id": str(row.dest_rse_id), "distance": row.distance,
             "ranking": row.distance}]


def set_limit(session: Session, rse_name: str, name: str, value: int) -> None:
    rse = get_rse(session, rse_name)
    row = session.get(RSELimit, (rse.id, name))
    if row is None:
        session.add(RSELimit(rse_id=rse.id, name=name, value=int(value)))
    else:
        row.value = int(value)
    session.flush()


def limits(session: Session, rse_name: str) -> dict[str, int]:
    rse = get_rse(session, rse_name)
    return dict(session.execute(sa.select(RSELimit.name, RSELimit.value).where(RSELimit.rse_id == rse.id)).all())


def add_catalog_usage(session: Session, clock: Clock, rse_id: int, files: int, bytes_: int) -> None:
    """Move the catalogue's own count for an RSE (same transaction as the replicas)."""
    bulk.add_to_counters(session, RSEUsage.__table__, {"rse_id": rse_id, "source": CATALOG_USAGE_SOURCE},
                         {"files": files, "used": bytes_}, {"updated_at": clock.now()})


def set_usage(session: Session, clock: Clock, rse_name: str, source: str, used: int, free: int | None = None,
              total: int | None = None, files: int | None = None) -> None:
    rse = get_rse(session, rse_name)
    row = session.get(RSEUsage, (rse.id, source))
    if row is None:
        row = RSEUsage(rse_id=rse.id, source=source, used=0, files=0, updated_at=clock.now())
        session.add(row)
    row.used, row.free, row.total = int(used), free, total
    if files is not None:
        row.files = files
    row.updated_at = clock.now()
    session.flush()


def usage(session: Session, rse_name: str) -> list[dict[str, Any]]:
    rse = get_rse(session, rse_name)
    rows = session.scalars(sa.select(RSEUsage).where(RSEUsage.rse_id == rse.id).order_by(RSEUsage.source))
    return [{"rse_id": str(rse.id), "rse": rse.name, "source": u.source, "used": u.used, "free": u.free,
             "total": u.total if u.total is not None else (u.used + u.free if u.free is not None else None),
             "files": u.files, "updated_at": u.updated_at.isoformat()} for u in rows]
