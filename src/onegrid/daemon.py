"""The daemon loop every `onegrid daemon NAME` runs: cycles of one agent's `run_once`.

An agent does one bounded cycle per call and returns what it did (a dict of counts). The
loop sleeps through the injected clock between cycles, stops gracefully on SIGTERM/SIGINT
(the current cycle finishes), logs each cycle, and keeps counters for `/metrics`.
Several copies of one daemon share work by leases on the rows they claim; a killed one
loses nothing, its leases expire.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from onegrid.runtime import Runtime

log = logging.getLogger("onegrid.daemon")

# name -> "module:factory"; factory(runtime, worker_id) -> Agent
AGENTS: dict[str, str] = {
    "judge": "onegrid.catalog.rules.agents:judge",
    "conveyor": "onegrid.transfers.agents:conveyor",
    "reaper": "onegrid.catalog.rules.agents:reaper",
    "placement": "onegrid.catalog.rules.agents:placement",
    "wms": "onegrid.wms.agents:optimizer",
    "watchdog": "onegrid.wms.agents:watchdog",
    "site-director": "onegrid.wms.agents:site_director",
}


class Agent(Protocol):
    name: str
    # Seconds to wait after a cycle that did nothing (a busy cycle is followed at once).
    idle_interval: float

    def run_once(self) -> dict[str, int]: ...


def load_agent(name: str, runtime: Runtime, worker_id: str | None = None) -> Agent:
    if name not in AGENTS:
        from onegrid.errors import InvalidInput

        raise InvalidInput(f"unknown daemon {name!r}; choose one of {', '.join(sorted(AGENTS))}")
    module_name, factory = AGENTS[name].split(":")
    module = importlib.import_module(module_name)
    agent: Agent = getattr(module, factory)(runtime, worker_id or f"{name}-{uuid.uuid4().hex[:8]}")
    return agent


@dataclass
class DaemonLoop:
    agent: Agent
    runtime: Runtime
    stop_event: threading.Event = field(default_factory=threading.Event)
    totals: Counter[str] = field(default_factory=Counter)
    cycles: int = 0

    def install_signal_handlers(self) -> None:
        def _stop(signum: int, _frame: Any) -> None:
            log.info("%s: signal %s, stopping after this cycle", self.agent.name, signum)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def run(self, *, once: bool = False, max_cycles: int | None = None) -> Counter[str]:
        clock = self.runtime.clock
        while not self.stop_event.is_set():
            started = clock.monotonic()
            try:
                did = self.agent.run_once()
            except Exception:  # a cycle's failure must not kill the daemon
                log.exception("%s: cycle failed", self.agent.name)
                did = {"errors": 1}
            self.cycles += 1
            self.totals.update(did)
            busy = any(v for k, v in did.items() if k != "errors")
            log.info("%s cycle %d in %.2fs: %s", self.agent.name, self.cycles, clock.monotonic() - started,
                     ", ".join(f"{k}={v}" for k, v in did.items()) or "idle")
            if once or (max_cycles is not None and self.cycles >= max_cycles):
                break
            if not busy:
                # Wake up early when asked to stop; the clock decides how long a wait is.
                waited = 0.0
                step = min(0.5, self.agent.idle_interval) or 0.5
                while waited < self.agent.idle_interval and not self.stop_event.is_set():
                    clock.sleep(step)
                    waited += step
        return self.totals
