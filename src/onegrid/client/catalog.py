"""Client calls of onegrid.catalog."""

from __future__ import annotations

from onegrid.client.base import Transport


class CatalogClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport
