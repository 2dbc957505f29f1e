"""Transfers end to end as an operator runs them: `onegrid storage` processes for two RSEs,
`onegrid daemon conveyor` as its own process, jobs submitted and watched with the
`onegrid transfer` CLI in subprocesses; the daemon stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx

from gridtest import free_port, run_cli
from onegrid.catalog import paths
from onegrid.client import OneGridClient


def _storage(name: str, root: Path, issuer: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "onegrid", "storage", "--root", str(root), "--port", str(port),
                             "--base-path", "/belle", "--issuer", issuer, "--name", name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            return url, proc
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.1)


def test_conveyor_daemon_fulfils_jobs_submitted_with_the_cli(live_server, root_token: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        src_url, p = _storage("KEK-DISK", tmp_path / "kek", live_server.url)
        procs.append(p)
        dst_url, p = _storage("DESY-DISK", tmp_path / "desy", live_server.url)
        procs.append(p)
        client = OneGridClient(live_server.url, root_token)
        cat = client.catalog
        for name, url, site in (("KEK-DISK", src_url, "KEK"), ("DESY-DISK", dst_url, "DESY")):
            cat.add_rse(name)
            cat.set_rse_attribute(name, "site", site)
            cat.add_protocol(name, "http", "127.0.0.1", int(url.rsplit(":", 1)[1]), "/belle")
        cat.add_scope("belle", "root")
        files = {f"run{i}.root": os.urandom(20_000 + i) for i in range(10)}
        for name, data in files.items():
            disk = tmp_path / "kek" / paths.deterministic_path("belle", name).lstrip("/")
            disk.parent.mkdir(parents=True, exist_ok=True)
            disk.write_bytes(data)
        cat.add_replicas("KEK-DISK", [{"scope": "belle", "name": n, "bytes": len(d),
                                       "adler32": f"{zlib.adler32(d) & 0xFFFFFFFF:08x}"} for n, d in files.items()])
        env = {"ONEGRID_SERVER": live_server.url, "ONEGRID_TOKEN": root_token}
        out = run_cli("transfer", "submit", *[f"belle:{n}" for n in files], "--rse", "DESY-DISK",
                      "--activity", "Data Consolidation", "--json", env=env).stdout
        job_id = json.loads(out)[0]["job_id"]
        daemon_env = {**os.environ, "ONEGRID_DATABASE_URL": live_server.runtime.settings.effective_database_url,
                      "ONEGRID_SERVER_URL": live_server.url, "ONEGRID_DATA_DIR": str(tmp_path / "conveyor")}
        conveyor = subprocess.Popen([sys.executable, "-m", "onegrid", "daemon", "conveyor"], env=daemon_env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(conveyor)
        deadline = time.monotonic() + 120
        status: dict = {}
        while time.monotonic() < deadline:
            status = json.loads(run_cli("transfer", "status", job_id, "--json", env=env).stdout)
            if status["job_state"] in ("FINISHED", "FAILED", "FINISHEDDIRTY"):
                break
            time.sleep(0.5)
        assert status["job_state"] == "FINISHED", status
        assert {f["file_state"] for f in status["files"]} == {"FINISHED"}
        for name, data in files.items():
            assert (tmp_path / "desy" / paths.deterministic_path("belle", name).lstrip("/")).read_bytes() == data
        links = json.loads(run_cli("transfer", "links", "--json", env=env).stdout)
        assert [(x["source"], x["destination"]) for x in links] == [("KEK-DISK", "DESY-DISK")]
        conveyor.send_signal(signal.SIGTERM)
        assert conveyor.wait(timeout=30) == 0, conveyor.stderr.read().decode() if conveyor.stderr else ""
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
