"""Settings of onegrid.wms (the `wms` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel


class WmsSettings(BaseModel):
    pass
