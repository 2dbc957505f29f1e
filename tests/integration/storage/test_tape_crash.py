"""`onegrid storage --tape` killed with SIGKILL in the middle of a recall: after a restart the
stage request is still there, its recall starts over, and the files come back intact."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

API = "/api/v1/tape"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    """Generous: two cores are shared by many test runs, and a cold `python -m onegrid` is slow."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{condition.__name__} not reached in {timeout} s"
        time.sleep(0.05)


@contextmanager
def storage_process(tmp: Path, port: int, issuer: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ONEGRID_DATA_DIR": str(tmp / "data"),
        "ONEGRID_STORAGE__TAPE__MIGRATION_DELAY": "0.1",
        "ONEGRID_STORAGE__TAPE__BUFFER_CAPACITY": "500",
        "ONEGRID_STORAGE__TAPE__HIGH_WATERMARK": "0.5",
        "ONEGRID_STORAGE__TAPE__LOW_WATERMARK": "0.1",
        "ONEGRID_STORAGE__TAPE__MOUNT_LATENCY": "2",
        "ONEGRID_STORAGE__TAPE__SEEK_TIME": "0",
        "ONEGRID_STORAGE__TAPE__THROUGHPUT": "1000000",
        "ONEGRID_STORAGE__TAPE__TICK": "0.05",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onegrid",
            "storage",
            "--root",
            str(tmp / "se"),
            "--port",
            str(port),
            "--base-path",
            "/belle",
            "--issuer",
            issuer,
            "--tape",
            "--tape-dir",
            str(tmp / "tapes"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / f"se-{port}.log", "ab"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, (tmp / f"se-{port}.log").read_text()
        try:
            return httpx.get(url + "/.well-known/wlcg-tape-rest-api", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_a_killed_tape_endpoint_resumes_its_stage_requests(live_server: Any, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = live_server.token(
        "root", scopes=["storage.create:/", "storage.read:/", "storage.stage:/"], audience=url
    )
    data = {f"raw/f{i}": os.urandom(300) for i in range(2)}  # each alone is above the high watermark
    paths = [f"/belle/{n}" for n in data]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:

        def localities() -> set[str]:
            return {
                e.get("locality", "?") for e in http.post(f"{API}/archiveinfo", json={"paths": paths}).json()
            }

        def states(request_id: str) -> list[str]:
            return [f["state"] for f in http.get(f"{API}/stage/{request_id}").json()["files"]]

        with storage_process(tmp_path, port, live_server.url) as proc:
            for name, body in data.items():
                assert http.put(f"/belle/{name}", content=body).status_code == 201
            wait_for(lambda: localities() == {"TAPE"})  # migrated and evicted
            r = http.post(
                f"{API}/stage", json={"files": [{"path": p, "diskLifetime": "PT1H"} for p in paths]}
            )
            request_id = r.json()["requestId"]
            wait_for(lambda: states(request_id) == ["STARTED", "STARTED"])
            proc.send_signal(signal.SIGKILL)  # mid-mount: 2 s of mount latency
            proc.wait(timeout=10)

        with storage_process(tmp_path, port, live_server.url):
            assert states(request_id) in (["SUBMITTED", "SUBMITTED"], ["STARTED", "STARTED"])
            wait_for(lambda: states(request_id) == ["COMPLETED", "COMPLETED"])
            for name, body in data.items():
                assert http.get(f"/belle/{name}").content == body
            assert localities() == {"DISK_AND_TAPE"}
