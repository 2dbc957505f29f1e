"""Daemon steps of the rules engine: `onegrid daemon judge`, `reaper`, `placement`.

Each `run_once` is one bounded cycle (see `judge.py` and `reaper.py` for what a cycle
does) and returns its counts; the daemon loop, the tests and the simulator call it alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from onegrid.catalog.rules import judge as steps
from onegrid.catalog.rules import reaper as reaping
from onegrid.catalog.rules.settings import RuleSettings
from onegrid.runtime import Runtime


@dataclass
class Judge:
    runtime: Runtime
    worker_id: str
    settings: RuleSettings = field(default_factory=RuleSettings)
    rng: random.Random | None = None
    name: str = "judge"
    idle_interval: float = 2.0

    def run_once(self) -> dict[str, int]:
        rng = self.rng or self.runtime.rng
        rt, me, st = self.runtime, self.worker_id, self.settings
        return {
            "injected": steps.inject(rt, me, st, rng),
            "content_changes": steps.follow_content(rt, me, st, rng),
            "transfers_finished": steps.finish(rt, st),
            "stuck_retried": steps.repair(rt, me, st, rng),
            "expired": steps.expire(rt, me, st),
            "subscription_rules": steps.subscribe(rt, me, st, rng),
        }


@dataclass
class Reaper:
    runtime: Runtime
    worker_id: str
    settings: RuleSettings = field(default_factory=RuleSettings)
    storage: reaping.StorageFactory = reaping.default_storage
    name: str = "reaper"
    idle_interval: float = 10.0

    def run_once(self) -> dict[str, int]:
        return reaping.reap(self.runtime, self.settings, self.storage)


@dataclass
class Placement:
    """Popularity-driven extra replicas: not done yet, the cycle does nothing."""

    runtime: Runtime
    worker_id: str
    name: str = "placement"
    idle_interval: float = 60.0

    def run_once(self) -> dict[str, int]:
        return {}


def judge(runtime: Runtime, worker_id: str) -> Judge:
    return Judge(runtime, worker_id)


def reaper(runtime: Runtime, worker_id: str) -> Reaper:
    return Reaper(runtime, worker_id)


def placement(runtime: Runtime, worker_id: str) -> Placement:
    return Placement(runtime, worker_id)
