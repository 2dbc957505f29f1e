"""Tables of onegrid.wms.

States are stored as their DIRAC names (`JobStatus` values) in plain string columns so
bulk statements can bind them directly. List-valued requirements are JSON text.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime

# A 64-bit id on PostgreSQL, SQLite's rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Job(Base):
    __tablename__ = "wms_jobs"
    __table_args__ = (
        sa.Index("ix_wms_jobs_status_heartbeat", "status", "heartbeat_at"),
        sa.Index("ix_wms_jobs_owner_status", "owner", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(sa.String(64))
    owner_group: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    job_type: Mapped[str] = mapped_column(sa.String(32))
    job_group: Mapped[str | None] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16))
    minor_status: Mapped[str] = mapped_column(sa.String(255), default="")
    application_status: Mapped[str] = mapped_column(sa.String(255), default="")
    site: Mapped[str | None] = mapped_column(sa.String(64))
    queue: Mapped[str | None] = mapped_column(sa.String(64))
    pilot_id: Mapped[str | None] = mapped_column(sa.String(64))
    priority: Mapped[int] = mapped_column(sa.Integer, default=1)
    processors: Mapped[int] = mapped_column(sa.Integer, default=1)
    task_queue_id: Mapped[int | None] = mapped_column(sa.Integer)
    description: Mapped[str] = mapped_column(sa.Text)  # JobDescription as JSON
    candidate_sites: Mapped[str | None] = mapped_column(sa.Text)  # JSON list, from input data
    reschedules: Mapped[int] = mapped_column(sa.Integer, default=0)
    production_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cpu_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    wall_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    memory_mb: Mapped[float] = mapped_column(sa.Float, default=0.0)
    kill_requested: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    output_sandbox: Mapped[str | None] = mapped_column(sa.String(80))  # "SB:<sha256>"
    outputs: Mapped[str] = mapped_column(sa.Text, default="[]")  # JSON list of output files
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskQueue(Base):
    """Waiting jobs with identical requirements; the key is a digest of them."""

    __tablename__ = "wms_task_queues"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(sa.String(40), unique=True)
    owner_group: Mapped[str] = mapped_column(sa.String(128))
    cpu_time: Mapped[int] = mapped_column(sa.Integer)
    sites: Mapped[str] = mapped_column(sa.Text)
    banned_sites: Mapped[str] = mapped_column(sa.Text)
    platforms: Mapped[str] = mapped_column(sa.Text)
    tags: Mapped[str] = mapped_column(sa.Text)
    min_processors: Mapped[int] = mapped_column(sa.Integer)
    max_processors: Mapped[int] = mapped_column(sa.Integer)
    ram_mb: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TaskQueueJob(Base):
    """A waiting job in its task queue; taking the row is taking the job."""

    __tablename__ = "wms_tq_jobs"
    # rank = 10 - priority: "best first" is then one ascending index scan (tq_id, rank, job_id).
    __table_args__ = (sa.Index("ix_wms_tq_jobs_pick", "tq_id", "rank", "job_id"),)

    job_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    tq_id: Mapped[int] = mapped_column(sa.Integer)
    rank: Mapped[int] = mapped_column(sa.Integer)


class JobLogging(Base):
    """Every status change of a job, with who made it."""

    __tablename__ = "wms_job_logging"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    minor_status: Mapped[str] = mapped_column(sa.String(255), default="")
    application_status: Mapped[str] = mapped_column(sa.String(255), default="")
    source: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobParameter(Base):
    __tablename__ = "wms_job_parameters"

    job_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class Site(Base):
    """The site mask: a site is allowed unless banned (reason and time kept)."""

    __tablename__ = "wms_sites"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    banned: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    reason: Mapped[str] = mapped_column(sa.String(255), default="")
    changed_by: Mapped[str] = mapped_column(sa.String(64), default="")
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ComputeQueueRow(Base):
    __tablename__ = "wms_queues"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(64), index=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    container_platforms: Mapped[str] = mapped_column(sa.Text, default="[]")
    tags: Mapped[str] = mapped_column(sa.Text, default="[]")
    cores: Mapped[int] = mapped_column(sa.Integer)
    ram_mb: Mapped[int] = mapped_column(sa.Integer)
    backend: Mapped[str] = mapped_column(sa.String(16))
    max_pilots: Mapped[int] = mapped_column(sa.Integer)
    options: Mapped[str] = mapped_column(sa.Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Pilot(Base):
    __tablename__ = "wms_pilots"
    __table_args__ = (sa.Index("ix_wms_pilots_queue_status", "queue", "status"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(sa.String(64))
    site: Mapped[str] = mapped_column(sa.String(64))
    backend: Mapped[str] = mapped_column(sa.String(16))
    backend_ref: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(16))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    jobs_matched: Mapped[int] = mapped_column(sa.Integer, default=0)


class AccountingRecord(Base):
    """One per finished job, for the CPU plots (site, group, activity)."""

    __tablename__ = "wms_accounting"

    job_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    site: Mapped[str] = mapped_column(sa.String(64), default="")
    queue: Mapped[str] = mapped_column(sa.String(64), default="")
    owner: Mapped[str] = mapped_column(sa.String(64))
    owner_group: Mapped[str] = mapped_column(sa.String(128))
    activity: Mapped[str] = mapped_column(sa.String(32))
    processors: Mapped[int] = mapped_column(sa.Integer)
    cpu_seconds: Mapped[float] = mapped_column(sa.Float)
    wall_seconds: Mapped[float] = mapped_column(sa.Float)
    status: Mapped[str] = mapped_column(sa.String(16))
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Sandbox(Base):
    """A sandbox tarball, content-addressed by sha256 (shared by every job that names it)."""

    __tablename__ = "wms_sandboxes"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    owner: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Production(Base):
    __tablename__ = "wms_productions"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    production_group: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16))
    release: Mapped[str] = mapped_column(sa.String(64))
    definition: Mapped[str] = mapped_column(sa.Text)  # as submitted, JSON
    owner: Mapped[str] = mapped_column(sa.String(64))
    events_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Transformation(Base):
    """A data-driven transformation: every file of the datasets matching a metadata query,
    N files per job, each file processed once."""

    __tablename__ = "wms_transformations"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    owner: Mapped[str] = mapped_column(sa.String(64))
    owner_group: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[str] = mapped_column(sa.String(64))
    query: Mapped[str] = mapped_column(sa.Text)
    files_per_job: Mapped[int] = mapped_column(sa.Integer)
    max_attempts: Mapped[int] = mapped_column(sa.Integer)
    template: Mapped[str] = mapped_column(sa.Text)  # JobDescription JSON without InputData
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TransformationFile(Base):
    __tablename__ = "wms_transformation_files"
    __table_args__ = (sa.Index("ix_wms_transformation_files_status", "transformation_id", "status"),)

    transformation_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    lfn: Mapped[str] = mapped_column(sa.String(1100), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    job_id: Mapped[int | None] = mapped_column(BigId, index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
