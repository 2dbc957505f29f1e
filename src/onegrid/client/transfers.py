"""Client calls of onegrid.transfers."""

from __future__ import annotations

from onegrid.client.base import Transport


class TransfersClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport
