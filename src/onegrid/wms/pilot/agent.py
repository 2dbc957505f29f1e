"""The pilot's loop: ask for jobs while cores are free (filling mode), run them side by
side, heartbeat, obey kill requests, and exit after `idle` seconds without work."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onegrid.client import OneGridClient
from onegrid.clock import Clock
from onegrid.errors import Conflict, NotFound, OneGridError
from onegrid.wms.models import JobDescription
from onegrid.wms.pilot import job as jobs
from onegrid.wms.pilot.catalog_input import CatalogInputData
from onegrid.wms.pilot.catalog_output import CatalogOutputData
from onegrid.wms.pilot.steps import InputDataStep, OutputDataStep

log = logging.getLogger("onegrid.pilot")


@dataclass
class PilotConfig:
    server: str
    token: str
    site: str
    queue: str
    pilot_id: str
    workdir: Path
    cores: int = 1
    platform: str = "EL9"
    container_platforms: list[str] = field(default_factory=list)
    container_images: Mapping[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    ram_mb: int = 0
    cpu_time: int = 10**9
    idle_seconds: float = 60
    poll_seconds: float = 5
    heartbeat_seconds: float = 60
    max_jobs: int = 0  # 0: no limit
    keep_workdirs: bool = False
    storage_token: str | None = None  # sent to storage; default: the pilot's own token


class Pilot:
    def __init__(self, cfg: PilotConfig, clock: Clock, *, inputs: InputDataStep | None = None,
                 outputs: OutputDataStep | None = None) -> None:
        self.cfg = cfg
        self.clock = clock
        self.client = OneGridClient(cfg.server, cfg.token)
        self.wms = self.client.wms
        self.inputs = inputs or CatalogInputData(self.client, cfg.site)
        self.outputs = outputs or CatalogOutputData(self.client, cfg.site, storage_token=cfg.storage_token)
        self.running: dict[int, jobs.RunningJob] = {}
        self.done: dict[str, int] = {}

    @property
    def free_cores(self) -> int:
        return self.cfg.cores - sum(j.processors for j in self.running.values())

    def resource(self) -> dict[str, Any]:
        c = self.cfg
        return {"site": c.site, "queue": c.queue, "platform": c.platform, "container_platforms": c.container_platforms,
                "tags": c.tags, "cores": self.free_cores, "ram_mb": c.ram_mb, "cpu_time": c.cpu_time,
                "pilot_id": c.pilot_id}

    def run(self) -> dict[str, int]:
        last_work = self.clock.monotonic()
        matched = 0
        try:
            while True:
                now = self.clock.monotonic()
                self._tend(now)
                took = False
                if self.free_cores > 0 and (not self.cfg.max_jobs or matched < self.cfg.max_jobs):
                    took = self._take(now)
                    matched += took
                if self.running or took:
                    last_work = now
                elif now - last_work >= self.cfg.idle_seconds:
                    break
                if not took:
                    self.clock.sleep(self.cfg.poll_seconds)
        finally:
            with contextlib.suppress(OneGridError):
                self.wms.pilot_finished(self.cfg.pilot_id)
            self.client.close()
        return self.done

    def _take(self, now: float) -> bool:
        try:
            m = self.wms.match(self.resource())
        except OneGridError as exc:
            log.warning("match failed: %s", exc)
            return False
        if not m:
            return False
        stale = self.running.pop(m["job_id"], None)
        if stale is not None:  # rescheduled and given back to this pilot: the old payload goes
            jobs.terminate(stale, "Rescheduled")
            with contextlib.suppress(ChildProcessError):
                os.waitpid(stale.proc_pid, 0)
            shutil.rmtree(stale.workdir, ignore_errors=True)
        desc = JobDescription.model_validate(m["description"])
        rj = jobs.RunningJob(job_id=m["job_id"], desc=desc, processors=m["processors"], owner=m["owner"],
                             workdir=self.cfg.workdir / f"job_{m['job_id']}")
        log.info("job %s matched (%s cores)", rj.job_id, rj.processors)
        try:
            jobs.start(self.wms, rj, pilot_id=self.cfg.pilot_id, node_platform=self.cfg.platform,
                       job_platform=m.get("platform", ""), images=self.cfg.container_images, inputs=self.inputs,
                       now=now)
        except (RuntimeError, OSError, OneGridError) as exc:
            log.warning("job %s could not start: %s", rj.job_id, exc)
            with contextlib.suppress(OneGridError):
                self.wms.set_status(rj.job_id, self.cfg.pilot_id, "Failed", f"Job could not start: {exc}"[:250])
            self._count("Failed")
            return True
        self.running[rj.job_id] = rj
        return True

    def _tend(self, now: float) -> None:
        for job_id, rj in list(self.running.items()):
            if jobs.poll(rj):
                del self.running[job_id]
                try:
                    status = jobs.finish(self.wms, rj, pilot_id=self.cfg.pilot_id, outputs=self.outputs,
                                         wall=now - rj.started)
                except (Conflict, NotFound) as exc:
                    status = "Lost"
                    log.warning("job %s taken from this pilot: %s", job_id, exc)
                except OneGridError as exc:  # the server failed; the watchdog will reschedule
                    status = "Lost"
                    log.warning("job %s could not be reported: %s", job_id, exc)
                self._count(status)
                if not self.cfg.keep_workdirs:
                    shutil.rmtree(rj.workdir, ignore_errors=True)
                continue
            if rj.desc.cpu_time and rj.cpu > rj.desc.cpu_time:
                jobs.terminate(rj, f"CPU time limit of {rj.desc.cpu_time} s exceeded")
            if rj.desc.ram_mb and rj.memory_mb > rj.desc.ram_mb:
                jobs.terminate(rj, f"Memory limit of {rj.desc.ram_mb} MB exceeded")
            if now - rj.last_heartbeat >= self.cfg.heartbeat_seconds:
                rj.last_heartbeat = now
                try:
                    reply = self.wms.heartbeat(job_id, self.cfg.pilot_id, cpu_seconds=round(rj.cpu, 3),
                                               wall_seconds=round(now - rj.started, 3),
                                               memory_mb=round(rj.memory_mb, 1))
                except OneGridError as exc:
                    log.warning("heartbeat of job %s failed: %s", job_id, exc)
                    continue
                if reply.get("kill"):
                    jobs.terminate(rj, "Killed by the WMS" if reply.get("status") != "Deleted" else "Killed: deleted")

    def _count(self, status: str) -> None:
        self.done[status] = self.done.get(status, 0) + 1
