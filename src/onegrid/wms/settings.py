"""Settings of onegrid.wms (the `wms` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WmsSettings(BaseModel):
    max_jobs_per_submission: int = Field(100_000, description="bulk and parametric limit")
    max_reschedules: int = Field(3, description="reschedules before a job is Failed (DIRAC: 3)")
    # Watchdog.
    stalled_seconds: float = Field(1800, description="no heartbeat for this long: Stalled")
    stalled_fail_seconds: float = Field(0, description="a Stalled job waits this long, then is rescheduled")
    matched_timeout_seconds: float = Field(1800, description="Matched but never Running: rescheduled")
    # Fair shares of owner groups when several match (default 1 each).
    group_shares: dict[str, float] = Field(default_factory=dict)
    # Pilots.
    heartbeat_seconds: float = Field(60, description="how often a pilot sends a job heartbeat")
    pilot_poll_seconds: float = Field(5, description="pilot loop period between match requests")
    pilot_idle_seconds: float = Field(60, description="a pilot exits after this long without a match")
    pilot_token_lifetime: int = Field(86400, description="seconds; tokens minted for pilots")
    pilot_account: str = Field("pilot", description="SERVICE account that pilots authenticate as")
    # Pilots read inputs from and write outputs to storage with their own token (WLCG
    # scopes relative to each endpoint's base path; any-audience so every endpoint takes it).
    pilot_storage_scopes: list[str] = Field(default_factory=lambda: ["storage.read:/", "storage.create:/"])
    # Site director.
    jobs_per_pilot: int = Field(10, description="waiting jobs that justify one more pilot on a queue")
    director_workdir: str = Field("", description="pilot working area (default data_dir/pilots)")
    # Sandboxes.
    sandbox_max_bytes: int = Field(100 * 1024 * 1024, description="largest sandbox accepted")
    sandbox_retention_days: float = Field(30, description="unreferenced sandboxes removed after this")
    # Input data only on tape: the replication rule that recalls it keeps the disk copy this long.
    staging_lifetime_seconds: int = Field(7 * 86400, ge=3600)
    # Productions.
    default_release: str = "release-08-00-00"
    tq_refresh_seconds: float = Field(1.0, description="how stale a server's view of non-empty task queues may be")
    # Agents.
    optimizer_batch: int = 500
    watchdog_batch: int = 500
    agent_idle_seconds: float = 5
