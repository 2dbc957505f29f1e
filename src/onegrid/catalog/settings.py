"""Settings of onegrid.catalog (the `catalog` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel


class CatalogSettings(BaseModel):
    # The Rucio server version `/ping` reports: the stock client enables calls by it
    # (e.g. `rucio scope list` needs >= 40). The REST API follows Rucio 41.
    rucio_api_version: str = "41.0.0"
