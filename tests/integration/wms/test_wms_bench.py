"""The WMS benchmark's quick mode runs and reports its figures (so the benchmark cannot rot)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "wms" / "run.py"


def test_quick_benchmark_submits_and_matches_every_job() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--quick", "--no-pg"], capture_output=True, text=True,
                         timeout=300, check=True)
    result = json.loads(out.stdout)
    sqlite = result["sqlite"]
    assert sqlite["submit"]["task_queues"] == 100 and sqlite["submit"]["jobs_per_s"] > 0
    assert sqlite["match"]["matched"] == 2000
    assert sqlite["http_match"]["matched"] == sqlite["http_match"]["requests"]
