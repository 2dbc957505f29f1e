"""The overview page's table: each site with its mask status, storage and running jobs.

An RSE belongs to the site its `site` attribute names (as the WMS reads it for input
data), else to the site of the same name. Sites come from the WMS (mask and compute
queues) and from the RSEs' `site` attribute: a site with storage and no compute queue is
listed as `Storage only`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog.tables import RSE
from onegrid.monitor import jobs, storage
from onegrid.monitor.settings import MonitorSettings

SITE_ATTRIBUTE = "site"
STORAGE_ONLY = "Storage only"


def overview(session: Session, settings: MonitorSettings) -> dict[str, Any]:
    summary = storage.storage_summary(session, settings)
    site_of = _site_of_rses(session)
    running = jobs.running_per_site(session)
    sites = {s["site"]: {**s, "rses": [], "used_bytes": 0, "total_bytes": None, "running_jobs": running.get(s["site"], 0)}
             for s in jobs.sites(session)}
    for rse in summary["rses"]:
        name = site_of.get(rse["rse"], rse["rse"])
        site = sites.get(name)
        if site is None:
            if rse["rse"] not in site_of:
                continue  # an RSE of no site at all: it shows in the RSE table only
            site = sites[name] = {"site": name, "status": STORAGE_ONLY, "reason": "", "queues": 0, "cores": 0,
                                  "rses": [], "used_bytes": 0, "total_bytes": None, "running_jobs": 0}
        site["rses"].append(rse["rse"])
        site["used_bytes"] += rse["used_bytes"]
        if rse["total_bytes"] is not None:  # a capacity some storage reported
            site["total_bytes"] = (site["total_bytes"] or 0) + rse["total_bytes"]
        site.setdefault("country", rse["country"])
        site.setdefault("site_type", rse["site_type"])
    return {"sites": [sites[k] for k in sorted(sites)], "rses": summary["rses"], "files": summary["files"],
            "bytes": summary["bytes"], "jobs_by_state": jobs.jobs_by_state(session)}


def _site_of_rses(session: Session) -> dict[str, str]:
    names = dict(session.execute(sa.select(RSE.id, RSE.name)).all())
    labels = storage.rse_labels(session, [SITE_ATTRIBUTE])
    return {names[rse_id]: attrs[SITE_ATTRIBUTE] for rse_id, attrs in labels.items() if rse_id in names}
