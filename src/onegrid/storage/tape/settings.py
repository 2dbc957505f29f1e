"""Settings of the tape emulation behind `onegrid storage --tape`.

Times are seconds and sizes bytes. The defaults are those of a small real library
(a minute to mount, ~300 MB/s per drive); tests scale them down to milliseconds.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class TapeSettings(BaseModel):
    # A write stays on the disk buffer this long before it is copied to tape.
    migration_delay: float = Field(default=60.0, ge=0)
    # Bytes of disk copies the buffer holds; eviction starts above `high_watermark`
    # of it and stops once below `low_watermark` of it.
    buffer_capacity: int = Field(default=100 * 1024**3, gt=0)
    high_watermark: float = Field(default=0.9, gt=0, le=1)
    low_watermark: float = Field(default=0.7, ge=0, le=1)
    # Loading (and unloading) a cartridge into a drive.
    mount_latency: float = Field(default=60.0, ge=0)
    # Winding from one end of a cartridge to the other; shorter seeks cost their share.
    seek_time: float = Field(default=40.0, ge=0)
    # Bytes/s one drive reads once positioned.
    throughput: float = Field(default=300e6, gt=0)
    # Migrated files fill cartridge T00000, then T00001, ... in migration order.
    files_per_tape: int = Field(default=1000, gt=0)
    # Drives: at most this many cartridges are mounted at once.
    drives: int = Field(default=2, gt=0)
    # How long a recalled file stays pinned on disk when a stage request names no
    # `diskLifetime` (Tape REST API v1 leaves the default to the site).
    default_disk_lifetime: float = Field(default=3600.0, ge=0)
    # How often the background loop migrates, evicts and advances recalls.
    tick: float = Field(default=1.0, gt=0)
    # Shown by the discovery document.
    sitename: str = "onegrid"
    description: str = "OneGrid tape emulation"

    @model_validator(mode="after")
    def _watermarks_ordered(self) -> TapeSettings:
        if self.low_watermark > self.high_watermark:
            raise ValueError("low_watermark must not exceed high_watermark")
        return self
