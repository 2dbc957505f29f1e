"""Where a rule's copies go: pure decisions over plain data, no I/O, no clock.

Rucio's choice, made explicit: RSEs that already hold the data come first (no transfer
needed), the rest are drawn at random in proportion to their weight (the value of the
rule's weight attribute on each RSE, 1 without one), without replacement. Grouping says
over what one choice is made: ALL = one set of RSEs for every file of the rule, DATASET
= one set per dataset, NONE = one set per file. The generator is injected, so a seeded
`random.Random` gives the same placement every time.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from onegrid.catalog.rules.errors import InsufficientTargetRSEs


@dataclass(frozen=True)
class Candidate:
    """An RSE a rule may place copies on."""

    rse_id: int
    name: str
    weight: float = 1.0


def choose_rses(candidates: Sequence[Candidate], copies: int, rng: random.Random, *,
                present: Mapping[int, int] | None = None, fixed: Sequence[int] = ()) -> list[int]:
    """`copies` distinct RSE ids out of `candidates`.

    `fixed` are RSEs already chosen earlier (a dataset's previous choice) and are kept;
    `present` maps RSE id -> bytes of the data already there, the most first. The rest is
    a weighted draw without replacement; RSEs of weight 0 are used only when nothing else
    is left (so a share of 0 means "never", unless the copies need it)."""
    if copies < 1:
        raise InsufficientTargetRSEs("a rule needs at least one copy")
    by_id = {c.rse_id: c for c in candidates}
    if len(by_id) < copies:
        names = ", ".join(sorted(c.name for c in by_id.values())) or "none"
        raise InsufficientTargetRSEs(
            f"rule refused: {copies} copies need {copies} RSEs, the expression gives {len(by_id)} ({names})")
    chosen = [r for r in dict.fromkeys(fixed) if r in by_id][:copies]
    if present:
        holders = sorted((r for r in present if r in by_id and r not in chosen),
                         key=lambda r: (-present[r], by_id[r].name))
        chosen.extend(holders[:copies - len(chosen)])
    rest = sorted((c for c in by_id.values() if c.rse_id not in chosen), key=lambda c: c.name)
    while len(chosen) < copies:
        pick = _weighted_pick(rest, rng)
        chosen.append(pick.rse_id)
        rest.remove(pick)
    return chosen


def _weighted_pick(pool: Sequence[Candidate], rng: random.Random) -> Candidate:
    positive = [c for c in pool if c.weight > 0]
    if not positive:
        return pool[int(rng.random() * len(pool)) % len(pool)]
    total = sum(c.weight for c in positive)
    point = rng.random() * total
    for c in positive:
        point -= c.weight
        if point < 0:
            return c
    return positive[-1]


def weight_of(value: object) -> float:
    """An RSE attribute's value as a weight (missing or not a number: 0)."""
    if isinstance(value, bool):
        return float(value)
    try:
        weight = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return weight if weight > 0 else 0.0


@dataclass(frozen=True)
class FilePlan:
    """The RSEs a file of the rule must be locked on."""

    scope: str
    name: str
    rse_ids: tuple[int, ...]


def plan_group(files: Sequence[tuple[str, str]], candidates: Sequence[Candidate], copies: int,
               rng: random.Random, *, grouping_one_set: bool, present: Mapping[tuple[str, str], Mapping[int, int]],
               fixed: Sequence[int] = (), locked: Mapping[tuple[str, str], Sequence[int]] | None = None,
               ) -> tuple[list[int], list[FilePlan]]:
    """Place the files of one group (ALL: the rule; DATASET: one dataset; NONE: each file
    alone). Returns the group's RSE choice (empty for NONE) and, per file, the RSEs it
    must be locked on. `locked` gives the RSEs a file is already locked on by this rule:
    they count towards its copies."""
    locked = locked or {}
    if grouping_one_set:
        totals: dict[int, int] = {}
        for key in files:
            for rse_id, nbytes in present.get(key, {}).items():
                totals[rse_id] = totals.get(rse_id, 0) + max(nbytes, 1)
        group = choose_rses(candidates, copies, rng, present=totals, fixed=fixed)
        return group, [FilePlan(s, n, tuple(group)) for s, n in files]
    plans = []
    for key in files:
        have = list(locked.get(key, ()))
        rses = choose_rses(candidates, copies, rng, present=present.get(key), fixed=have)
        plans.append(FilePlan(key[0], key[1], tuple(rses)))
    return [], plans
