"""Architecture rule of the tape emulation: the decisions are pure (every API route
authorizing is checked in tests/integration/storage/test_tape_api.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import onegrid.storage.tape

PURE = ("buffer.py", "recall.py", "settings.py")
BANNED = (
    "os",
    "sqlite3",
    "pathlib",
    "shutil",
    "asyncio",
    "threading",
    "httpx",
    "starlette",
    "time",
    "onegrid.clock",
    "onegrid.storage.tape.state",
    "onegrid.storage.tape.backend",
)


def test_scheduler_and_buffer_policy_do_no_io_and_read_no_clock() -> None:
    root = Path(onegrid.storage.tape.__file__).parent
    for name in PURE:
        tree = ast.parse((root / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        for banned in BANNED:
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), (
                f"{name} imports {banned}"
            )
