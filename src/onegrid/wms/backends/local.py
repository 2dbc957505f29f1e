"""Pilots as local subprocesses (`onegrid pilot`), the one-machine default."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from onegrid.wms.backends import PilotRequest


class LocalBackend:
    name = "local"

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def submit(self, req: PilotRequest) -> str:
        Path(req.workdir).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **req.env, "ONEGRID_PILOT_TOKEN": req.token}
        with open(Path(req.workdir) / f"{req.pilot_id}.log", "ab") as log:
            proc = subprocess.Popen(req.argv(sys.executable), stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
        self.procs[str(proc.pid)] = proc
        return str(proc.pid)

    def alive(self, refs: Sequence[str]) -> set[str]:
        out = set()
        for ref in refs:
            proc = self.procs.get(ref)
            if proc is not None:
                if proc.poll() is None:
                    out.add(ref)
                continue
            try:  # a pilot started by an earlier director process
                os.kill(int(ref), 0)
                stat = Path(f"/proc/{ref}/stat").read_text()
                if stat[stat.rfind(")") + 2] != "Z":
                    out.add(ref)
            except (OSError, ValueError):
                pass
        return out

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
