"""The scheduler respects link and storage limits, priorities and activity shares."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from onegrid.transfers.scheduler import Candidate, Capacity, schedule


def _c(i: int, link=(1, 2), activity="a", priority=3) -> Candidate:  # type: ignore[no-untyped-def]
    return Candidate(id=i, link=link, activity=activity, priority=priority, order=i)


def test_higher_priority_first_then_oldest() -> None:
    cands = [_c(1, priority=1), _c(2, priority=5), _c(3, priority=5), _c(4, priority=3)]
    got = schedule(cands, Capacity({(1, 2): 3}, {}, {}), {}, random.Random(0), 10)
    assert got == [2, 3, 4]


def test_full_link_does_not_block_other_links() -> None:
    cands = [_c(1, link=(1, 2)), _c(2, link=(1, 2)), _c(3, link=(3, 2))]
    assert sorted(schedule(cands, Capacity({(1, 2): 1, (3, 2): 5}, {}, {}), {}, random.Random(0), 10)) == [1, 3]


def test_storage_write_limit_spans_links() -> None:
    cands = [_c(i, link=(i % 3, 9)) for i in range(30)]
    got = schedule(cands, Capacity({(0, 9): 10, (1, 9): 10, (2, 9): 10}, {}, {9: 4}), {}, random.Random(0), 100)
    assert len(got) == 4


def test_activity_shares_are_weighted() -> None:
    cands = [_c(i, activity="Data Consolidation") for i in range(1000)]
    cands += [_c(1000 + i, activity="User Subscriptions") for i in range(1000)]
    got = schedule(cands, Capacity({(1, 2): 400}, {}, {}), {"Data Consolidation": 3, "User Subscriptions": 1},
                   random.Random(1), 400)
    by = Counter("D" if i < 1000 else "U" for i in got)
    assert len(got) == 400
    assert 2.2 < by["D"] / by["U"] < 4.2


@given(
    items=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from("xyz"), st.integers(1, 5)),
                   max_size=60),
    link_cap=st.integers(0, 6), reads=st.dictionaries(st.integers(0, 3), st.integers(0, 5)),
    writes=st.dictionaries(st.integers(0, 3), st.integers(0, 5)), limit=st.integers(0, 80), seed=st.integers(0, 9),
)
def test_never_over_any_limit_and_never_idle_when_something_fits(items, link_cap, reads, writes, limit,
                                                                seed) -> None:  # type: ignore[no-untyped-def]
    cands = [Candidate(id=i, link=(s, d), activity=a, priority=p, order=i) for i, (s, d, a, p) in enumerate(items)]
    links = {c.link: link_cap for c in cands}
    got = schedule(cands, Capacity(links, reads, writes), {"x": 1, "y": 2, "z": 0}, random.Random(seed), limit)
    assert len(got) == len(set(got)) <= limit
    chosen = [cands[i] for i in got]
    for link, n in Counter(c.link for c in chosen).items():
        assert n <= links[link]
    for rse, n in Counter(c.link[0] for c in chosen).items():
        assert n <= reads.get(rse, 10**9)
    for rse, n in Counter(c.link[1] for c in chosen).items():
        assert n <= writes.get(rse, 10**9)
    if len(got) < limit:  # work conserving: nothing left out could still have started
        used_l, used_r, used_w = Counter(c.link for c in chosen), Counter(c.link[0] for c in chosen), Counter(
            c.link[1] for c in chosen)
        for c in cands:
            if c.id in got:
                continue
            assert (used_l[c.link] >= links[c.link] or used_r[c.link[0]] >= reads.get(c.link[0], 10**9)
                    or used_w[c.link[1]] >= writes.get(c.link[1], 10**9))
