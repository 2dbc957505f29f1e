"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gridtest import RUCIO


@pytest.fixture
def rucio(live_server, tmp_path: Path) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Run the stock `rucio` CLI as root (password login) against the live server and
    return its output; `.env` is the environment (for `gridtest.rucio_api`)."""
    cfg = tmp_path / "rucio.cfg"
    cfg.write_text(
        "[client]\n"
        f"rucio_host = {live_server.url}\nauth_host = {live_server.url}\n"
        "auth_type = userpass\nusername = root\npassword = root-password\naccount = root\n"
        f"request_retries = 1\nauth_token_file_path = {tmp_path / 'token'}\n"
    )
    env = {**os.environ, "RUCIO_CONFIG": str(cfg), "HOME": str(tmp_path)}

    def run(*args: str, ok: bool = True) -> str:
        proc = subprocess.run([str(RUCIO), *args], capture_output=True, text=True, env=env, timeout=60)
        if ok:
            assert proc.returncode == 0, f"rucio {' '.join(args)}: {proc.stdout}{proc.stderr}"
        return proc.stdout + proc.stderr

    run.env = env  # type: ignore[attr-defined]
    run.live_server = live_server  # type: ignore[attr-defined]
    return run
