"""Which replica a transfer reads: a pure ranking of the candidate source replicas.

Rules (issue 5, "Source selection"): only AVAILABLE replicas on RSEs readable now, never a
source that is down or draining, never one already found corrupt or missing for this
request, only RSEs the rule's source expression allows; then disk before tape (a tape-only
source must be staged first, which costs minutes to hours), then the nearest by distance.
The distance comes from the operator's table; without an entry it defaults from the RSEs'
`site` and `country` attributes (same site, same country, elsewhere).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

# Default distances when the operator's table says nothing (lower is nearer).
SAME_SITE = 1
SAME_COUNTRY = 5
ELSEWHERE = 10


@dataclass(frozen=True)
class Place:
    """Where an RSE is and whether it can serve now."""

    rse_id: int
    name: str
    site: str | None = None
    country: str | None = None
    readable: bool = True
    draining: bool = False
    is_tape: bool = False


@dataclass(frozen=True)
class SourceReplica:
    place: Place
    state: str  # ReplicaState value


@dataclass(frozen=True)
class Source:
    rse_id: int
    name: str
    distance: int
    needs_staging: bool


def default_distance(src: Place, dest: Place) -> int:
    if src.site and src.site == dest.site:
        return SAME_SITE
    if src.country and src.country == dest.country:
        return SAME_COUNTRY
    return ELSEWHERE


def usable(r: SourceReplica, dest: Place, *, excluded: Collection[int] = (),
           allowed: Collection[int] | None = None) -> bool:
    p = r.place
    return (r.state == "AVAILABLE" and p.readable and not p.draining and p.rse_id != dest.rse_id
            and p.rse_id not in excluded and (allowed is None or p.rse_id in allowed))


def choose_sources(replicas: Collection[SourceReplica], dest: Place, distances: Mapping[tuple[int, int], int], *,
                   excluded: Collection[int] = (), allowed: Collection[int] | None = None) -> list[Source]:
    """Usable sources, best first: disk before tape, then nearest, then by name (stable)."""
    out = []
    for r in replicas:
        if not usable(r, dest, excluded=excluded, allowed=allowed):
            continue
        d = distances.get((r.place.rse_id, dest.rse_id))
        out.append(Source(rse_id=r.place.rse_id, name=r.place.name,
                          distance=default_distance(r.place, dest) if d is None else d,
                          needs_staging=r.place.is_tape))
    out.sort(key=lambda s: (s.needs_staging, s.distance, s.name))
    return out


def after_failure(ranked: list[Source], failed: int | None) -> list[Source]:
    """The ranking for a retry: the source of the failed attempt goes last, so a source
    that is down (connection refused, timeouts) is not asked again while others exist;
    with no other source it is retried (the failure may have been passing)."""
    if failed is None or len(ranked) < 2:
        return ranked
    return [s for s in ranked if s.rse_id != failed] + [s for s in ranked if s.rse_id == failed]
