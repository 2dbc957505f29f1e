"""Settings of onegrid.catalog (the `catalog` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel


class CatalogSettings(BaseModel):
    pass
