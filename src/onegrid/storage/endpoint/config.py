"""What one endpoint serves and whom it trusts: fixed when the process starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from onegrid.storage.settings import StorageSettings

# The endpoint's own bookkeeping (checksum index, temporary uploads) lives here, below
# the root; no request path may name it.
META_DIR = ".onegrid"
# Uploads in progress are written next to their target under this prefix, so the final
# rename is atomic (same directory, same filesystem) and listings can hide them.
PARTIAL_PREFIX = ".onegrid-part-"


@dataclass(frozen=True)
class EndpointConfig:
    root: Path
    base_path: str
    issuer: str
    url: str
    name: str = "ONEGRID-SE"
    vo: str = ""
    capacity: int = 0  # bytes; 0 = the free space of the filesystem
    tape: bool = False
    anonymous_read: bool = False
    extra_audiences: tuple[str, ...] = ()
    settings: StorageSettings = field(default_factory=StorageSettings)

    @property
    def audiences(self) -> tuple[str, ...]:
        return (self.url.rstrip("/"), *self.extra_audiences)

    @property
    def vo_name(self) -> str:
        return self.vo or self.base_path.strip("/").split("/")[0] or self.name

    @property
    def meta_dir(self) -> Path:
        return self.root / META_DIR


def normalize_base_path(base_path: str) -> str:
    """`belle`, `/belle/` → `/belle`; empty → `/`."""
    stripped = base_path.strip().strip("/")
    return "/" + stripped if stripped else "/"
