"""The storage benchmark keeps working (its quick mode)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "storage" / "run.py"


def test_quick_storage_benchmark_moves_the_bytes_and_reports_ratios(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--size-mb", "16", "--files", "200",
                           "--repeat", "1", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for key in ("put_vs_cp", "get_vs_cp", "tpc_vs_cp", "small_files_per_second", "cp_MBps"):
        assert result[key] > 0, key
    assert result["small_files"] == 200 and result["large_file_bytes"] == 16 * 1024 * 1024
    assert set(result["meets_aims"]) == {"put_vs_cp", "get_vs_cp", "tpc_vs_cp", "small_files_per_second"}
