"""Traces: clients' reports of uploads and downloads, kept for popularity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from onegrid.catalog.tables import Trace
from onegrid.clock import Clock


def _text(value: Any, limit: int) -> str | None:
    return None if value in (None, "") else str(value)[:limit]


def add_traces(session: Session, clock: Clock, traces: Sequence[dict[str, Any]]) -> int:
    now = clock.now()
    for t in traces:
        session.add(Trace(created_at=now, event_type=_text(t.get("eventType"), 64) or "",
                          account=_text(t.get("account"), 64), scope=_text(t.get("scope"), 64),
                          name=_text(t.get("filename") or t.get("name"), 255),
                          dataset_scope=_text(t.get("datasetScope"), 64), dataset=_text(t.get("dataset"), 255),
                          rse=_text(t.get("remoteSite") or t.get("localSite") or t.get("rse"), 64),
                          client_state=_text(t.get("clientState"), 64), payload=dict(t)))
    session.flush()
    return len(traces)
