"""HTTP routes of onegrid.catalog."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
