"""The sites file of a one-machine grid: sites, their storage elements and compute queues."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from onegrid.errors import InvalidInput

TB = 10**12


class StorageElement(BaseModel):
    name: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
    kind: Literal["disk", "tape"] = "disk"
    size_tb: float = Field(100, gt=0)

    @property
    def size_bytes(self) -> int:
        return int(self.size_tb * TB)


class ComputeQueue(BaseModel):
    name: str
    platform: str = "EL9"
    container_platforms: list[str] = Field(default_factory=list)
    cores: int = Field(1, ge=1)
    ram_mb: int = Field(4000, ge=1)
    tags: list[str] = Field(default_factory=list)


class Site(BaseModel):
    name: str
    country: str
    type: str = "DISK_SITE"
    tier: int = 2
    raw_share: int = Field(0, ge=0, description="weight among RAW data centres for the second RAW copy")
    storage: list[StorageElement] = Field(default_factory=list)
    queues: list[ComputeQueue] = Field(default_factory=list)


class SitesFile(BaseModel):
    vo: str = "/belle"
    site: list[Site]

    @model_validator(mode="after")
    def _unique_names(self) -> SitesFile:
        seen: set[str] = set()
        for name in [s.name for s in self.site] + [se.name for s in self.site for se in s.storage] + [
            q.name for s in self.site for q in s.queues
        ]:
            if name in seen:
                raise ValueError(f"name {name} appears twice")
            seen.add(name)
        return self

    @property
    def storage_elements(self) -> list[tuple[Site, StorageElement]]:
        return [(s, se) for s in self.site for se in s.storage]

    @property
    def queues(self) -> list[tuple[Site, ComputeQueue]]:
        return [(s, q) for s in self.site for q in s.queues]


def default_sites_text() -> str:
    return resources.files("onegrid.grid").joinpath("sites.toml").read_text()


def load_sites(path: Path | None = None) -> SitesFile:
    text = default_sites_text() if path is None else _read(path)
    try:
        return SitesFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"sites file {path} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"sites file {path or '(default)'}: {where}: {first['msg']}") from exc


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError as exc:
        raise InvalidInput(f"sites file {path} does not exist") from exc
