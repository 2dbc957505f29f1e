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
from onegrid.transfers.planning import Plan, plan_batch
from onegrid.transfers.tables import RequestState, TransferRequest

T = TransferRequest


@dataclass
class Conveyor:
    runtime: Runtime
    worker_id: str
    name: str = "conveyor"
    idle_interval: float = 2.0
    _pool: ThreadPoolExecutor | None = None
    _http: httpx.Client | None = None
    _last_tune: float = float("-inf")
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
        if self._http is None:
            n = self.settings.threads * 2
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.settings.copy_timeout, connect=30), verify=self.settings.verify_tls,
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                headers={"User-Agent": f"onegrid-conveyor/{self.worker_id}"})
        return self._http

    def client_for(self, token: str | None) -> StorageClient:
        """A storage client sending `token`, sharing one connection pool."""
        return HttpStorage(token=token, http=self.http)

    def mint(self, scopes: list[str], audience: str) -> str:
        return mint_token(self.runtime, self.worker_id, scopes=scopes, audience=audience,
                          lifetime=self.settings.token_lifetime)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- the cycle -------------------------------------------------------------------------

    def run_once(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        if self.clock.monotonic() - self._last_tune >= self.settings.optimizer_interval:
            self._last_tune = self.clock.monotonic()
            with self.runtime.transaction() as s:
                counts["links_tuned"] = links.tune_links(s, self.clock, initial=self.settings.initial_active,
                                                         aggressive=self.settings.optimizer_aggressive)
        counts.update(self._poll_staging())
        ids = self._claim([RequestState.QUEUED, RequestState.SUBMITTED])
        if not ids:
            return dict(counts)
        with self.runtime.transaction() as s:
            plan = plan_batch(s, self.clock, self.runtime.rng, ids, self.worker_id, self.settings)
        counts.update(plan.counts)
        if plan.stage:
            counts["staging"] += self._submit_stages(plan)
        if plan.copies:
            results = self._copy_all(plan)
            with self.runtime.transaction() as s:
                counts.update(outcomes.record(s, self.clock, self.worker_id, plan, results, self.settings))
            self._release_staged(plan, results)
        return dict(counts)

    def _claim(self, states: list[RequestState]) -> list[int]:
        now = self.clock.now()
        with self.runtime.transaction() as s:
            return lease.claim(
                s, T.__table__, key=T.__table__.c.id, owner_col=T.__table__.c.lease_owner,
                expires_col=T.__table__.c.lease_expires,
                where=sa.and_(T.__table__.c.state.in_([x.value for x in states]),
                              T.__table__.c.next_attempt_at <= now),
                order_by=[T.__table__.c.priority.desc(), T.__table__.c.next_attempt_at, T.__table__.c.id],
                limit=self.settings.batch_size, owner=self.worker_id, now=now,
                lease_seconds=self.settings.lease_seconds)

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

    def _copy_all(self, plan: Plan) -> dict[int, tuple[CopyResult, float]]:
        futures: dict[Future[tuple[CopyResult, float]], int] = {
            self.pool.submit(self._copy_one, task.request_id, task.spec): task.request_id for task in plan.copies}
        results: dict[int, tuple[CopyResult, float]] = {}
        pending = set(futures)
        renew_every = self.settings.lease_seconds / 3
        while pending:
            done, pending = wait(pending, timeout=renew_every, return_when=FIRST_COMPLETED)
            for f in done:
                results[futures[f]] = f.result()
            if pending and self.clock.monotonic() - plan.started >= renew_every:
                self._renew([futures[f] for f in pending])
                plan.started = self.clock.monotonic()
        with self._lock:
            for rid in results:
                self._progress.pop(rid, None)
        return results

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


def conveyor(runtime: Runtime, worker_id: str) -> Conveyor:
    """The `onegrid daemon conveyor` agent (registered in `onegrid.daemon.AGENTS`)."""
    runtime.load_keys()
    return Conveyor(runtime=runtime, worker_id=worker_id)

