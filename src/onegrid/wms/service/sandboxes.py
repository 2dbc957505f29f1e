"""Sandboxes: tarballs stored once by their sha256, with a size limit and a retention."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import InvalidInput, NotFound, QuotaExceeded
from onegrid.wms.settings import WmsSettings
from onegrid.wms.tables import Job, Sandbox


def store(session: Session, clock: Clock, content: bytes, *, owner: str, settings: WmsSettings) -> str:
    if len(content) > settings.sandbox_max_bytes:
        raise QuotaExceeded(f"sandbox of {len(content)} bytes exceeds the limit of {settings.sandbox_max_bytes}")
    if not content:
        raise InvalidInput("empty sandbox")
    digest = hashlib.sha256(content).hexdigest()
    now = clock.now()
    row = session.get(Sandbox, digest)
    if row is None:
        session.add(Sandbox(sha256=digest, size=len(content), content=content, owner=owner, created_at=now,
                            last_used_at=now))
    else:
        row.last_used_at = now
    return digest


def fetch(session: Session, clock: Clock, digest: str) -> bytes:
    row = session.get(Sandbox, digest.removeprefix("SB:"))
    if row is None:
        raise NotFound(f"sandbox {digest} does not exist")
    return row.content


def clean(session: Session, clock: Clock, settings: WmsSettings, limit: int = 100) -> int:
    """Remove sandboxes unused for the retention period and named by no unfinished job's output."""
    cutoff = clock.now() - timedelta(days=settings.sandbox_retention_days)
    old = list(session.scalars(sa.select(Sandbox.sha256).where(Sandbox.last_used_at < cutoff).limit(limit)))
    if not old:
        return 0
    session.execute(sa.update(Job).where(Job.output_sandbox.in_([f"SB:{d}" for d in old])).values(output_sandbox=None))
    session.execute(sa.delete(Sandbox).where(Sandbox.sha256.in_(old)))
    return len(old)
