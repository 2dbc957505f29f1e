"""Placement of a rule's copies: distinct RSEs, existing replicas first, weights respected,
the same choice for the same seed (hypothesis over many candidate sets)."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onegrid.catalog.rules.errors import InsufficientTargetRSEs
from onegrid.catalog.rules.placement import Candidate, choose_rses, plan_group, weight_of

candidate_sets = st.lists(st.tuples(st.integers(0, 50), st.floats(0, 100)), min_size=1, max_size=12,
                          unique_by=lambda t: t[0]).map(lambda xs: [Candidate(i, f"RSE{i}", w) for i, w in xs])


@given(candidate_sets, st.integers(1, 12), st.integers(0, 2**32))
def test_copies_are_on_distinct_candidates_or_the_rule_is_refused(cands, copies, seed) -> None:
    if copies > len(cands):
        with pytest.raises(InsufficientTargetRSEs, match=f"{copies} copies need {copies} RSEs"):
            choose_rses(cands, copies, random.Random(seed))
        return
    chosen = choose_rses(cands, copies, random.Random(seed))
    assert len(chosen) == copies == len(set(chosen))
    assert set(chosen) <= {c.rse_id for c in cands}
    assert chosen == choose_rses(cands, copies, random.Random(seed))  # deterministic for a seed


@given(candidate_sets, st.data())
def test_rses_holding_the_data_are_chosen_first(cands, data) -> None:
    holders = data.draw(st.lists(st.sampled_from([c.rse_id for c in cands]), unique=True, max_size=len(cands)))
    copies = data.draw(st.integers(1, len(cands)))
    present = {r: 1000 - i for i, r in enumerate(holders)}
    chosen = choose_rses(cands, copies, random.Random(1), present=present)
    assert chosen[:min(copies, len(holders))] == holders[:copies]


def test_weights_set_the_shares_and_zero_weight_is_never_drawn_while_others_remain() -> None:
    cands = [Candidate(1, "BNL", 50), Candidate(2, "CNAF", 30), Candidate(3, "DESY", 20), Candidate(4, "NONE", 0)]
    rng = random.Random(42)
    counts = Counter(choose_rses(cands, 1, rng)[0] for _ in range(10000))
    assert counts[4] == 0
    for rse_id, share in ((1, 0.5), (2, 0.3), (3, 0.2)):
        assert abs(counts[rse_id] / 10000 - share) < 0.02
    assert len(choose_rses(cands, 4, rng)) == 4  # zero weight only when the copies need it


def test_a_previous_choice_is_kept() -> None:
    cands = [Candidate(i, f"R{i}") for i in range(5)]
    assert choose_rses(cands, 2, random.Random(3), fixed=[4, 2]) == [4, 2]


def test_grouping_one_set_places_every_file_on_the_same_rses_and_none_spreads() -> None:
    cands = [Candidate(i, f"R{i}") for i in range(4)]
    files = [("s", f"f{i}") for i in range(200)]
    group, plans = plan_group(files, cands, 1, random.Random(5), grouping_one_set=True, present={})
    assert len(group) == 1 and {p.rse_ids for p in plans} == {tuple(group)}
    group, plans = plan_group(files, cands, 1, random.Random(5), grouping_one_set=False, present={})
    assert group == [] and len({p.rse_ids for p in plans}) == 4


@given(st.one_of(st.none(), st.text(max_size=5), st.integers(-5, 5), st.floats(allow_nan=True), st.booleans()))
def test_weights_of_attribute_values_are_never_negative(value) -> None:
    assert weight_of(value) >= 0 or weight_of(value) != weight_of(value)
