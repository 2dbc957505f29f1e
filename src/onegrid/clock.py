"""The only place in OneGrid that reads time or sleeps.

Everything else receives a `Clock`. Production code gets `SystemClock`; tests and the
simulator get `ManualClock`, whose time moves only when told to, so the same policies run
unchanged on a virtual clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    def time(self) -> float:
        """The current time in unix seconds."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations)."""

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for `seconds`."""

    async def asleep(self, seconds: float) -> None:
        """Suspend the calling coroutine for `seconds`."""


class SystemClock:
    """The wall clock of the machine."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0))


class ManualClock:
    """A virtual clock: time stands still until `advance` moves it.

    `sleep` advances the clock instead of blocking, so a daemon loop driven by a
    ManualClock runs as a discrete-event simulation.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        return self.time()

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when

    def sleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0))

    async def asleep(self, seconds: float) -> None:
        self.advance(max(seconds, 0))
        await asyncio.sleep(0)


def utc(dt: datetime) -> datetime:
    """The same instant as an aware UTC datetime (SQLite hands back naive ones)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
