"""Pydantic types of the WMS: job descriptions (DIRAC's attribute names), pilot resources,
and the public shapes of jobs, sites and queues."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from onegrid.wms.status import JobStatus

# DIRAC's JDL attribute names; JSON submissions use the same names.
_STR_LIST_FIELDS = ("input_sandbox", "output_sandbox", "input_data", "output_data", "site", "banned_sites",
                    "platform", "tags")


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [p.strip() for p in v.split(",") if p.strip()]
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if str(x).strip()]
    raise ValueError("must be a string or a list of strings")


class JobDescription(BaseModel):
    """One job as the user describes it (after parametric expansion)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_strip_whitespace=True)

    executable: str = Field(alias="Executable", min_length=1)
    arguments: str = Field("", alias="Arguments")
    input_sandbox: list[str] = Field(default_factory=list, alias="InputSandbox")
    output_sandbox: list[str] = Field(default_factory=list, alias="OutputSandbox")
    input_data: list[str] = Field(default_factory=list, alias="InputData")
    output_data: list[str] = Field(default_factory=list, alias="OutputData")
    output_se: str | None = Field(None, alias="OutputSE")
    output_path: str | None = Field(None, alias="OutputPath")
    # Registration of the outputs: the dataset they are attached to (`scope:name`) and the
    # catalogue metadata each gets (datatype, project, run_number, stream_name, events, ...).
    output_dataset: str | None = Field(None, alias="OutputDataset")
    output_metadata: dict[str, Any] = Field(default_factory=dict, alias="OutputMetadata")
    site: list[str] = Field(default_factory=list, alias="Site")
    banned_sites: list[str] = Field(default_factory=list, alias="BannedSites")
    platform: list[str] = Field(default_factory=list, alias="Platform")
    tags: list[str] = Field(default_factory=list, alias="Tags")
    resource_tag: str | None = Field(None, alias="ResourceTag")
    number_of_processors: int | None = Field(None, alias="NumberOfProcessors", ge=1, le=1024)
    min_number_of_processors: int | None = Field(None, alias="MinNumberOfProcessors", ge=1, le=1024)
    max_number_of_processors: int | None = Field(None, alias="MaxNumberOfProcessors", ge=1, le=1024)
    ram_mb: int = Field(0, alias="MaxRAM", ge=0)
    cpu_time: int = Field(86400, alias="CPUTime", ge=1)
    priority: int = Field(1, alias="Priority", ge=0, le=10)
    job_group: str | None = Field(None, alias="JobGroup")
    job_type: str = Field("User", alias="JobType")
    job_name: str | None = Field(None, alias="JobName")
    environment: dict[str, str] = Field(default_factory=dict, alias="Environment")
    software_release: str | None = Field(None, alias="SoftwareRelease")
    owner_group: str | None = Field(None, alias="OwnerGroup")

    @field_validator(*_STR_LIST_FIELDS, mode="before")
    @classmethod
    def _lists(cls, v: Any) -> list[str]:
        return _as_list(v)

    @field_validator("input_data", "output_data")
    @classmethod
    def _lfns(cls, v: list[str]) -> list[str]:
        return [x[4:] if x.upper().startswith("LFN:") else x for x in v]

    @field_validator("input_sandbox")
    @classmethod
    def _sandboxes(cls, v: list[str]) -> list[str]:
        for item in v:
            if not (item.startswith("SB:") and len(item) == 67) and not item.upper().startswith("LFN:"):
                raise ValueError(f"entry {item!r} is a local file: upload it first (onegrid job submit does) "
                                 "and name it SB:<sha256>")
        return v

    @field_validator("arguments", mode="before")
    @classmethod
    def _args(cls, v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return " ".join(str(x) for x in v)
        return str(v) if v is not None else ""

    @field_validator("environment", mode="before")
    @classmethod
    def _env(cls, v: Any) -> dict[str, str]:
        if isinstance(v, (list, tuple)):  # JDL: {"A=1", "B=2"}
            out = {}
            for item in v:
                key, sep, value = str(item).partition("=")
                if not sep:
                    raise ValueError(f"entry {item!r} is not NAME=VALUE")
                out[key.strip()] = value
            return out
        return {str(k): str(val) for k, val in (v or {}).items()}

    @model_validator(mode="after")
    def _processors(self) -> JobDescription:
        lo, hi = self.min_processors, self.max_processors
        if hi < lo:
            raise ValueError(f"MaxNumberOfProcessors ({hi}) is below the minimum ({lo})")
        return self

    @property
    def min_processors(self) -> int:
        n = self.min_number_of_processors or self.number_of_processors or 1
        if "MultiCore" in self.all_tags and n < 2:
            n = 2
        return n

    @property
    def max_processors(self) -> int:
        return max(self.max_number_of_processors or self.number_of_processors or self.min_processors,
                   self.min_processors)

    @cached_property
    def all_tags(self) -> list[str]:
        from onegrid.wms.resource_tag import parse_resource_tag

        tags = list(self.tags)
        if self.resource_tag:
            tags += parse_resource_tag(self.resource_tag).tags
        return sorted(set(tags))

    @cached_property
    def all_platforms(self) -> list[str]:
        from onegrid.wms.resource_tag import parse_resource_tag

        platforms = list(self.platform)
        if self.resource_tag:
            platforms += parse_resource_tag(self.resource_tag).platforms
        return sorted(set(platforms))


class Resource(BaseModel):
    """What a pilot offers when it asks for a job (DIRAC's pilot resource description)."""

    model_config = ConfigDict(extra="forbid")

    site: str = Field(min_length=1)
    queue: str = Field(min_length=1)
    platform: str = ""
    container_platforms: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    cores: int = Field(1, ge=1, le=4096)
    ram_mb: int = Field(0, ge=0)  # 0: no limit stated
    cpu_time: int = Field(10**9, ge=0)
    pilot_id: str | None = None


class JobPublic(BaseModel):
    id: int
    owner: str
    owner_group: str
    name: str | None
    job_type: str
    job_group: str | None
    status: JobStatus
    minor_status: str
    application_status: str
    site: str | None
    queue: str | None
    pilot_id: str | None
    priority: int
    processors: int
    reschedules: int
    production_id: int | None
    submitted_at: datetime
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    heartbeat_at: datetime | None
    cpu_seconds: float
    wall_seconds: float
    memory_mb: float
    output_sandbox: str | None
    outputs: list[dict[str, Any]]


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu_seconds: float = Field(0, ge=0)
    wall_seconds: float = Field(0, ge=0)
    memory_mb: float = Field(0, ge=0)
    application_status: str | None = None


class StatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: JobStatus
    minor_status: str = ""
    application_status: str | None = None
    cpu_seconds: float | None = Field(None, ge=0)
    wall_seconds: float | None = Field(None, ge=0)
    memory_mb: float | None = Field(None, ge=0)
    outputs: list[dict[str, Any]] | None = None
    output_sandbox: str | None = None


class SiteBan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = ""


class ComputeQueue(BaseModel):
    """A compute queue at a site (what the operator adds)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    site: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    platform: str = "EL9"
    container_platforms: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    cores: int = Field(1, ge=1)
    ram_mb: int = Field(0, ge=0)
    backend: str = Field("local", pattern=r"^(local|htcondor|slurm)$")
    max_pilots: int = Field(4, ge=0)
    options: dict[str, Any] = Field(default_factory=dict)
