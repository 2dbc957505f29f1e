"""How many pilots each compute queue needs: pure."""

from __future__ import annotations

import math
from collections.abc import Mapping

from onegrid.wms.matcher import TaskQueueSpec, matches
from onegrid.wms.models import ComputeQueue, Resource


def queue_resource(q: ComputeQueue) -> Resource:
    """What a fresh pilot on this queue will offer."""
    return Resource(site=q.site, queue=q.name, platform=q.platform, container_platforms=q.container_platforms,
                    tags=q.tags, cores=q.cores, ram_mb=q.ram_mb)


def waiting_for(q: ComputeQueue, specs: Mapping[int, TaskQueueSpec], waiting: Mapping[int, int]) -> int:
    res = queue_resource(q)
    return sum(n for tq, n in waiting.items() if tq in specs and matches(specs[tq], res))


def pilots_to_submit(q: ComputeQueue, *, waiting: int, alive: int, jobs_per_pilot: int, banned: bool) -> int:
    """Keep pilots in proportion to the waiting jobs that could match here, up to the
    queue's maximum; none for a banned site."""
    if banned or waiting <= 0:
        return 0
    want = min(q.max_pilots, math.ceil(waiting / max(jobs_per_pilot, 1)))
    return max(0, want - alive)
