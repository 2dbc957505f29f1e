"""Storage figures: used and total space per RSE, and the volume per country and site type.

Used space is the catalogue's own count (`rse_usage` source `rucio`, kept in the same
transaction as the replicas); total space is what the storage reported (any other source,
e.g. `srr`), else the RSE's `TotalSpace` limit.
Countries and site types come from RSE attributes, as Rucio operators set them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog.rses import CATALOG_USAGE_SOURCE
from onegrid.catalog.tables import RSE, RSEAttribute, RSELimit, RSEUsage
from onegrid.monitor.settings import MonitorSettings

UNKNOWN = "unknown"
TOTAL_SPACE_LIMIT = "TotalSpace"  # an RSE limit, in bytes


def rse_usage(session: Session) -> list[dict[str, Any]]:
    """One row per live RSE: files and bytes the catalogue holds there, and its capacity
    (reported by the storage, else the operator's `TotalSpace` limit, as the reaper reads it)."""
    used = sa.select(RSEUsage.rse_id, RSEUsage.files, RSEUsage.used).where(
        RSEUsage.source == CATALOG_USAGE_SOURCE).subquery()
    reported = (
        sa.select(RSEUsage.rse_id,
                  sa.func.max(sa.func.coalesce(RSEUsage.total, RSEUsage.used + RSEUsage.free)).label("total"))
        .where(RSEUsage.source != CATALOG_USAGE_SOURCE)
        .group_by(RSEUsage.rse_id)
        .subquery()
    )
    declared = sa.select(RSELimit.rse_id, RSELimit.value).where(RSELimit.name == TOTAL_SPACE_LIMIT).subquery()
    query = (
        sa.select(RSE.id, RSE.name, RSE.rse_type, RSE.country_name, used.c.files, used.c.used,
                  sa.func.coalesce(reported.c.total, declared.c.value))
        .outerjoin(used, used.c.rse_id == RSE.id)
        .outerjoin(reported, reported.c.rse_id == RSE.id)
        .outerjoin(declared, declared.c.rse_id == RSE.id)
        .where(RSE.deleted_at.is_(None))
        .order_by(RSE.name)
    )
    return [
        {"rse": name, "rse_type": rse_type.value, "files": files or 0, "used_bytes": nbytes or 0,
         "total_bytes": total, "_id": rse_id, "_country": country}
        for rse_id, name, rse_type, country, files, nbytes, total in session.execute(query)
    ]


def _attribute_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def rse_labels(session: Session, keys: list[str]) -> dict[int, dict[str, str]]:
    """The attributes `keys` of every RSE, as text (rse id -> key -> value)."""
    rows = session.execute(sa.select(RSEAttribute.rse_id, RSEAttribute.key, RSEAttribute.value)
                           .where(RSEAttribute.key.in_(keys)))
    labels: dict[int, dict[str, str]] = defaultdict(dict)
    for rse_id, key, value in rows:
        text = _attribute_text(value)
        if text:
            labels[rse_id][key] = text
    return labels


def storage_summary(session: Session, settings: MonitorSettings) -> dict[str, Any]:
    """Per RSE usage, and the same bytes summed per country and per site type."""
    rses = rse_usage(session)
    labels = rse_labels(session, [settings.country_attribute, settings.site_type_attribute])
    per_country: dict[str, int] = defaultdict(int)
    per_type: dict[str, int] = defaultdict(int)
    for row in rses:
        attrs = labels.get(row.pop("_id"), {})
        country = attrs.get(settings.country_attribute) or row.pop("_country") or UNKNOWN
        row.pop("_country", None)
        site_type = attrs.get(settings.site_type_attribute) or UNKNOWN
        row["country"], row["site_type"] = country, site_type
        per_country[country] += row["used_bytes"]
        per_type[site_type] += row["used_bytes"]
    return {
        "rses": rses,
        "per_country": _sorted_volume(per_country),
        "per_site_type": _sorted_volume(per_type),
        "files": sum(r["files"] for r in rses),
        "bytes": sum(r["used_bytes"] for r in rses),
    }


def _sorted_volume(volumes: dict[str, int]) -> list[dict[str, Any]]:
    return [{"label": k, "bytes": v} for k, v in sorted(volumes.items(), key=lambda kv: (-kv[1], kv[0]))]
