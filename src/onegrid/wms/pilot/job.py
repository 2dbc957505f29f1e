"""One job on the worker node: working directory, sandbox, payload process, outputs."""

from __future__ import annotations

import contextlib
import fnmatch
import io
import os
import shlex
import shutil
import signal
import sys
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onegrid.client.wms import WmsClient
from onegrid.wms.models import JobDescription
from onegrid.wms.pilot import container
from onegrid.wms.pilot.steps import InputDataStep, OutputDataStep
from onegrid.wms.pilot.usage import group_usage


@dataclass
class RunningJob:
    job_id: int
    desc: JobDescription
    processors: int
    workdir: Path
    owner: str
    proc_pid: int = 0
    started: float = 0.0
    last_heartbeat: float = 0.0
    cpu: float = 0.0
    memory_mb: float = 0.0
    kill_reason: str | None = None
    exit_code: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def unpack(tarball: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:*") as tar:
        tar.extractall(dest, filter="data")


def pack(workdir: Path, patterns: list[str]) -> bytes | None:
    names = sorted({p.name for p in workdir.iterdir() if p.is_file()
                    and (p.name == "std.out" or any(fnmatch.fnmatch(p.name, pat) for pat in patterns))})
    if not names:
        return None
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in names:
            tar.add(workdir / name, arcname=name)
    return buf.getvalue()


def payload_argv(desc: JobDescription, workdir: Path) -> list[str]:
    exe = desc.executable
    if exe in ("python", "python3"):
        exe = sys.executable
    elif (workdir / exe).is_file():
        (workdir / exe).chmod(0o755)
        exe = str(workdir / exe)
    return [exe, *shlex.split(desc.arguments)]


def start(wms: WmsClient, job: RunningJob, *, pilot_id: str, node_platform: str, job_platform: str,
          images: Mapping[str, str], inputs: InputDataStep, now: float) -> None:
    """Prepare and launch the payload; raises RuntimeError with the reason it cannot run."""
    job.workdir.mkdir(parents=True, exist_ok=True)
    for ref in job.desc.input_sandbox:
        if ref.startswith("SB:"):
            unpack(wms.download_sandbox(ref), job.workdir)
    inputs.fetch(job.desc.input_data, job.workdir)
    apptainer = shutil.which("apptainer")
    launch = container.decide(job_platform, node_platform, images, apptainer)
    if launch.reason.startswith("cannot"):
        raise RuntimeError(launch.reason)
    argv = container.command(payload_argv(job.desc, job.workdir), launch, apptainer, str(job.workdir))
    env = {**os.environ, **job.desc.environment,
           "ONEGRID_JOB_ID": str(job.job_id), "ONEGRID_JOB_PROCESSORS": str(job.processors),
           "OMP_NUM_THREADS": str(job.processors),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("ONEGRID_PILOT_TOKEN", None)
    wms.set_status(job.job_id, pilot_id, "Running", "Application", application_status="Starting")
    with (job.workdir / "std.out").open("wb") as out:
        import subprocess

        proc = subprocess.Popen(argv, cwd=job.workdir, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    job.proc_pid = proc.pid
    job.started = job.last_heartbeat = now
    # The pilot reaps the child itself (os.wait4) to read its resource usage.
    proc.returncode = 0


def poll(job: RunningJob) -> bool:
    """True once the payload has exited (its exit code and CPU are then known)."""
    if job.exit_code is not None:
        return True
    pid, status, rusage = os.wait4(job.proc_pid, os.WNOHANG)
    if pid == 0:
        cpu, mem = group_usage(job.proc_pid)
        job.cpu = max(job.cpu, cpu)
        job.memory_mb = max(job.memory_mb, mem)
        return False
    job.exit_code = os.waitstatus_to_exitcode(status)
    job.cpu = max(job.cpu, rusage.ru_utime + rusage.ru_stime)
    job.memory_mb = max(job.memory_mb, rusage.ru_maxrss / 1024)
    return True


def terminate(job: RunningJob, reason: str) -> None:
    job.kill_reason = job.kill_reason or reason
    with contextlib.suppress(ProcessLookupError):
        os.killpg(job.proc_pid, signal.SIGKILL)


def finish(wms: WmsClient, job: RunningJob, *, pilot_id: str, outputs: OutputDataStep, wall: float) -> str:
    """Outputs, output sandbox, final status; returns the status reported."""
    usage = {"cpu_seconds": round(job.cpu, 3), "wall_seconds": round(wall, 3), "memory_mb": round(job.memory_mb, 1)}
    records: list[dict[str, Any]] = []
    status, minor = "Done", "Execution Complete"
    if job.kill_reason:
        status, minor = ("Killed", job.kill_reason) if job.kill_reason.startswith("Killed") else ("Failed",
                                                                                                  job.kill_reason)
    elif job.exit_code != 0:
        status, minor = "Failed", f"Application exited with status {job.exit_code}"
    else:
        wms.set_status(job.job_id, pilot_id, "Completing", "Uploading outputs", **usage)
        base = job.desc.output_path or f"/belle/user/{job.owner}/jobs/{job.job_id}"
        files = []
        for name in job.desc.output_data:
            path = job.workdir / name
            if not path.is_file():
                status, minor = "Failed", f"Output file {name} was not produced"
                break
            files.append((path, f"{base.rstrip('/')}/{Path(name).name}"))
        if status == "Done":
            try:
                records = outputs.store(files, job.desc.output_se, owner=job.owner, meta=job.desc.output_metadata,
                                        dataset=job.desc.output_dataset)
            except Exception as exc:  # upload failures fail the job, not the pilot
                status, minor = "Failed", f"Output upload failed: {exc}"[:250]
    sandbox = None
    tarball = pack(job.workdir, job.desc.output_sandbox)
    if tarball:
        try:
            sandbox = wms.upload_output_sandbox(tarball)
        except Exception:
            sandbox = None
    app = f"exit code {job.exit_code}" if job.exit_code is not None and not job.kill_reason else "killed"
    wms.set_status(job.job_id, pilot_id, status, minor, outputs=records, output_sandbox=sandbox,
                   application_status=app, **usage)
    return status
