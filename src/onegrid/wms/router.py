"""HTTP routes of onegrid.wms: the routers of users, pilots, operators and productions."""

from __future__ import annotations

from fastapi import APIRouter

from onegrid.wms.routes import jobs, pilots, productions, sites, transformations

router = APIRouter()
# Fixed paths (/wms/jobs/kill, /wms/jobs/summary) come before /wms/jobs/{job_id}.
router.include_router(jobs.router)
router.include_router(pilots.router)
router.include_router(sites.router)
router.include_router(productions.router)
router.include_router(transformations.router)
