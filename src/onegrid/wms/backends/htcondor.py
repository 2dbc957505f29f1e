"""Pilots as HTCondor jobs: the submit description, handed to the htcondor2 bindings when
installed, else to `condor_submit`."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from onegrid.errors import Unavailable
from onegrid.wms.backends import PilotRequest


def submit_description(req: PilotRequest, python: str = "python3") -> dict[str, str]:
    """The HTCondor submit description of one pilot (the token travels in the environment
    file, never on the command line)."""
    argv = req.argv(python)
    q = req.queue
    desc = {
        "universe": "vanilla",
        "executable": argv[0],
        "arguments": " ".join(shlex.quote(a) for a in argv[1:]),
        "request_cpus": str(q.cores),
        "output": f"{req.workdir}/{req.pilot_id}.out",
        "error": f"{req.workdir}/{req.pilot_id}.err",
        "log": f"{req.workdir}/pilots.log",
        "environment": f'"ONEGRID_PILOT_TOKEN={req.token}"',
        "+OneGridPilotId": f'"{req.pilot_id}"',
        "+OneGridQueue": f'"{q.name}"',
    }
    if q.ram_mb:
        desc["request_memory"] = str(q.ram_mb)
    for key, value in q.options.items():
        if key.startswith("condor_"):
            desc[key.removeprefix("condor_")] = str(value)
    return desc


def render(desc: dict[str, str]) -> str:
    return "\n".join(f"{k} = {v}" for k, v in desc.items()) + "\nqueue 1\n"


class HTCondorBackend:
    name = "htcondor"

    def submit(self, req: PilotRequest) -> str:
        desc = submit_description(req, sys.executable)
        try:
            import htcondor2  # type: ignore[import-not-found]
        except ImportError:
            htcondor2 = None
        if htcondor2 is not None:
            result = htcondor2.Schedd().submit(htcondor2.Submit(desc))
            return f"{result.cluster()}.0"
        if not shutil.which("condor_submit"):
            raise Unavailable("htcondor backend: neither the htcondor2 bindings nor condor_submit are installed")
        path = Path(req.workdir) / f"{req.pilot_id}.sub"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(desc))
        out = subprocess.run(["condor_submit", "-terse", str(path)], capture_output=True, text=True, check=True)
        return out.stdout.split()[0].split("-")[0]

    def alive(self, refs: Sequence[str]) -> set[str]:
        if not refs or not shutil.which("condor_q"):
            return set()
        out = subprocess.run(["condor_q", "-af", "ClusterId", "ProcId", *[r.split(".")[0] for r in refs]],
                             capture_output=True, text=True)
        return {f"{c}.{p}" for c, p in (line.split() for line in out.stdout.splitlines() if line.strip())}
