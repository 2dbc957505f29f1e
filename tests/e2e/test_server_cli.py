"""The foundation's commands as a user runs them: settings, migrations, a server on IPv6
and IPv4, one-line CLI errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gridtest import free_port, run_cli


def test_config_show_merges_file_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "onegrid.toml"
    cfg.write_text('log_level = "DEBUG"\n[wms]\nmax_reschedules = 5\n')
    env = {"ONEGRID_DATA_DIR": str(tmp_path / "data"), "ONEGRID_WMS__HEARTBEAT_SECONDS": "7"}
    shown = json.loads(run_cli("--config", str(cfg), "config", "show", env=env).stdout)
    assert shown["log_level"] == "DEBUG" and shown["wms"]["max_reschedules"] == 5
    assert shown["wms"]["heartbeat_seconds"] == 7
    assert shown["effective_database_url"] == f"sqlite:///{tmp_path / 'data' / 'onegrid.db'}"


def test_a_bad_setting_is_one_line_and_a_failure(tmp_path: Path) -> None:
    proc = run_cli("config", "show", env={"ONEGRID_WMS__MAX_RESCHEDULES": "many"}, check=False)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "max_reschedules" in proc.stderr


def test_an_unreachable_server_is_one_line_and_a_failure() -> None:
    proc = run_cli("did", "list", "belle", env={"ONEGRID_SERVER": f"http://127.0.0.1:{free_port()}",
                                                "ONEGRID_TOKEN": "x"}, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1


def test_db_upgrade_then_two_server_workers_on_ipv6_and_ipv4(tmp_path: Path) -> None:
    env = {**os.environ, "ONEGRID_DATA_DIR": str(tmp_path)}
    run_cli("db", "upgrade", env=env)
    assert (tmp_path / "onegrid.db").exists()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "onegrid", "server", "--host", "::", "--port", str(port),
                               "--workers", "2"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r6 = httpx.get(f"http://[::1]:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not answer on [::1]"
                time.sleep(0.2)
        assert r6.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        assert httpx.get(f"http://[::1]:{port}/openapi.json", timeout=5).json()["info"]["title"]
        r = httpx.post(f"http://[::1]:{port}/wms/jobs", json={"Executable": 1}, timeout=5)
        assert r.status_code in (400, 401) and set(r.json()) >= {"error", "message"}
    finally:
        server.terminate()
        server.wait(timeout=20)
