"""Settings of onegrid.storage (the `storage` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel


class StorageSettings(BaseModel):
    pass
