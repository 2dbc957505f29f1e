"""Everything a request handler needs about its endpoint, wired once by the app factory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from onegrid.clock import Clock
from onegrid.storage.endpoint.auth import Authorizer
from onegrid.storage.endpoint.checksums import ChecksumStore
from onegrid.storage.endpoint.config import EndpointConfig
from onegrid.storage.endpoint.paths import PathResolver
from onegrid.storage.endpoint.srr import SpaceUsage
from onegrid.storage.settings import StorageSettings

if TYPE_CHECKING:
    from onegrid.storage.tape.backend import TapeBackend

log = logging.getLogger("onegrid.storage.endpoint")


@dataclass
class Endpoint:
    config: EndpointConfig
    clock: Clock
    resolver: PathResolver
    store: ChecksumStore
    usage: SpaceUsage
    auth: Authorizer
    tape: TapeBackend | None = None

    @property
    def settings(self) -> StorageSettings:
        return self.config.settings
