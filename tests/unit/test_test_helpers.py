"""Tests import shared helpers from `gridtest`, never from `conftest`: with conftest files in
several folders, `conftest` is whichever pytest imported last, and imports break by order."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_test_module_imports_from_conftest() -> None:
    offenders = [str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py")
                 if re.search(r"^\s*(from conftest import|import conftest)", p.read_text(), re.M)]
    assert offenders == [], f"import from gridtest instead: {offenders}"
