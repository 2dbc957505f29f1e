"""Third-party copy with XRootD's HTTP server, a storage we did not write: our endpoint
pulls from it and pushes to it (plain GET/PUT on its side, adler32 from its Digest)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from endpoint_harness import RunningEndpoint, parse_tpc_body, running_endpoint

XROOTD = shutil.which("xrootd")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def xrootd_http() -> Iterator[tuple[str, Path]]:
    if XROOTD is None:
        pytest.skip("xrootd is not installed (Debian: xrootd-server xrootd-plugins)")
    base = Path(tempfile.mkdtemp(prefix="onegrid-xrd-", dir="/tmp"))
    data, run = base / "data", base / "run"
    data.mkdir()
    run.mkdir()
    port, http_port = _free_port(), _free_port()
    cfg = base / "xrd.cfg"
    cfg.write_text(f"""all.export /
oss.localroot {data}
xrd.port {port}
xrd.protocol XrdHttp:{http_port} libXrdHttp.so
xrootd.chksum adler32
all.adminpath {run}
all.pidpath {run}
""")
    argv = [XROOTD, "-c", str(cfg), "-l", str(base / "xrd.log")]
    if os.geteuid() == 0:  # xrootd refuses to run as root
        user = pwd.getpwnam("xrootd")
        for p in (base, data, run, cfg):
            os.chown(p, user.pw_uid, user.pw_gid)
        argv[1:1] = ["-R", "xrootd"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.skip(f"xrootd did not start: {(base / 'xrd.log').read_text()[-1000:] if (base / 'xrd.log').exists() else ''}")
            time.sleep(0.1)
    try:
        yield url, data
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def se(live_server: Any, tmp_path: Path) -> Iterator[RunningEndpoint]:
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token) as ep:
        yield ep


def test_pull_from_and_push_to_xrootd(se: RunningEndpoint, xrootd_http: tuple[str, Path]) -> None:
    url, data_dir = xrootd_http
    payload = os.urandom(3 * 1024 * 1024 + 1)
    # Written through xrootd itself so that it owns the file.
    assert httpx.put(f"{url}/in.dat", content=payload).status_code in (200, 201)
    with se.client("storage.create:/", "storage.read:/") as c:
        r = c.request("COPY", se.pfn("from-xrootd"), headers={"Source": f"{url}/in.dat"}, timeout=60)
        assert parse_tpc_body(r.text)[1] == "success: Created"
        assert (se.root / "from-xrootd").read_bytes() == payload
        r = c.request("COPY", se.pfn("from-xrootd"), headers={"Destination": f"{url}/out/copy.dat"}, timeout=60)
        assert parse_tpc_body(r.text)[1] == "success: Created"
    assert (data_dir / "out" / "copy.dat").read_bytes() == payload
