"""Run `onegrid` in-process through Typer's runner (fast: no interpreter start per call)."""

from __future__ import annotations

import os

from typer.testing import CliRunner


def cli(*args: str, env: dict[str, str]) -> str:
    from onegrid.cli import app

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert result.exit_code == 0, result.output
    return result.output
