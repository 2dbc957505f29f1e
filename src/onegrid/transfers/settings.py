"""Settings of onegrid.transfers (the `transfers` section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel


class TransferSettings(BaseModel):
    pass
