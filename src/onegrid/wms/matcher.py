"""Which waiting work a pilot may take: pure decisions, no I/O, no clock.

Waiting jobs with identical requirements share a task queue (`TaskQueueSpec`). A pilot's
`Resource` matches a task queue when every requirement holds; among the matching task
queues the owner groups are ordered by a weighted draw on their fair shares, and inside a
group jobs go by priority, then age (the service takes the first free job atomically).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from onegrid.wms.models import JobDescription, Resource

# CPU-time buckets (seconds): a job asking for CPUTime t goes to the first bucket ≥ t, so
# jobs that differ by a few seconds share a task queue (DIRAC's TQ time segments).
CPU_BUCKETS: tuple[int, ...] = (600, 3600, 6 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 96 * 3600,
                                192 * 3600, 384 * 3600)


def cpu_bucket(cpu_time: int) -> int:
    for bucket in CPU_BUCKETS:
        if cpu_time <= bucket:
            return bucket
    return CPU_BUCKETS[-1]


@dataclass(frozen=True)
class TaskQueueSpec:
    owner_group: str
    cpu_time: int
    sites: tuple[str, ...] = ()
    banned_sites: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_processors: int = 1
    max_processors: int = 1
    ram_mb: int = 0

    @property
    def key(self) -> str:
        """A stable digest of the requirements: equal specs, same task queue."""
        raw = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()[:40]


def spec_for(desc: JobDescription, owner_group: str, *, candidate_sites: Sequence[str] | None = None) -> TaskQueueSpec:
    """The task queue of a checked job. `candidate_sites` (from input-data resolution)
    narrows the sites the job may run at."""
    sites = set(desc.site)
    if candidate_sites is not None:
        sites = set(candidate_sites) if not sites else sites & set(candidate_sites)
    return TaskQueueSpec(
        owner_group=owner_group,
        cpu_time=cpu_bucket(desc.cpu_time),
        sites=tuple(sorted(sites)),
        banned_sites=tuple(sorted(set(desc.banned_sites))),
        platforms=tuple(desc.all_platforms),
        tags=tuple(desc.all_tags),
        min_processors=desc.min_processors,
        max_processors=desc.max_processors,
        ram_mb=desc.ram_mb,
    )


def platform_choice(spec: TaskQueueSpec, resource: Resource) -> str | None:
    """The platform the job would run on here: the node's own, else a container's; None
    when neither fits. "" means any platform (the job asks for none)."""
    if not spec.platforms:
        return ""
    if resource.platform and resource.platform.upper() in spec.platforms:
        return resource.platform.upper()
    for p in resource.container_platforms:
        if p.upper() in spec.platforms:
            return p.upper()
    return None


def why_not(spec: TaskQueueSpec, resource: Resource) -> str | None:
    """None when `resource` satisfies every requirement of `spec`, else the first reason."""
    if spec.sites and resource.site not in spec.sites:
        return f"site {resource.site} not in {','.join(spec.sites)}"
    if resource.site in spec.banned_sites:
        return f"site {resource.site} banned by the job"
    if platform_choice(spec, resource) is None:
        return f"platform {resource.platform or '-'} not in {','.join(spec.platforms)}"
    missing = set(spec.tags) - set(resource.tags)
    if missing:
        return f"missing tags {','.join(sorted(missing))}"
    if spec.min_processors > resource.cores:
        return f"needs {spec.min_processors} processors, {resource.cores} free"
    if spec.ram_mb and resource.ram_mb and spec.ram_mb > resource.ram_mb:
        return f"needs {spec.ram_mb} MB RAM, {resource.ram_mb} offered"
    if spec.cpu_time > resource.cpu_time:
        return f"needs {spec.cpu_time} s CPU, {resource.cpu_time} left"
    return None


def matches(spec: TaskQueueSpec, resource: Resource) -> bool:
    return why_not(spec, resource) is None


def matching_queues(specs: Mapping[int, TaskQueueSpec], resource: Resource) -> dict[str, list[int]]:
    """Matching task-queue ids per owner group."""
    out: dict[str, list[int]] = {}
    for tq_id, spec in specs.items():
        if matches(spec, resource):
            out.setdefault(spec.owner_group, []).append(tq_id)
    return out


def order_groups(groups: Iterable[str], shares: Mapping[str, float], rng: random.Random,
                 default_share: float = 1.0) -> list[str]:
    """Groups in the order to try them: a weighted draw without replacement on fair shares
    (a group with twice the share comes first twice as often)."""
    pool = sorted(set(groups))
    out: list[str] = []
    while pool:
        weights = [max(shares.get(g, default_share), 0.0) for g in pool]
        total = sum(weights)
        if total <= 0:
            out += pool
            break
        pick = rng.random() * total
        acc = 0.0
        for i, w in enumerate(weights):
            acc += w
            if pick < acc or i == len(pool) - 1:
                out.append(pool.pop(i))
                break
    return out


def processors_for(spec: TaskQueueSpec, resource: Resource) -> int:
    """Cores the job gets: as many as it can use, never more than the pilot has free."""
    return max(spec.min_processors, min(spec.max_processors, resource.cores))
