"""The monitor benchmark's quick mode runs and times every endpoint (so it cannot rot)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "monitor" / "run.py"


def test_quick_benchmark_times_every_dashboard_endpoint() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-pg"], capture_output=True, text=True,
                         timeout=300, check=True)
    result = json.loads(out.stdout)
    timed = result["sqlite"]["endpoints_ms"]
    assert "/metrics" in timed and "/monitor/api/overview" in timed and len(timed) >= 15
    assert all(t["median"] > 0 for t in timed.values())
    assert result["sqlite"]["metrics_bytes"] > 10_000
