"""HTTP routes of onegrid.monitor: the dashboard at `/`, its JSON under `/monitor/api`,
and `/metrics` for Prometheus. Read-only; every route names its reader (`access.py`)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, PlainTextResponse

import onegrid
from onegrid.deps import RuntimeDep
from onegrid.errors import Forbidden, NotFound
from onegrid.monitor import exposition, jobs, metrics, overview, rules, storage, transfers
from onegrid.monitor.access import Anyone, DetailReader, ReadSession, SummaryReader
from onegrid.monitor.series import Span
from onegrid.runtime import Runtime

router = APIRouter(tags=["monitor"])
api = APIRouter(prefix="/monitor/api", tags=["monitor"])

STATIC = resources.files("onegrid.monitor") / "static"
# The files the dashboard may load, by the name in their URL: nothing else is served.
STATIC_FILES = {
    "app.js": "app.js", "style.css": "style.css", "chart.umd.min.js": "vendor/chart.umd.min.js",
    "chart.js-LICENSE.md": "vendor/chart.js-LICENSE.md",
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".md": "text/plain", ".html": "text/html"}


def _static(relative: str) -> FileResponse:
    path = STATIC.joinpath(relative)
    suffix = "." + relative.rsplit(".", 1)[-1]
    return FileResponse(str(path), media_type=MEDIA_TYPES[suffix], headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
def dashboard(reader: Anyone) -> FileResponse:
    # The page itself holds no data; with read_access "authenticated" it asks for a login.
    return _static("index.html")


@router.get("/monitor/static/{name}", include_in_schema=False)
def static_file(name: str, reader: Anyone) -> FileResponse:
    if name not in STATIC_FILES:
        raise NotFound(f"no dashboard file {name}")
    return _static(STATIC_FILES[name])


@router.get("/metrics", response_class=PlainTextResponse)
def prometheus_metrics(reader: SummaryReader, session: ReadSession, runtime: RuntimeDep) -> PlainTextResponse:
    text = exposition.render(metrics.collect(session, runtime.settings.monitor))
    return PlainTextResponse(text, media_type=exposition.CONTENT_TYPE)


@api.get("/config")
def dashboard_config(reader: Anyone, runtime: RuntimeDep) -> dict[str, Any]:
    s = runtime.settings.monitor
    return {"version": onegrid.__version__, "read_access": s.read_access.value,
            "refresh_seconds": s.refresh_seconds, "account": reader.account}


@api.get("/overview")
def get_overview(reader: SummaryReader, session: ReadSession, runtime: RuntimeDep) -> dict[str, Any]:
    return overview.overview(session, runtime.settings.monitor)


@api.get("/storage")
def get_storage(reader: SummaryReader, session: ReadSession, runtime: RuntimeDep) -> dict[str, Any]:
    return storage.storage_summary(session, runtime.settings.monitor)


@api.get("/cpu")
def get_cpu(reader: SummaryReader, session: ReadSession, runtime: RuntimeDep,
            days: int | None = Query(None, ge=1, le=3650)) -> dict[str, Any]:
    since = jobs.cpu_since(runtime.clock.now(), days or runtime.settings.monitor.cpu_days)
    return jobs.cpu_usage(session, since)


@api.get("/jobs/states")
def get_job_states(reader: SummaryReader, session: ReadSession) -> dict[str, Any]:
    return {"jobs_by_state": jobs.jobs_by_state(session), "by_site": jobs.jobs_by_site_and_state(session)}


@api.get("/productions")
def get_productions(reader: SummaryReader, session: ReadSession) -> list[dict[str, Any]]:
    return jobs.productions(session)


@api.get("/jobs")
def search_jobs(reader: DetailReader, session: ReadSession, runtime: RuntimeDep, owner: str | None = None,
                group: str | None = None, site: str | None = None, status: str | None = None,
                limit: int | None = Query(None, ge=1, le=10_000), before: int | None = None) -> dict[str, Any]:
    """Newest first; a user's token narrows the search to their own jobs."""
    if not reader.sees_every_job:
        owner = reader.account
    rows = jobs.search(session, owner=owner, group=group, site=site, status=status,
                       limit=limit or runtime.settings.monitor.list_limit, before=before)
    return {"jobs": rows, "owner": owner}


@api.get("/jobs/{job_id}/history")
def job_history(job_id: int, reader: DetailReader, session: ReadSession) -> dict[str, Any]:
    if not reader.sees_every_job and jobs.job_owner(session, job_id) != reader.account:
        raise Forbidden(f"job {job_id} belongs to another account")
    return jobs.job_history(session, job_id)


@api.get("/rules")
def get_rules(reader: SummaryReader, session: ReadSession) -> dict[str, Any]:
    return {"rules_by_state": rules.rules_by_state(session)}


@api.get("/rules/stuck")
def get_stuck_rules(reader: DetailReader, session: ReadSession, runtime: RuntimeDep) -> list[dict[str, Any]]:
    s = runtime.settings.monitor
    return rules.stuck_rules(session, now=runtime.clock.now(), slow_after_hours=s.stuck_rule_hours,
                             limit=s.list_limit)


def _span(runtime: Runtime, hours: int | None, bucket_minutes: int | None) -> Span:
    s = runtime.settings.monitor
    return Span.last(runtime.clock.now(), hours or s.history_hours, bucket_minutes or s.bucket_minutes)


Hours = Query(None, ge=1, le=24 * 90, description="span of the series (default: monitor.history_hours)")
BucketMinutes = Query(None, ge=1, le=24 * 60, description="width of a bar (default: monitor.bucket_minutes)")


@api.get("/transfers/volume")
def get_transfer_volume(reader: SummaryReader, session: ReadSession, runtime: RuntimeDep,
                        hours: int | None = Hours, bucket_minutes: int | None = BucketMinutes) -> dict[str, Any]:
    return transfers.volume_series(session, _span(runtime, hours, bucket_minutes))


@api.get("/cpu/series")
def get_cpu_series(reader: SummaryReader, session: ReadSession, runtime: RuntimeDep,
                   hours: int | None = Hours, bucket_minutes: int | None = BucketMinutes) -> dict[str, Any]:
    return jobs.cpu_series(session, _span(runtime, hours, bucket_minutes))


@api.get("/transfers/states")
def get_transfer_states(reader: SummaryReader, session: ReadSession) -> list[dict[str, Any]]:
    return transfers.requests_by_state(session)


@api.get("/transfers/links")
def get_links(reader: SummaryReader, session: ReadSession) -> list[dict[str, Any]]:
    return transfers.links(session)


@api.get("/transfers/failures")
def get_failures(reader: DetailReader, session: ReadSession, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return transfers.recent_failures(session, runtime.settings.monitor.list_limit)


router.include_router(api)
