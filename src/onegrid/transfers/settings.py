"""Settings of onegrid.transfers (the `transfers` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TransferSettings(BaseModel):
    # Requests one conveyor claims per cycle (at most 2 × threads for copies), and copies it
    # runs at once (threads).
    batch_size: int = Field(default=200, ge=1)
    threads: int = Field(default=32, ge=1)
    # A claimed request is this conveyor's for this long; renewed while its copy runs, so a
    # killed conveyor's requests are picked up by another after at most this time.
    lease_seconds: float = Field(default=300.0, gt=0)
    # Seconds a cycle waits for running copies to finish before it records them and
    # starts new ones (copies run across cycles; this bounds the latency of both).
    cycle_wait: float = Field(default=0.2, gt=0)
    # A request whose link or storage is full waits this long before it is claimed again.
    defer_seconds: float = Field(default=1.0, ge=0)
    # Backoff of recoverable failures: retry_delay * 2**(attempt-1), capped (FTS default 120 s).
    retry_delay: float = Field(default=120.0, ge=0)
    max_retry_delay: float = Field(default=3600.0, ge=0)
    # Active limit of a link the optimizer has not judged yet (then it moves by +1/-1 steps).
    initial_active: int = Field(default=16, ge=1)
    # How often a link's active limit is recomputed (FTS3: every 60 s), and in aggressive mode (+2).
    optimizer_interval: float = Field(default=60.0, gt=0)
    optimizer_aggressive: bool = False
    # Tape: seconds between polls of a stage request, and the disk lifetime asked for.
    stage_poll_interval: float = Field(default=30.0, gt=0)
    stage_disk_lifetime: int = Field(default=86400, ge=0)
    # Lifetime of the narrowed storage tokens minted per copy (seconds).
    token_lifetime: int = Field(default=3600, ge=60)
    # Seconds a single copy may take before it is abandoned (recoverable).
    copy_timeout: float = Field(default=3600.0, gt=0)
    # TLS verification towards storages: true, false, or the path of a CA bundle.
    verify_tls: bool | str = True
