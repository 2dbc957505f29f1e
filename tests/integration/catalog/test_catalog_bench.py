"""The catalogue benchmark keeps working (its quick mode, on SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "catalog" / "run.py"


def test_quick_benchmark_registers_lists_and_queries() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--targets", "sqlite"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)["results"]
    assert result["target"] == "onegrid-sqlite", result
    assert result["register"]["files_per_second"] > 0
    assert result["list_dataset_replicas"]["files"] == 1000
    assert result["metadata_query"]["matched"] == result["metadata_query"]["expected"]
