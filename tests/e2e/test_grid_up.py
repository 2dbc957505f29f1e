"""`onegrid up` end to end: start a whole grid, use it, stop it with Ctrl-C, start it again
on the same data directory and find everything where it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridtest import free_port
from onegrid.client import OneGridClient
from onegrid.grid.up import DEMO_USER, DEMO_USER_PASSWORD

pytestmark = pytest.mark.slow


class UpProcess:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.log = data_dir.parent / f"up-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "onegrid", "up", "--data-dir", str(data_dir), "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})

    def wait_up(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if "OneGrid is up" in text:
                return
            assert self.proc.poll() is None, f"onegrid up exited:\n{text}"
            time.sleep(0.5)
        raise AssertionError(f"onegrid up did not come up:\n{self.log.read_text(errors='replace')}")

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        return self.proc.wait(timeout=120)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def grid_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "grid"


def login(url: str, account: str, password: str) -> OneGridClient:
    r = httpx.post(f"{url}/token", data={"grant_type": "password", "username": account, "password": password,
                                          "scope": "storage.read:/ storage.create:/ compute.read compute.create"})
    assert r.status_code == 200, r.text
    return OneGridClient(url, r.json()["access_token"])


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return False
    return True


def test_up_starts_a_grid_that_stops_on_ctrl_c_resumes_and_dies_with_its_parent(grid_dir: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    up = UpProcess(grid_dir, port)
    try:
        up.wait_up()
        banner = up.log.read_text()
        password = (grid_dir / "root-password").read_text().strip()
        assert password in banner and url in banner
        layout = json.loads((grid_dir / "grid.json").read_text())
        storage_urls = {rse: f"http://127.0.0.1:{p}" for rse, p in layout["storage_ports"].items()}
        for rse, surl in storage_urls.items():
            srr = httpx.get(f"{surl}/.well-known/wlcg-srr", timeout=10)
            assert srr.status_code == 200, (rse, srr.text)
        with login(url, DEMO_USER, DEMO_USER_PASSWORD) as alice:
            rses = {r["rse"] for r in alice.catalog.list_rses()}
            assert rses == set(storage_urls)
            assert {r["rse"] for r in alice.catalog.list_rses("raw_centre=True")} == {
                "BNL-TAPE", "UVIC-TAPE", "KIT-TAPE", "DESY-TAPE", "IN2P3-TAPE", "CNAF-TAPE"}
            alice.catalog.add_dataset("user.alice", "kept-across-restarts")
            assert len(alice.wms.queues()) == 10
        assert up.interrupt() == 0
        assert not answers(f"{url}/health")
        assert not any(answers(f"{u}/.well-known/wlcg-srr") for u in storage_urls.values())

        again = UpProcess(grid_dir, port)
        try:
            again.wait_up()
            assert json.loads((grid_dir / "grid.json").read_text()) == layout
            assert (grid_dir / "root-password").read_text().strip() == password
            with login(url, DEMO_USER, DEMO_USER_PASSWORD) as alice:
                assert alice.catalog.get_did("user.alice", "kept-across-restarts")["type"] == "DATASET"
                assert len(alice.wms.queues()) == 10
            again.proc.kill()  # SIGKILL: no chance to stop anything itself
            again.proc.wait()
            deadline = time.monotonic() + 60
            while answers(f"{url}/health") or any(answers(f"{u}/.well-known/wlcg-srr") for u in storage_urls.values()):
                assert time.monotonic() < deadline, "the grid's processes outlived a killed `onegrid up`"
                time.sleep(0.5)
        finally:
            again.kill()
    finally:
        up.kill()
