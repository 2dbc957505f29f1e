"""The transfer benchmark's quick mode runs and reports what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "transfers" / "run.py"


def test_quick_benchmark_moves_every_file_and_prints_json() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--files", "20", "--large-bytes", str(4 << 20)],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    result = json.loads(out)
    small, large = result["small_files"], result["large_file"]
    assert small["states"] == {"DONE": 20} and small["all_bytes_verified"]
    assert small["transfers_per_s"] > 0 and large["gb_per_s"] > 0 and large["cp_gb_per_s"] > 0
    assert large["states"] == {"DONE": 1} and large["bytes"] == 4 << 20
