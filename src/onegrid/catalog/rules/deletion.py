"""Which replicas the reaper deletes on one RSE: a pure decision, no I/O, no clock.

Only replicas with a tombstone and no lock are candidates. Obsolete ones (tombstone at
the epoch: purged by their rule) go first and always. With greedy deletion (the RSE's
`greedyDeletion` attribute) every candidate whose tombstone has passed goes. Otherwise
candidates go only while the RSE lacks free space: least recently accessed first, until
the bytes needed are reached. Never more than `limit` per cycle (deletion throughput is
bounded per RSE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

OBSOLETE_BEFORE = datetime(1971, 1, 1, tzinfo=UTC)  # tombstones before this mean "now"


@dataclass(frozen=True)
class DeletionCandidate:
    scope: str
    name: str
    bytes: int
    tombstone: datetime
    last_access: datetime  # the latest trace or, without one, when the replica was made


def bytes_needed(free: int | None, min_free: int | None) -> int:
    """How much must go for the RSE to have its minimum free space (0 when unknown)."""
    if free is None or min_free is None:
        return 0
    return max(0, min_free - free)


def choose_victims(candidates: Sequence[DeletionCandidate], *, now: datetime, needed: int, greedy: bool,
                   limit: int) -> list[DeletionCandidate]:
    """The replicas to delete now, in deletion order."""
    due = [c for c in candidates if c.tombstone <= now]
    obsolete = sorted((c for c in due if c.tombstone < OBSOLETE_BEFORE), key=lambda c: (c.tombstone, c.name))
    rest = sorted((c for c in due if c.tombstone >= OBSOLETE_BEFORE),
                  key=lambda c: (c.last_access, c.tombstone, c.scope, c.name))
    chosen = list(obsolete)
    if greedy:
        chosen.extend(rest)
    else:
        freed = sum(c.bytes for c in obsolete)
        for c in rest:
            if freed >= needed:
                break
            chosen.append(c)
            freed += c.bytes
    return chosen[:max(0, limit)]
