"""The IAM benchmark keeps working (its quick mode, on SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "iam" / "run.py"


def test_quick_benchmark_issues_and_checks_tokens() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["verify"]["onegrid_per_second"] > 0
    assert result["verify"]["scitokens_accepted"] == result["verify"]["tokens"]
    assert result["whoami"]["sequential_per_second"] > 0
    for grant in ("password_grant", "exchange_grant", "refresh_grant"):
        assert result[grant]["requests"] > 0 and result[grant]["p50_ms"] > 0
