"""How many transfers one link may run at once: FTS3's optimizer rules, as a pure function.

Per (source RSE, destination RSE) link, like a TCP window (SPECS §6): every optimizer
interval the link's recent history is summarised over a window whose length follows the
mean transfer duration (short transfers are judged on a short window), the throughput is
smoothed by an exponential moving average (alpha 0.1), and the active limit moves by one:

- success rate below 97 % → −1 (the link or a storage is in trouble: back off);
- throughput EMA down (by more than a small tolerance) → −1;
- success rate good and throughput up or flat → +1 (+2 in aggressive mode);
- never outside [floor, ceiling] of the link and of both storages, and never above the
  files the link has to move (active + queued), but never under the floor; an idle link
  (nothing active or queued) keeps its limit.

No I/O, no clock: the agent reads history and calls `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass

# FTS3 defaults (SPECS §6): actives per link in [2, 60].
DEFAULT_MIN_ACTIVE = 2
DEFAULT_MAX_ACTIVE = 60
EMA_ALPHA = 0.1
SUCCESS_THRESHOLD = 0.97
# A throughput EMA within 1 % of the previous one counts as flat, not down: measurement noise
# must not shrink a healthy link.
FLAT_TOLERANCE = 0.01


@dataclass(frozen=True)
class LinkSample:
    """What happened on a link during the window, and what is waiting on it now."""

    successes: int = 0
    failures: int = 0  # failures the link is to blame for (not missing files or existing targets)
    bytes: int = 0  # bytes moved by the successes
    busy_seconds: float = 0.0  # wall time the window's transfers were running in total
    active: int = 0
    queued: int = 0

    @property
    def attempts(self) -> int:
        return self.successes + self.failures

    @property
    def success_rate(self) -> float | None:
        return None if self.attempts == 0 else self.successes / self.attempts

    def throughput(self, window_seconds: float) -> float | None:
        """Aggregate bytes/s of the link over the window (None without successes)."""
        if self.successes == 0 or window_seconds <= 0:
            return None
        return self.bytes / window_seconds


@dataclass(frozen=True)
class Bounds:
    """Floor and ceiling of a link's active limit (link overrides and storage limits folded in)."""

    min_active: int = DEFAULT_MIN_ACTIVE
    max_active: int = DEFAULT_MAX_ACTIVE

    def __post_init__(self) -> None:
        if self.min_active < 1 or self.max_active < 1:
            raise ValueError("link bounds must be at least 1")


def link_bounds(link_min: int | None, link_max: int | None, source_max_reads: int | None,
                dest_max_writes: int | None) -> Bounds:
    """The bounds of a link: its own overrides, capped by what both storages accept.
    A storage ceiling under the floor wins (a storage's limit is a hard limit)."""
    ceiling = link_max if link_max is not None else DEFAULT_MAX_ACTIVE
    for storage in (source_max_reads, dest_max_writes):
        if storage is not None:
            ceiling = min(ceiling, storage)
    ceiling = max(ceiling, 1)
    floor = link_min if link_min is not None else DEFAULT_MIN_ACTIVE
    return Bounds(min_active=max(1, min(floor, ceiling)), max_active=ceiling)


@dataclass(frozen=True)
class Decision:
    active_limit: int
    ema_throughput: float | None
    throughput: float | None
    success_rate: float | None
    reason: str


def window_seconds(mean_duration: float | None) -> float:
    """FTS3 judges a link over 5, 15 or 30 minutes depending on how long transfers take."""
    if mean_duration is None or mean_duration < 30:
        return 300.0
    if mean_duration < 900:
        return 900.0
    return 1800.0


def clamp(value: int, bounds: Bounds, sample: LinkSample | None = None) -> int:
    ceiling = bounds.max_active
    if sample is not None:
        # Never above the files the link has to move, but a link keeps at least its floor.
        ceiling = min(ceiling, max(bounds.min_active, sample.active + sample.queued))
    return max(bounds.min_active, min(ceiling, value))


def decide(current: int | None, ema: float | None, sample: LinkSample, bounds: Bounds, *,
           window: float, aggressive: bool = False) -> Decision:
    """The next active limit of a link from its current limit, previous throughput EMA and
    the window's sample."""
    limit = bounds.min_active if current is None else current
    rate = sample.success_rate
    throughput = sample.throughput(window)
    new_ema = ema
    if throughput is not None:
        new_ema = throughput if ema is None else EMA_ALPHA * throughput + (1 - EMA_ALPHA) * ema
    if sample.active + sample.queued == 0:
        # Nothing to move: no evidence either way, and shrinking an idle link would only
        # slow the start of its next burst.
        return Decision(active_limit=clamp(limit, bounds), ema_throughput=new_ema, throughput=throughput,
                        success_rate=rate, reason="idle: keep")
    if rate is None:
        step, reason = 0, "no finished transfers in the window: keep"
    elif rate < SUCCESS_THRESHOLD:
        step, reason = -1, f"success rate {rate:.0%} under {SUCCESS_THRESHOLD:.0%}: -1"
    elif ema is not None and new_ema is not None and new_ema < ema * (1 - FLAT_TOLERANCE):
        step, reason = -1, f"throughput down ({new_ema:.0f} < {ema:.0f} B/s): -1"
    else:
        step = 2 if aggressive else 1
        reason = f"success rate {rate:.0%} and throughput up or flat: +{step}"
    new_limit = clamp(limit + step, bounds, sample)
    if new_limit != limit + step:
        reason += f" (held to {new_limit} by bounds [{bounds.min_active}, {bounds.max_active}]"
        reason += f" and {sample.active + sample.queued} files to move)"
    return Decision(active_limit=new_limit, ema_throughput=new_ema, throughput=throughput, success_rate=rate,
                    reason=reason)
