"""HTTP routes of onegrid.transfers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
