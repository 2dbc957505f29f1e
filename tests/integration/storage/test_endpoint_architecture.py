"""The storage endpoint stands alone: a site runs it without OneGrid's database or API,
and every WebDAV method it serves goes through the token check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from endpoint_harness import RunningEndpoint, running_endpoint

from onegrid.storage.endpoint.app import HANDLERS


def test_endpoint_imports_no_database_or_server_code() -> None:
    code = ("import sys, onegrid.storage.endpoint.app, onegrid.storage.endpoint.server;"
            "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'fastapi', 'alembic', "
            "'onegrid.db', 'onegrid.runtime', 'onegrid.api', 'onegrid.catalog', 'onegrid.wms'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def se(live_server: Any, tmp_path: Path) -> Iterator[RunningEndpoint]:
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token) as ep:
        yield ep


@pytest.mark.parametrize("method", sorted(HANDLERS))
def test_every_method_needs_a_token(se: RunningEndpoint, method: str) -> None:
    (se.root / "f").write_bytes(b"x")
    r = httpx.request(method, se.pfn("f"), headers={"Destination": se.pfn("g"), "Source": se.pfn("f")})
    assert r.status_code == 401, (method, r.status_code, r.text)
    assert (se.root / "f").read_bytes() == b"x" and not (se.root / "g").exists()
