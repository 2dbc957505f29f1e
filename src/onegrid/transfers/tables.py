"""Tables of onegrid.transfers: requests, jobs, per-attempt history, links and limits.

A `TransferRequest` is one file to bring to one destination RSE. It is created by the
judge (with a `rule_id`) or by a direct submission (`POST /transfers/jobs`, with a
`job_id`), claimed by a conveyor with a lease (`lease_owner`, `lease_expires`, the columns
`onegrid.db.lease.claim` stamps), and ends DONE, FAILED or CANCELLED. The rules' finisher
reads terminal requests that carry a `rule_id` and sets `notified` once it has turned
them into lock states.

States are stored by name in plain string columns so bulk statements bind them directly.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime

# A 64-bit id on PostgreSQL, SQLite's rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class RequestState(enum.StrEnum):
    QUEUED = "QUEUED"  # waiting for a conveyor (or for its next attempt)
    STAGING = "STAGING"  # the source is being recalled from tape
    SUBMITTED = "SUBMITTED"  # a conveyor is copying it
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATES = frozenset({RequestState.DONE, RequestState.FAILED, RequestState.CANCELLED})
ACTIVE_STATES = frozenset({RequestState.QUEUED, RequestState.STAGING, RequestState.SUBMITTED})


class TransferJob(Base):
    """A direct submission (FTS3's job): a group of requests with shared parameters."""

    __tablename__ = "transfer_jobs"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    account: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransferRequest(Base):
    __tablename__ = "transfer_requests"
    __table_args__ = (
        sa.Index("ix_transfer_requests_state_next", "state", "next_attempt_at"),
        sa.Index("ix_transfer_requests_did_dest", "scope", "name", "dest_rse_id"),
        sa.Index("ix_transfer_requests_notify", "notified", "state"),
        sa.Index("ix_transfer_requests_rule_id", "rule_id"),
        sa.Index("ix_transfer_requests_job_id", "job_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[str | None] = mapped_column(sa.String(36))
    job_id: Mapped[str | None] = mapped_column(sa.String(36))
    scope: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    dest_rse_id: Mapped[int | None] = mapped_column(sa.Integer)
    source_rse_id: Mapped[int | None] = mapped_column(sa.Integer)  # the source chosen for the current attempt
    source_rse_expression: Mapped[str | None] = mapped_column(sa.String(255))  # rule's source replica expression
    # Direct submissions by URL (no catalogue): candidate source URLs and the destination URL.
    source_urls: Mapped[list[str] | None] = mapped_column(sa.JSON)
    dest_url: Mapped[str | None] = mapped_column(sa.String(2048))
    activity: Mapped[str] = mapped_column(sa.String(64), default="default")
    priority: Mapped[int] = mapped_column(sa.Integer, default=3)  # FTS: 1 (low) .. 5 (high)
    bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    adler32: Mapped[str | None] = mapped_column(sa.String(8))
    md5: Mapped[str | None] = mapped_column(sa.String(32))
    overwrite: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    verify_checksum: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=RequestState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    retry_limit: Mapped[int] = mapped_column(sa.Integer, default=3)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Sources found corrupt or missing for this request, skipped on the next attempts (JSON list of RSE ids).
    excluded_sources: Mapped[list[int] | None] = mapped_column(sa.JSON)
    bytes_transferred: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    stage_endpoint: Mapped[str | None] = mapped_column(sa.String(2048))  # Tape REST API uri while STAGING
    stage_request_id: Mapped[str | None] = mapped_column(sa.String(64))
    stage_path: Mapped[str | None] = mapped_column(sa.String(2048))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TransferHistory(Base):
    """One attempt of one request: what the dashboard plots (per link and activity)."""

    __tablename__ = "transfer_history"
    __table_args__ = (sa.Index("ix_transfer_history_link", "source_rse_id", "dest_rse_id", "finished_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(BigId, index=True)
    scope: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    source_rse_id: Mapped[int | None] = mapped_column(sa.Integer)
    dest_rse_id: Mapped[int | None] = mapped_column(sa.Integer)
    source_url: Mapped[str | None] = mapped_column(sa.String(2048))
    dest_url: Mapped[str | None] = mapped_column(sa.String(2048))
    activity: Mapped[str] = mapped_column(sa.String(64))
    attempt: Mapped[int] = mapped_column(sa.Integer)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    duration: Mapped[float] = mapped_column(sa.Float, default=0.0)  # seconds
    mode: Mapped[str | None] = mapped_column(sa.String(16))  # pull | push | streamed
    outcome: Mapped[str] = mapped_column(sa.String(16))  # DONE | FAILED
    error: Mapped[str | None] = mapped_column(sa.Text)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class TransferLink(Base):
    """The optimizer's state of one (source RSE, destination RSE) link."""

    __tablename__ = "transfer_links"

    source_rse_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    dest_rse_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    active_limit: Mapped[int] = mapped_column(sa.Integer)
    # Operator overrides of the optimizer's floor and ceiling for this link (None = defaults).
    min_active: Mapped[int | None] = mapped_column(sa.Integer)
    max_active: Mapped[int | None] = mapped_column(sa.Integer)
    ema_throughput: Mapped[float | None] = mapped_column(sa.Float)  # bytes/s
    last_throughput: Mapped[float | None] = mapped_column(sa.Float)
    success_rate: Mapped[float | None] = mapped_column(sa.Float)  # 0..1 over the window
    decision: Mapped[str] = mapped_column(sa.String(255), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StorageLimit(Base):
    """Concurrent reads (as a source) and writes (as a destination) one RSE accepts."""

    __tablename__ = "transfer_storage_limits"

    rse_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    max_reads: Mapped[int | None] = mapped_column(sa.Integer)
    max_writes: Mapped[int | None] = mapped_column(sa.Integer)


class ActivityShare(Base):
    """An activity's weight in the weighted draw among activities with queued files."""

    __tablename__ = "transfer_activity_shares"

    activity: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    weight: Mapped[float] = mapped_column(sa.Float)
