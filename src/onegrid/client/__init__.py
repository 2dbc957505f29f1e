"""The one typed HTTP client that the CLI and the pilot use to reach the grid.

`OneGridClient` holds one `Transport` and offers each subsystem's calls under its name:
`client.iam`, `client.catalog`, `client.storage`, `client.transfers`, `client.wms`.
Each subsystem's calls live in their own module here.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from onegrid.client.base import Transport

if TYPE_CHECKING:
    from onegrid.client.catalog import CatalogClient
    from onegrid.client.iam import IamClient
    from onegrid.client.rules import RulesClient
    from onegrid.client.transfers import TransfersClient
    from onegrid.client.wms import WmsClient


class OneGridClient:
    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60) -> None:
        self.transport = Transport(url, token, timeout=timeout)

    @property
    def url(self) -> str:
        return self.transport.url

    @cached_property
    def iam(self) -> IamClient:
        from onegrid.client.iam import IamClient

        return IamClient(self.transport)

    @cached_property
    def catalog(self) -> CatalogClient:
        from onegrid.client.catalog import CatalogClient

        return CatalogClient(self.transport)

    @cached_property
    def rules(self) -> RulesClient:
        from onegrid.client.rules import RulesClient

        return RulesClient(self.transport)

    @cached_property
    def transfers(self) -> TransfersClient:
        from onegrid.client.transfers import TransfersClient

        return TransfersClient(self.transport)

    @cached_property
    def wms(self) -> WmsClient:
        from onegrid.client.wms import WmsClient

        return WmsClient(self.transport)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> OneGridClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
