"""Client calls of onegrid.iam."""

from __future__ import annotations

from onegrid.client.base import Transport


class IamClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport
