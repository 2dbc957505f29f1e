from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from transfer_harness import Grid


@pytest.fixture
def grid(live_server, tmp_path: Path) -> Iterator[Grid]:  # type: ignore[no-untyped-def]
    g = Grid(server=live_server, tmp=tmp_path / "grid")
    g.ensure_scope("belle")
    with g.stack:
        yield g
