"""HTTP routes of onegrid.catalog: Rucio's REST API at the server root, so the stock
`rucio` client works against `onegrid server`, and the OneGrid client uses the same."""

from __future__ import annotations

from fastapi import APIRouter

from onegrid.catalog.routes_accounts import router as accounts_router
from onegrid.catalog.routes_dids import router as dids_router
from onegrid.catalog.routes_replicas import router as replicas_router
from onegrid.catalog.routes_rses import router as rses_router
from onegrid.catalog.rules.routes import router as rules_router

router = APIRouter()
for sub in (accounts_router, rses_router, replicas_router, rules_router, dids_router):
    router.include_router(sub)
