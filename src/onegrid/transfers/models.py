"""Pydantic shapes of the transfer API, after FTS3's `POST /jobs` (SPECS §6).

A file is given either by URLs (`sources`, `destinations`: a plain copy between storages)
or by DID (`did: "scope:name"` and `destination_rse`: the catalogue finds the sources and
the destination replica is registered when the copy is done).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from onegrid.errors import InvalidInput

# Our request states → FTS3's file states.
FTS_FILE_STATE = {"QUEUED": "SUBMITTED", "STAGING": "STAGING", "SUBMITTED": "ACTIVE", "DONE": "FINISHED",
                  "FAILED": "FAILED", "CANCELLED": "CANCELED"}


class JobFile(BaseModel):
    sources: list[str] = Field(default_factory=list)
    destinations: list[str] = Field(default_factory=list)
    did: str | None = None
    destination_rse: str | None = None
    checksum: str | None = None  # "ADLER32:1a2b3c4d", "MD5:…" or "adler32:…"
    filesize: int | None = Field(default=None, ge=0)
    activity: str | None = None
    metadata: Any = None

    @model_validator(mode="after")
    def _one_way(self) -> JobFile:
        if self.did:
            if not self.destination_rse:
                raise InvalidInput(f"file {self.did}: a DID needs a destination_rse")
            if ":" not in self.did:
                raise InvalidInput(f"file {self.did}: a DID is written scope:name")
        elif not self.sources or len(self.destinations) != 1:
            raise InvalidInput("a file needs sources and exactly one destination URL, or a did and a destination_rse")
        return self

    def checksums(self) -> dict[str, str]:
        """`{"adler32": …}` / `{"md5": …}` from FTS's `ALGORITHM:value` spelling."""
        if not self.checksum:
            return {}
        algo, sep, value = self.checksum.partition(":")
        if not sep:
            algo, value = "adler32", algo
        algo = algo.strip().lower()
        if algo not in ("adler32", "md5"):
            raise InvalidInput(f"checksum {self.checksum!r}: only ADLER32 and MD5 are known")
        width = 8 if algo == "adler32" else 32
        value = value.strip().lower()
        if len(value) > width or any(c not in "0123456789abcdef" for c in value):
            raise InvalidInput(f"checksum {self.checksum!r} is not {width} hex digits")
        return {algo: value.zfill(width)}


class JobParams(BaseModel):
    verify_checksum: bool | str = True
    overwrite: bool = True
    priority: int = Field(default=3, ge=1, le=5)
    retry: int = Field(default=3, ge=0, le=100)
    activity: str = "default"
    job_metadata: Any = None


class JobSubmit(BaseModel):
    files: list[JobFile] = Field(min_length=1)
    params: JobParams = Field(default_factory=JobParams)


class LinkLimits(BaseModel):
    min_active: int | None = Field(default=None, ge=1)
    max_active: int | None = Field(default=None, ge=1)


class StorageLimits(BaseModel):
    max_reads: int | None = Field(default=None, ge=1)
    max_writes: int | None = Field(default=None, ge=1)


class ActivityWeight(BaseModel):
    weight: float = Field(ge=0)


class Distance(BaseModel):
    distance: int = Field(ge=0)
