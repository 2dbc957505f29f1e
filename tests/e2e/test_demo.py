"""`onegrid demo` runs its whole story to the summary, and leaves no process behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridtest import free_port

pytestmark = pytest.mark.slow


def test_the_demo_runs_to_its_summary(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "onegrid", "demo", "--port", str(port), "--data-dir", str(tmp_path / "grid")],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "120"})
    out = proc.stdout + proc.stderr
    artifacts = Path(os.environ.get("ONEGRID_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "demo.txt").write_text(out)
    assert proc.returncode == 0, out[-4000:]
    for act in ("1. RAW data arrives at KEK", "2. Monte-Carlo production", "4. A bad day", "5. Summary"):
        assert act in out, out[-4000:]
    assert "grid stopped" in out
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in ps, "a process of the demo's grid is still running"
