"""Settings of onegrid.storage (the `storage` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from onegrid.storage.tape.settings import TapeSettings


class StorageSettings(BaseModel):
    # HTTP-TPC: seconds between performance markers (xrootd sends one every 5 s; the spec
    # allows up to 30 s before a client such as gfal2 gives up on a silent transfer).
    marker_interval: float = Field(5.0, gt=0, le=30)
    # Bytes gathered from the network before one write+checksum step in a worker thread:
    # large enough that thread hand-offs cost nothing, small enough to bound memory.
    write_batch_bytes: int = Field(4 * 1024 * 1024, ge=64 * 1024)
    # Bytes read from disk per chunk of a GET body.
    read_chunk_bytes: int = Field(1024 * 1024, ge=16 * 1024)
    # Uploads at or below this size are written in one step without a worker thread.
    small_file_bytes: int = Field(256 * 1024, ge=0)
    # PUT bodies from this size on move socket → disk in a worker thread, past the ASGI
    # server's buffers (see endpoint/direct.py); 0 turns that off.
    direct_put_bytes: int = Field(8 * 1024 * 1024, ge=0)
    # GET bodies from this size on go out by sendfile from a worker thread; 0 turns that off.
    direct_get_bytes: int = Field(8 * 1024 * 1024, ge=0)
    # Seconds an upload may be idle (no bytes) before it is abandoned.
    body_idle_timeout: float = Field(300.0, gt=0)
    # md5 costs ~3x adler32; it is computed on demand (and cached) unless asked for here.
    md5_on_write: bool = False
    # Seconds a third-party copy may be idle (no bytes) before it fails.
    tpc_idle_timeout: float = Field(300.0, gt=0)
    # Verify the TLS certificate of the remote party of a third-party copy.
    tpc_verify_tls: bool = True
    # Certificate authorities for that check (a file or a directory such as
    # /etc/grid-security/certificates); the system store when empty.
    tpc_ca_path: str = ""
    # Seconds a verified token stays in the endpoint's cache (never beyond its expiry).
    token_cache_seconds: int = Field(300, ge=0)
    # How long the issuer's keys are trusted before discovery is asked again (seconds).
    jwks_cache_seconds: int = 600
    # The tape emulation behind `onegrid storage --tape` (ONEGRID_STORAGE__TAPE__...).
    tape: TapeSettings = Field(default_factory=TapeSettings)
