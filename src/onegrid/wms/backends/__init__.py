"""Compute backends behind one small interface: submit pilots, ask which are alive.

`local` runs `onegrid pilot` subprocesses (the one-machine default); `htcondor` and
`slurm` write the submit description / batch script for the pilot and hand it to the batch
system (htcondor2 bindings or condor_submit; sbatch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from onegrid.errors import InvalidInput
from onegrid.wms.models import ComputeQueue


@dataclass(frozen=True)
class PilotRequest:
    """Everything a backend needs to start one pilot."""

    pilot_id: str
    queue: ComputeQueue
    server: str
    token: str
    workdir: str
    idle_seconds: float
    extra_args: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def argv(self, python: str) -> list[str]:
        q = self.queue
        args = [python, "-m", "onegrid", "pilot", "--server", self.server, "--site", q.site, "--queue", q.name,
                "--cores", str(q.cores), "--platform", q.platform, "--idle", str(self.idle_seconds),
                "--pilot-id", self.pilot_id, "--workdir", f"{self.workdir}/{self.pilot_id}"]
        if q.tags:
            args += ["--tags", ",".join(q.tags)]
        if q.ram_mb:
            args += ["--ram-mb", str(q.ram_mb)]
        images = q.options.get("containers")
        if images:
            args += ["--containers", str(images)]
        return [*args, *self.extra_args]


class ComputeBackend(Protocol):
    name: str

    def submit(self, req: PilotRequest) -> str:
        """Start one pilot; returns the backend's reference for it."""
        ...

    def alive(self, refs: Sequence[str]) -> set[str]:
        """Which of these references are still queued or running."""
        ...


def backend_for(name: str) -> ComputeBackend:
    if name == "local":
        from onegrid.wms.backends.local import LocalBackend

        return LocalBackend()
    if name == "htcondor":
        from onegrid.wms.backends.htcondor import HTCondorBackend

        return HTCondorBackend()
    if name == "slurm":
        from onegrid.wms.backends.slurm import SlurmBackend

        return SlurmBackend()
    raise InvalidInput(f"unknown compute backend {name!r}; choose local, htcondor or slurm")
