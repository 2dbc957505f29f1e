"""The WMS daemons' steps: `optimizer` (checking Received jobs), `watchdog` (stalled jobs,
old sandboxes) and `site_director` (pilots to compute backends). Each `run_once()` does one
bounded cycle and returns what it did."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from onegrid.db.lease import claim
from onegrid.runtime import Runtime
from onegrid.wms import taskqueue
from onegrid.wms.backends import ComputeBackend, PilotRequest, backend_for
from onegrid.wms.director import pilots_to_submit, waiting_for
from onegrid.wms.inputdata import InputDataResolver, NoCatalogue
from onegrid.wms.service import sandboxes
from onegrid.wms.service.checking import Stager, check_job
from onegrid.wms.service.sites import banned_sites, list_queues
from onegrid.wms.service.watchdog import find_stalled
from onegrid.wms.status import PILOT_ALIVE, JobStatus, PilotStatus
from onegrid.wms.tables import Job, Pilot

LEASE_SECONDS = 300


def default_resolver(runtime: Runtime) -> InputDataResolver:
    """The catalogue's replica lookup when the catalogue is installed, else none."""
    try:
        from onegrid.wms.catalog_resolver import CatalogResolver  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return NoCatalogue()
    return CatalogResolver(runtime)  # type: ignore[no-any-return, unused-ignore]


@dataclass
class Optimizer:
    runtime: Runtime
    worker_id: str
    resolver: InputDataResolver
    name: str = "wms"
    idle_interval: float = 5

    def run_once(self) -> dict[str, int]:
        rt, batch = self.runtime, self.runtime.settings.wms.optimizer_batch
        did = {"checked": 0, "failed": 0, "staging": 0}
        with rt.transaction() as session:
            ids = claim(session, Job.__table__, key=Job.id, owner_col=Job.lease_owner,  # type: ignore[arg-type]
                        expires_col=Job.lease_expires,
                        where=Job.status.in_([JobStatus.RECEIVED.value, JobStatus.STAGING.value]),
                        order_by=[Job.id], limit=batch, owner=self.worker_id, now=rt.clock.now(),
                        lease_seconds=LEASE_SECONDS)
        for job_id in ids:
            with rt.transaction() as session:
                job = session.get(Job, job_id)
                if job is None:
                    continue
                before = job.status
                stager = self.resolver if isinstance(self.resolver, Stager) else None
                status = check_job(session, rt.clock, job, self.resolver, stager)
                job.lease_owner = job.lease_expires = None
                if status == before:
                    continue  # still on tape: not work done (the daemon may sleep)
                did["failed" if status == JobStatus.FAILED else "staging" if status == JobStatus.STAGING
                    else "checked"] += 1
        did.update(self.transformations())
        return did

    def transformations(self) -> dict[str, int]:
        """Data-driven transformations: one transaction each (a catalogue outage or a bad
        query in one must not stop the others)."""
        from onegrid.wms.service import transformations as tf

        rt = self.runtime
        total = {"tasks": 0, "new_files": 0}
        with rt.reading() as session:
            ids = tf.all_ids(session)
        for tid in ids:
            with rt.transaction() as session:
                t = tf.claim(session, tid)
                if t is None:
                    continue
                did = tf.cycle(session, rt.clock, rt.settings.wms, t)
            total["tasks"] += did["tasks"]
            total["new_files"] += did["new_files"]
        return total


@dataclass
class Watchdog:
    runtime: Runtime
    worker_id: str
    name: str = "watchdog"
    idle_interval: float = 5

    def run_once(self) -> dict[str, int]:
        rt = self.runtime
        with rt.transaction() as session:
            did = find_stalled(session, rt.clock, rt.settings.wms, rt.settings.wms.watchdog_batch)
        with rt.transaction() as session:
            did["sandboxes_removed"] = sandboxes.clean(session, rt.clock, rt.settings.wms)
        return did


@dataclass
class SiteDirector:
    runtime: Runtime
    worker_id: str
    name: str = "site-director"
    idle_interval: float = 5
    backends: dict[str, ComputeBackend] = field(default_factory=dict)

    def backend(self, name: str) -> ComputeBackend:
        if name not in self.backends:
            self.backends[name] = backend_for(name)
        return self.backends[name]

    def workdir(self) -> Path:
        wms = self.runtime.settings.wms
        return Path(wms.director_workdir) if wms.director_workdir else self.runtime.settings.data_dir / "pilots"

    def run_once(self) -> dict[str, int]:
        rt = self.runtime
        wms = rt.settings.wms
        did = {"submitted": 0, "finished": 0, "errors": 0}
        with rt.reading() as session:
            queues = list_queues(session)
            banned = banned_sites(session)
            cache = taskqueue.cache_for(rt.engine)
            cache.refresh(session, rt.clock.monotonic(), 0)
            waiting = taskqueue.waiting_per_queue(session)
            pilots = list(session.scalars(sa.select(Pilot).where(
                Pilot.status.in_([s.value for s in PILOT_ALIVE]), Pilot.backend != "external")))
        for q in queues:
            mine = [p for p in pilots if p.queue == q.name]
            try:
                backend = self.backend(q.backend)
                alive_refs = backend.alive([p.backend_ref for p in mine])
            except Exception:
                did["errors"] += 1
                continue
            gone = [p.id for p in mine if p.backend_ref not in alive_refs]
            if gone:
                with rt.transaction() as session:
                    session.execute(sa.update(Pilot).where(Pilot.id.in_(gone), Pilot.status.in_(
                        [s.value for s in PILOT_ALIVE])).values(status=PilotStatus.DONE.value))
                did["finished"] += len(gone)
            n = pilots_to_submit(q, waiting=waiting_for(q, cache.specs, waiting), alive=len(mine) - len(gone),
                                 jobs_per_pilot=wms.jobs_per_pilot, banned=q.site in banned)
            for _ in range(n):
                try:
                    self._submit(q, backend)
                    did["submitted"] += 1
                except Exception:
                    did["errors"] += 1
        return did

    def _submit(self, q: object, backend: ComputeBackend) -> None:
        from onegrid.iam.issuer import mint
        from onegrid.iam.tokens import WLCG_ANY_AUDIENCE
        from onegrid.wms.models import ComputeQueue

        assert isinstance(q, ComputeQueue)
        rt = self.runtime
        wms = rt.settings.wms
        pilot_id = f"pilot-{uuid.uuid4().hex[:12]}"
        self._ensure_pilot_account()
        token = mint(rt, wms.pilot_account, scopes=["compute.read", "compute.modify", *wms.pilot_storage_scopes],
                     audience=[rt.issuer, WLCG_ANY_AUDIENCE], lifetime=wms.pilot_token_lifetime)
        req = PilotRequest(pilot_id=pilot_id, queue=q, server=rt.settings.server_url, token=token,
                           workdir=str(self.workdir()), idle_seconds=wms.pilot_idle_seconds,
                           env={"ONEGRID_WMS__HEARTBEAT_SECONDS": str(wms.heartbeat_seconds),
                                "ONEGRID_WMS__PILOT_POLL_SECONDS": str(wms.pilot_poll_seconds)})
        ref = backend.submit(req)
        with rt.transaction() as session:
            now = rt.clock.now()
            session.add(Pilot(id=pilot_id, queue=q.name, site=q.site, backend=backend.name, backend_ref=ref,
                              status=PilotStatus.SUBMITTED.value, submitted_at=now, jobs_matched=0))

    def _ensure_pilot_account(self) -> None:
        from onegrid.iam import service as iam
        from onegrid.iam.tables import Account, AccountType

        rt = self.runtime
        name = rt.settings.wms.pilot_account
        with rt.transaction() as session:
            if session.get(Account, name) is None:
                iam.create_account(session, rt.clock, name, AccountType.SERVICE)


def optimizer(runtime: Runtime, worker_id: str) -> Optimizer:
    return Optimizer(runtime, worker_id, default_resolver(runtime),
                     idle_interval=runtime.settings.wms.agent_idle_seconds)


def watchdog(runtime: Runtime, worker_id: str) -> Watchdog:
    return Watchdog(runtime, worker_id, idle_interval=runtime.settings.wms.agent_idle_seconds)


def site_director(runtime: Runtime, worker_id: str) -> SiteDirector:
    return SiteDirector(runtime, worker_id, idle_interval=runtime.settings.wms.agent_idle_seconds)
