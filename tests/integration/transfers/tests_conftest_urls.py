"""Which databases the tests run on (mirrors tests/conftest.py)."""

from __future__ import annotations

import os

POSTGRES = os.environ.get("ONEGRID_TEST_POSTGRES_URL")
