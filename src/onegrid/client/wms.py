"""Client calls of onegrid.wms."""

from __future__ import annotations

from onegrid.client.base import Transport


class WmsClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport
