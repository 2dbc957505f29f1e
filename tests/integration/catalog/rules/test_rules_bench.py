"""The rules benchmark keeps working (its quick mode, on SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[4] / "bench" / "rules" / "run.py"


def test_quick_rules_benchmark_makes_every_lock() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--targets", "sqlite"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)["results"]
    assert result["target"] == "onegrid-sqlite", result
    assert result["files"] == 500
    assert result["rule_with_transfers"]["state"] == "REPLICATING"
    assert result["rule_with_transfers"]["locks_per_second"] > 0
    assert result["rule_on_existing_replicas"]["locks_per_second"] > 0
