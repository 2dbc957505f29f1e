"""The conveyor daemon: transfer requests to copies, and copies back to the catalogue.

One cycle (`run_once`):
1. every `optimizer_interval`, tune the links' active limits (FTS3's optimizer);
2. poll due tape recalls (`STAGING`);
3. claim a bounded batch of due requests by lease (QUEUED, or SUBMITTED whose conveyor
   died: its lease expired), choose a source for each, schedule what the links and
   storages have room for (`scheduler.schedule`), give the rest back;
4. run the copies concurrently in threads, renewing the leases while they run and
   recording the bytes the performance markers report;
5. record the outcomes in one transaction (`outcomes.record`): replica AVAILABLE, source
   BAD, retry with backoff, next source, or FAILED; one history row per attempt.

Two conveyors never copy the same file at once: a request is copied only under its
lease, and the lease is renewed until the copy ends. A killed conveyor's requests are
picked up again when its leases expire; the copy is redone with overwrite.
"""

from __future__ import annotations

import atexit
import logging
import ssl
import threading
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from onegrid.db import lease
from onegrid.iam.issuer import mint as mint_token
from onegrid.runtime import Runtime
from onegrid.storage.client import StorageClient
from onegrid.storage.client.http import HttpStorage
from onegrid.transfers import links, outcomes, staging
from onegrid.transfers.copy import CopyResult, CopySpec, FileCopy, Outcome
from onegrid.transfers.planning import CopyTask, Plan, plan_batch
from onegrid.transfers.tables import RequestState, TransferRequest

T = TransferRequest
log = logging.getLogger("onegrid.transfers.conveyor")


@dataclass
class Conveyor:
    runtime: Runtime
    worker_id: str
    name: str = "conveyor"
    idle_interval: float = 2.0
    _pool: ThreadPoolExecutor | None = None
    _clients: list[httpx.Client] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _tls: ssl.SSLContext | None = None
    _last_tune: float = float("-inf")
    _last_renew: float = float("-inf")
    _inflight: dict[Future[tuple[CopyResult, float]], CopyTask] = field(default_factory=dict)
    _progress: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.settings = self.runtime.settings.transfers
        self.clock = self.runtime.clock
        self.tmp_dir = Path(self.runtime.settings.data_dir) / "conveyor" / self.worker_id

    # -- wiring ----------------------------------------------------------------------------

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.settings.threads, thread_name_prefix=self.worker_id)
        return self._pool

    @property
    def http(self) -> httpx.Client:
        """This thread's connection pool. One pool per copy thread, each with a couple of
        connections: httpcore scans a pool's connections on every request, so one big shared
        pool costs milliseconds of CPU per copy. They share one TLS context (~20 ms CPU each)."""
        http: httpx.Client | None = getattr(self._local, "http", None)
        if http is None:
            with self._lock:
                if self._tls is None:
                    self._tls = _tls_context(self.settings.verify_tls)
                http = httpx.Client(timeout=httpx.Timeout(self.settings.copy_timeout, connect=30), verify=self._tls,
                                    limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
                                    headers={"User-Agent": f"onegrid-conveyor/{self.worker_id}"})
                self._clients.append(http)
            self._local.http = http
        return http

    def client_for(self, token: str | None) -> StorageClient:
        """A storage client sending `token`, sharing one connection pool."""
        return HttpStorage(token=token, http=self.http)

    def mint(self, scopes: list[str], audience: str) -> str:
        return mint_token(self.runtime, self.worker_id, scopes=scopes, audience=audience,
                          lifetime=self.settings.token_lifetime)

    def close(self) -> None:
        self.finish()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            clients, self._clients = self._clients, []
        for http in clients:
            http.close()
        self._local = threading.local()

    # -- the cycle -------------------------------------------------------------------------

    def run_once(self) -> dict[str, int]:
        """One cycle. Copies run across cycles: a cycle records the copies that finished,
        fills the free threads with new ones, and waits a little for some to finish, so the
        threads never idle behind the slowest copy of a batch."""
        counts: Counter[str] = Counter()
        if self.clock.monotonic() - self._last_tune >= self.settings.optimizer_interval:
            self._last_tune = self.clock.monotonic()
            with self.runtime.transaction() as s:
                counts["links_tuned"] = links.tune_links(s, self.clock, initial=self.settings.initial_active,
                                                         aggressive=self.settings.optimizer_aggressive)
        counts.update(self._poll_staging())
        counts.update(self._collect())
        free = self.settings.threads - len(self._inflight)
        ids = self._claim([RequestState.QUEUED, RequestState.SUBMITTED], free) if free > 0 else []
        if ids:
            with self.runtime.transaction() as s:
                plan = plan_batch(s, self.clock, self.runtime.rng, ids, self.worker_id, self.settings, slots=free)
            counts.update(plan.counts)
            if plan.stage:
                counts["staging"] += self._submit_stages(plan)
            for task in plan.copies:
                self._inflight[self.pool.submit(self._copy_one, task.request_id, task.spec)] = task
        if self._inflight:
            wait(set(self._inflight), timeout=self.settings.cycle_wait, return_when=FIRST_COMPLETED)
            counts.update(self._collect())
            self._renew_due()
        counts["in_flight"] = len(self._inflight)
        return {k: v for k, v in counts.items() if v or k == "in_flight"}

    def _collect(self) -> dict[str, int]:
        """Record the copies that finished (one transaction for all of them)."""
        done = [f for f in self._inflight if f.done()]
        if not done:
            return {}
        tasks = [self._inflight.pop(f) for f in done]
        results = {t.request_id: f.result() for f, t in zip(done, tasks, strict=True)}
        plan = Plan(copies=tasks)
        with self.runtime.transaction() as s:
            counts = outcomes.record(s, self.clock, self.worker_id, plan, results, self.settings)
        with self._lock:
            for rid in results:
                self._progress.pop(rid, None)
        self._release_staged(plan, results)
        return counts

    def finish_quietly(self) -> None:
        """`finish` at interpreter exit: what cannot be recorded is redone after its lease."""
        try:
            self.finish()
        except Exception:  # the database may be gone already; the leases cover it
            log.warning("conveyor %s: copies in flight not recorded at exit", self.worker_id, exc_info=True)

    def finish(self) -> dict[str, int]:
        """Wait for the copies in flight and record them (a graceful stop)."""
        if self._inflight:
            wait(set(self._inflight))
        return self._collect()

    def _claim(self, states: list[RequestState], free: int | None = None) -> list[int]:
        now = self.clock.now()
        with self.runtime.transaction() as s:
            return lease.claim(
                s, T.__table__, key=T.__table__.c.id, owner_col=T.__table__.c.lease_owner,
                expires_col=T.__table__.c.lease_expires,
                where=sa.and_(T.__table__.c.state.in_([x.value for x in states]),
                              T.__table__.c.next_attempt_at <= now),
                order_by=[T.__table__.c.priority.desc(), T.__table__.c.next_attempt_at, T.__table__.c.id],
                limit=self._claim_limit(states, free), owner=self.worker_id, now=now,
                lease_seconds=self.settings.lease_seconds)

    def _claim_limit(self, states: list[RequestState], free: int | None) -> int:
        """Copies run at most `threads` at a time: claiming many more than the free threads
        only plans requests that go straight back to the queue. Twice as many leaves the
        scheduler room to choose."""
        if states == [RequestState.STAGING] or free is None:
            return self.settings.batch_size
        return min(self.settings.batch_size, 2 * free)

    # -- copies ----------------------------------------------------------------------------

    def _copy_one(self, request_id: int, spec: CopySpec) -> tuple[CopyResult, float]:
        started = self.clock.monotonic()

        def progress(n: int) -> None:
            with self._lock:
                self._progress[request_id] = n

        try:
            result = FileCopy(spec, mint=self.mint, client_for=self.client_for, tmp_dir=self.tmp_dir,
                              on_progress=progress).run()
        except Exception as exc:  # a bug in one copy must not lose the batch's other outcomes
            result = CopyResult(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}")
        return result, self.clock.monotonic() - started

    def _renew_due(self) -> None:
        if self.clock.monotonic() - self._last_renew >= self.settings.lease_seconds / 3:
            self._last_renew = self.clock.monotonic()
            self._renew([t.request_id for t in self._inflight.values()])

    def _renew(self, ids: list[int]) -> None:
        """Keep running copies ours, and publish their progress from the markers."""
        now = self.clock.now()
        until = now + timedelta(seconds=self.settings.lease_seconds)
        with self._lock:
            progress = {i: self._progress.get(i, 0) for i in ids}
        with self.runtime.transaction() as s:
            for rid, n in progress.items():
                s.execute(sa.update(T).where(T.id == rid, T.lease_owner == self.worker_id)
                          .values(lease_expires=until, bytes_transferred=n, updated_at=now))

    # -- tape ------------------------------------------------------------------------------

    def _submit_stages(self, plan: Plan) -> int:
        submitted = staging.submit(plan.stage, mint=self.mint, client_for=self.client_for,
                                   disk_lifetime=self.settings.stage_disk_lifetime)
        with self.runtime.transaction() as s:
            outcomes.record_stage_submissions(s, self.clock, self.worker_id, plan, submitted, self.settings)
        return sum(1 for x in submitted if x.handle)

    def _poll_staging(self) -> dict[str, int]:
        ids = self._claim([RequestState.STAGING])
        if not ids:
            return {}
        with self.runtime.reading() as s:
            rows = list(s.execute(sa.select(T.id, T.stage_endpoint, T.stage_path, T.source_rse_id)
                                  .where(T.id.in_(ids))))
            items = outcomes.stage_items(s, [(r.id, r.stage_path, r.source_rse_id) for r in rows])
        by_handle: dict[str, list[staging.StageItem]] = {}
        for r in rows:
            if r.id in items and r.stage_endpoint:
                by_handle.setdefault(r.stage_endpoint, []).append(items[r.id])
        polls = []
        for handle, group in by_handle.items():
            polls.extend(staging.poll(handle, group, mint=self.mint, client_for=self.client_for))
        with self.runtime.transaction() as s:
            return outcomes.record_stage_polls(s, self.clock, self.worker_id, ids, polls, self.settings)

    def _release_staged(self, plan: Plan, results: dict[int, tuple[CopyResult, float]]) -> None:
        by_handle: dict[str, list[staging.StageItem]] = {}
        for task in plan.copies:
            res = results.get(task.request_id)
            if task.staged_handle and task.stage_item and res and res[0].outcome is Outcome.DONE:
                by_handle.setdefault(task.staged_handle, []).append(task.stage_item)
        for handle, group in by_handle.items():
            staging.release(handle, group, mint=self.mint, client_for=self.client_for)


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """TLS towards storages: the system's CAs, a given CA bundle, or (False) no verification."""
    if isinstance(verify, str) and verify.lower() in ("true", "false", "yes", "no", "1", "0"):
        verify = verify.lower() in ("true", "yes", "1")
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


def conveyor(runtime: Runtime, worker_id: str) -> Conveyor:
    """The `onegrid daemon conveyor` agent (registered in `onegrid.daemon.AGENTS`)."""
    runtime.load_keys()
    agent = Conveyor(runtime=runtime, worker_id=worker_id)
    # After SIGTERM the daemon loop ends between cycles: the copies still running finish
    # (the pool's threads are joined at exit) and are recorded here, not left to a lease.
    atexit.register(agent.finish_quietly)
    return agent

