"""Storage fixtures: nginx's WebDAV module as a storage that we did not write.

A private nginx runs as a subprocess (`daemon off`) with a generated configuration in the
test's temporary folder, on a free loopback port. It speaks PUT/DELETE/MKCOL/COPY/MOVE and,
with the dav-ext module, PROPFIND/OPTIONS; it reports no checksum, which is the point:
the client must cope with servers that give no `Digest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridtest import DAV_EXT_CANDIDATES, NGINX, nginx_dav


@dataclass
class Nginx:
    url: str  # http://127.0.0.1:PORT/data (the WebDAV root)
    root: Path  # the folder behind /data


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    """A running nginx WebDAV server; skipped with a reason when nginx is not installed."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: nginx libnginx-mod-http-dav-ext)")
    with nginx_dav(tmp_path) as (base, root):
        yield Nginx(url=base + "/data", root=root)


@pytest.fixture
def nginx_has_propfind() -> bool:
    return any(Path(m).exists() for m in DAV_EXT_CANDIDATES)
