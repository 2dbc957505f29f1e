"""`onegrid storage` as a real process: serves, logs one access line per request, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_onegrid_storage_process_serves_with_tokens_and_logs_access(live_server: Any, tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "storage.log"
    env = {**os.environ, "ONEGRID_CONFIG": "", "ONEGRID_DATA_DIR": str(tmp_path / "data")}
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "onegrid", "storage", "--root", str(tmp_path / "root"), "--port", str(port),
             "--base-path", "/belle", "--issuer", live_server.url, "--name", "CLI-SE", "--capacity", "1000000"],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                srr = httpx.get(url + "/.well-known/wlcg-srr", timeout=2).json()
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert srr["storageservice"]["name"] == "CLI-SE"
        assert srr["storageservice"]["storagecapacity"]["online"]["totalsize"] == 1_000_000
        token = live_server.token("alice", scopes=["storage.create:/user", "storage.read:/user"], audience=url)
        auth = {"Authorization": f"Bearer {token}"}
        data = b"hello grid\n" * 1000
        assert httpx.put(f"{url}/belle/user/alice/f", content=data, headers=auth).status_code == 201
        r = httpx.get(f"{url}/belle/user/alice/f", headers={**auth, "Want-Digest": "adler32"})
        assert r.content == data and r.headers["digest"] == f"adler32={zlib.adler32(data):08x}"
        assert (tmp_path / "root" / "user" / "alice" / "f").read_bytes() == data
        assert httpx.get(f"{url}/belle/user/alice/f").status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    text = log.read_text()
    assert 'alice "PUT /belle/user/alice/f" 201 0' in text
    assert f'alice "GET /belle/user/alice/f" 200 {len(data)}' in text
    assert '- "GET /belle/user/alice/f" 401' in text
