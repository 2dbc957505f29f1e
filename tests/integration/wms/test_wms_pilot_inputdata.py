"""The pilot reads input data through the catalogue from real HTTP endpoints on loopback:
its own site's replica first, the adler32 checked, the next replica on a mismatch."""

from __future__ import annotations

import functools
import http.server
import threading
import zlib
from pathlib import Path
from urllib.parse import urlparse

import pytest

from gridtest import LiveServer
from onegrid.client import OneGridClient
from onegrid.wms.pilot.catalog_input import CatalogInputData


@pytest.fixture
def http_dir(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, server.server_address[1]
    server.shutdown()


def test_pilot_fetches_inputs_from_the_best_replica_with_checksum_fallback(
        live_server: LiveServer, root_token: str, http_dir: tuple[Path, int], tmp_path: Path) -> None:
    root, port = http_dir
    content = b"event data " * 1000
    adler = f"{zlib.adler32(content) & 0xFFFFFFFF:08x}"
    with OneGridClient(live_server.url, root_token) as c:
        cat = c.catalog
        cat.add_scope("belle", "root")
        for rse, site in (("KEK-DISK", "KEK"), ("DESY-DISK", "DESY")):
            cat.add_rse(rse)
            cat.set_rse_attribute(rse, "site", site)
            cat.add_protocol(rse, "http", "127.0.0.1", port, f"/{rse}")
        cat.add_replicas("KEK-DISK", [{"scope": "belle", "name": "/belle/raw/f1", "bytes": len(content),
                                       "adler32": adler}])
        cat.add_replicas("DESY-DISK", [{"scope": "belle", "name": "/belle/raw/f1", "bytes": len(content),
                                        "adler32": adler}])
        for rse, data in (("KEK-DISK", b"corrupted"), ("DESY-DISK", content)):
            pfn = cat.lfns2pfns(rse, [{"scope": "belle", "name": "/belle/raw/f1"}], scheme="http", operation="read")
            path = root / urlparse(next(iter(pfn.values()))).path.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        work = tmp_path / "job"
        work.mkdir()
        CatalogInputData(c, site="KEK").fetch(["belle:/belle/raw/f1"], work)
        assert (work / "f1").read_bytes() == content
        (root / "DESY-DISK").rename(root / "gone")
        with pytest.raises(RuntimeError, match="could not be read: KEK-DISK: adler32"):
            CatalogInputData(c, site="KEK").fetch(["/belle/raw/f1"], work)
