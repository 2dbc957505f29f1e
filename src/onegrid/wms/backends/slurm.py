"""Pilots as Slurm jobs: a batch script submitted with `sbatch --parsable`."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from onegrid.errors import Unavailable
from onegrid.wms.backends import PilotRequest


def batch_script(req: PilotRequest, python: str = "python3") -> str:
    q = req.queue
    lines = ["#!/bin/bash", f"#SBATCH --job-name=onegrid-{req.pilot_id}", "#SBATCH --ntasks=1",
             f"#SBATCH --cpus-per-task={q.cores}", f"#SBATCH --output={req.workdir}/{req.pilot_id}.out"]
    if q.ram_mb:
        lines.append(f"#SBATCH --mem={q.ram_mb}M")
    if q.options.get("partition"):
        lines.append(f"#SBATCH --partition={q.options['partition']}")
    if q.options.get("time"):
        lines.append(f"#SBATCH --time={q.options['time']}")
    lines += ["set -euo pipefail",
              # The token is written by the director next to the script, readable only by its owner.
              f"export ONEGRID_PILOT_TOKEN=\"$(cat {shlex.quote(req.workdir)}/{req.pilot_id}.token)\"",
              "exec " + " ".join(shlex.quote(a) for a in req.argv(python))]
    return "\n".join(lines) + "\n"


class SlurmBackend:
    name = "slurm"

    def submit(self, req: PilotRequest) -> str:
        if not shutil.which("sbatch"):
            raise Unavailable("slurm backend: sbatch is not installed")
        work = Path(req.workdir)
        work.mkdir(parents=True, exist_ok=True)
        token = work / f"{req.pilot_id}.token"
        token.write_text(req.token)
        token.chmod(0o600)
        script = work / f"{req.pilot_id}.sh"
        script.write_text(batch_script(req, sys.executable))
        out = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True, text=True, check=True)
        return out.stdout.strip().split(";")[0]

    def alive(self, refs: Sequence[str]) -> set[str]:
        if not refs or not shutil.which("squeue"):
            return set()
        out = subprocess.run(["squeue", "-h", "-o", "%i", "-j", ",".join(refs)], capture_output=True, text=True)
        return {line.strip() for line in out.stdout.splitlines() if line.strip()}
