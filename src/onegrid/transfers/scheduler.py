"""Which queued transfers start now: link limits, storage limits, activity shares, priorities.

A pure function. Each free slot goes to an activity drawn at random in proportion to its
weight among the activities that still have a startable file (FTS3's activity shares); in
that activity the file of highest priority (then the oldest) whose link and both storages
have room starts. A file whose link or storage is full stays queued for a later cycle.
Capacity only shrinks while scheduling, so a blocked file is looked at once.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Link = tuple[int, int]  # (source RSE id, destination RSE id)

DEFAULT_ACTIVITY_WEIGHT = 1.0


@dataclass(frozen=True)
class Candidate:
    """A queued request whose source has been chosen."""

    id: int
    link: Link
    activity: str
    priority: int  # 1..5, higher first
    order: int  # smaller is older


@dataclass(frozen=True)
class Capacity:
    """Free slots right now (limits minus what is already running)."""

    links: Mapping[Link, int]  # a link not listed has no free slot
    reads: Mapping[int, int]  # per source RSE; an RSE not listed is unlimited
    writes: Mapping[int, int]  # per destination RSE; an RSE not listed is unlimited


def schedule(candidates: Sequence[Candidate], capacity: Capacity, weights: Mapping[str, float],
             rng: random.Random, limit: int) -> list[int]:
    """Ids of the candidates to start now, at most `limit`, in start order."""
    links = dict(capacity.links)
    reads = dict(capacity.reads)
    writes = dict(capacity.writes)
    queues: dict[str, list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: (-c.priority, c.order, c.id)):
        queues.setdefault(c.activity, []).append(c)
    heads = dict.fromkeys(queues, 0)
    chosen: list[int] = []

    def fits(c: Candidate) -> bool:
        src, dst = c.link
        return links.get(c.link, 0) > 0 and reads.get(src, 1) > 0 and writes.get(dst, 1) > 0

    while len(chosen) < limit and queues:
        activities = sorted(queues)
        w = [max(weights.get(a, DEFAULT_ACTIVITY_WEIGHT), 0.0) for a in activities]
        activity = rng.choices(activities, weights=w)[0] if sum(w) > 0 else activities[0]
        queue = queues[activity]
        i = heads[activity]
        while i < len(queue) and not fits(queue[i]):
            i += 1
        if i >= len(queue):
            del queues[activity]
            continue
        c = queue[i]
        heads[activity] = i + 1
        chosen.append(c.id)
        src, dst = c.link
        links[c.link] -= 1
        if src in reads:
            reads[src] -= 1
        if dst in writes:
            writes[dst] -= 1
        if heads[activity] >= len(queue):
            del queues[activity]
    return chosen
