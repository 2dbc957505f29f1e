"""`GET /metrics`: the dashboard's figures as Prometheus metric families, so a site's
Grafana can scrape the same numbers the dashboard shows.

Daemon cycle counters live in each daemon's own process (`onegrid.daemon.DaemonLoop`),
not in the server's, so they are not part of this page.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

import onegrid
from onegrid.monitor import jobs, rules, storage, transfers
from onegrid.monitor.exposition import Family
from onegrid.monitor.settings import MonitorSettings


def storage_families(session: Session, settings: MonitorSettings) -> list[Family]:
    summary = storage.storage_summary(session, settings)
    files = Family("onegrid_rse_files", "gauge", "Files the catalogue holds on an RSE.")
    used = Family("onegrid_rse_used_bytes", "gauge", "Bytes the catalogue holds on an RSE.")
    total = Family("onegrid_rse_total_bytes", "gauge", "Capacity an RSE's storage reports, in bytes.")
    for row in summary["rses"]:
        labels = {"rse": row["rse"], "rse_type": row["rse_type"], "country": row["country"],
                  "site_type": row["site_type"]}
        files.add(row["files"], **labels)
        used.add(row["used_bytes"], **labels)
        if row["total_bytes"] is not None:
            total.add(row["total_bytes"], **labels)
    return [files, used, total]


def job_families(session: Session) -> list[Family]:
    by_state = Family("onegrid_jobs", "gauge", "Jobs per status.")
    for status, n in jobs.jobs_by_state(session).items():
        by_state.add(n, status=status)
    by_site = Family("onegrid_site_jobs", "gauge", "Unfinished jobs per site and status (no site: waiting).")
    for row in jobs.unfinished_by_site_and_state(session):
        by_site.add(row["jobs"], site=row["site"], status=row["status"])
    banned = Family("onegrid_site_banned", "gauge", "1 if the site is banned from the site mask, else 0.")
    for site in jobs.sites(session):
        banned.add(1 if site["status"] == "Banned" else 0, site=site["site"])
    cpu = Family("onegrid_cpu_seconds_total", "counter", "CPU seconds of finished jobs, per activity and site.")
    finished = Family("onegrid_jobs_finished_total", "counter", "Finished jobs per activity, site and final status.")
    cpu_per: dict[tuple[str, str], float] = {}
    for row in jobs.finished_totals(session):
        finished.add(row["jobs"], activity=row["activity"], site=row["site"], status=row["status"])
        key = (row["activity"], row["site"])
        cpu_per[key] = cpu_per.get(key, 0.0) + row["cpu_seconds"]
    for (activity, site), seconds in sorted(cpu_per.items()):
        cpu.add(seconds, activity=activity, site=site)
    return [by_state, by_site, banned, cpu, finished]


def transfer_families(session: Session) -> list[Family]:
    requests = Family("onegrid_transfer_requests", "gauge", "Transfer requests per state and activity.")
    for row in transfers.requests_by_state(session):
        requests.add(row["requests"], state=row["state"], activity=row["activity"])
    attempts = Family("onegrid_transfer_attempts_total", "counter",
                      "Finished transfer attempts per activity and outcome.")
    nbytes = Family("onegrid_transfer_bytes_total", "counter", "Bytes of finished transfer attempts.")
    for row in transfers.done_totals(session):
        attempts.add(row["attempts"], activity=row["activity"], outcome=row["outcome"])
        nbytes.add(row["bytes"], activity=row["activity"], outcome=row["outcome"])
    active = Family("onegrid_link_active_transfers", "gauge", "Copies running on a link.")
    window = Family("onegrid_link_window", "gauge", "Concurrent copies the optimizer allows on a link.")
    for link in transfers.links(session):
        labels = {"source": link["source"], "destination": link["destination"]}
        active.add(link["active"], **labels)
        if link["window"] is not None:
            window.add(link["window"], **labels)
    return [requests, attempts, nbytes, active, window]


def rule_families(session: Session) -> list[Family]:
    fam = Family("onegrid_rules", "gauge", "Replication rules per state.")
    for state, n in rules.rules_by_state(session).items():
        fam.add(n, state=state)
    return [fam]


def collect(session: Session, settings: MonitorSettings) -> list[Family]:
    info = Family("onegrid_info", "gauge", "OneGrid server version.").add(1, version=onegrid.__version__)
    return [info, *storage_families(session, settings), *job_families(session), *transfer_families(session),
            *rule_families(session)]
