"""Knobs of the judge and the reaper, with the reasons for their defaults."""

from __future__ import annotations

from pydantic import BaseModel


class RuleSettings(BaseModel):
    # Rules, changed DIDs, finished transfers and subscriptions one judge takes per cycle:
    # small enough that a cycle ends in seconds, large enough for 10,000-file datasets.
    rule_batch: int = 50
    changed_did_batch: int = 200
    finished_batch: int = 20000
    subscription_batch: int = 500
    # How long a claimed row stays with one judge/reaper before another may take it (s).
    lease_seconds: float = 300.0
    # STUCK rules are retried after base * 2**attempts seconds, at most max (Rucio's
    # judge-repairer waits hours; a first retry after 10 minutes catches short outages).
    stuck_backoff_base: float = 600.0
    stuck_backoff_max: float = 86400.0
    # Replicas the reaper deletes per RSE per cycle (deletion throughput is bounded per RSE).
    reaper_per_rse: int = 100
    # Candidates looked at per RSE per cycle for the least-recently-accessed order.
    reaper_pool: int = 2000
    # Seconds a storage deletion may take.
    reaper_timeout: float = 60.0
