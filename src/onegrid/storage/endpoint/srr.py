"""Storage Resource Reporting (SPECS.md §3): what is stored, from counters, not a walk.

The tree is walked once when the endpoint starts; afterwards every PUT, DELETE, MOVE and
third-party copy adjusts the counters, so `/.well-known/wlcg-srr` costs nothing however
many files the endpoint holds.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from onegrid import __version__
from onegrid.storage.endpoint.config import META_DIR, EndpointConfig
from onegrid.storage.endpoint.paths import is_hidden_name


class SpaceUsage:
    """Bytes and files below the root (bookkeeping and partial uploads excluded)."""

    def __init__(self, used: int = 0, files: int = 0) -> None:
        self._lock = threading.Lock()
        self.used = used
        self.files = files

    @classmethod
    def scan(cls, root: Path) -> SpaceUsage:
        used = files = 0
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath == str(root):
                dirnames[:] = [d for d in dirnames if d != META_DIR]
            for name in filenames:
                if is_hidden_name(name):
                    continue
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                used += st.st_size
                files += 1
        return cls(used, files)

    def added(self, size: int, replaced: int | None = None) -> None:
        """A file of `size` bytes appeared (replacing one of `replaced` bytes, if any)."""
        with self._lock:
            self.used += size - (replaced or 0)
            self.files += 0 if replaced is not None else 1

    def removed(self, size: int, count: int = 1) -> None:
        with self._lock:
            self.used -= size
            self.files -= count


def capacity_of(config: EndpointConfig) -> int:
    return config.capacity or shutil.disk_usage(config.root).total


def storage_descriptor(config: EndpointConfig, usage: SpaceUsage, now: float) -> dict[str, Any]:
    total = capacity_of(config)
    latency, retention = ("nearline", "custodial") if config.tape else ("online", "replica")
    space = {"totalsize": total, "usedsize": usage.used, "reservedsize": 0}
    capacity: dict[str, Any] = {"online": space}
    if config.tape:
        capacity["nearline"] = dict(space)
    interface = "https" if config.url.startswith("https") else "http"
    endpoint_id = f"{config.name}-{interface}"
    return {
        "storageservice": {
            "name": config.name,
            "id": config.name,
            "servicetype": "tape" if config.tape else "disk",
            "implementation": "OneGrid",
            "implementationversion": __version__,
            "qualitylevel": "production",
            "latestupdate": int(now),
            "storagecapacity": capacity,
            "storageendpoints": [{
                "name": endpoint_id,
                "id": endpoint_id,
                "endpointurl": config.url.rstrip("/") + config.base_path.rstrip("/"),
                "interfacetype": interface,
                "interfaceversion": "1.1",
                "capabilities": ["data.access", "data.management", "data.third-party-copy"]
                + (["data.tape-rest-api"] if config.tape else []),
                "assignedshares": ["all"],
            }],
            "storageshares": [{
                "name": config.vo_name,
                "totalsize": total,
                "usedsize": usage.used,
                "timestamp": int(now),
                "vos": [config.vo_name],
                "numberoffiles": usage.files,
                "path": [config.base_path],
                "assignedendpoints": ["all"],
                "servingstate": "open",
                "accesslatency": latency,
                "retentionpolicy": retention,
            }],
        }
    }
