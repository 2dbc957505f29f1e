"""Properties of scope paths and narrowing (hypothesis), checked against the reference
library's own path matcher (scitokens' Enforcer)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onegrid.iam.policies import PolicyView, filter_scopes
from onegrid.iam.scopes import STORAGE_ACTIONS, Scope, narrow, normalize_path, path_covers
from onegrid.iam.tables import MatchingPolicy, PolicyRule

scitokens = pytest.importorskip("scitokens")

segment = st.sampled_from(["belle", "bel", "belle2", "data", "raw", "mc", "x", "a.b", "a-b"])
paths = st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts))
scopes = st.builds(Scope, st.sampled_from(STORAGE_ACTIONS), paths)


@given(paths, paths)
def test_path_covers_agrees_with_scitokens(granted: str, wanted: str) -> None:
    reference = scitokens.Enforcer._scope_path_matches(normalize_path(wanted), normalize_path(granted))
    assert path_covers(granted, wanted) is reference


@given(paths, paths, paths)
def test_path_covers_is_transitive(a: str, b: str, c: str) -> None:
    if path_covers(a, b) and path_covers(b, c):
        assert path_covers(a, c)


@given(st.lists(scopes, max_size=5), st.lists(scopes, max_size=5))
def test_narrowing_never_widens(held: list[Scope], requested: list[Scope]) -> None:
    for got in narrow(held, requested):
        assert got in requested
        assert any(h.covers(got) for h in held)


@given(st.lists(scopes, min_size=1, max_size=3), st.lists(scopes, max_size=3), st.lists(scopes, max_size=6))
def test_a_deny_is_never_reached_by_a_granted_scope(permits: list[Scope], denies: list[Scope],
                                                    requested: list[Scope]) -> None:
    level = [PolicyView(PolicyRule.PERMIT, MatchingPolicy.PATH, tuple(str(s) for s in permits)),
             PolicyView(PolicyRule.DENY, MatchingPolicy.PATH, tuple(str(s) for s in denies))]
    granted, refused = filter_scopes(requested, account_policies=[], group_policies=level, default_grants=[])
    assert set(granted) | set(refused) == set(requested)
    for g in granted:
        assert any(p.covers(g) for p in permits)
        for d in denies:
            # No file under a denied path is reachable with a granted scope of that action.
            assert not g.covers(d)  # the granted scope would reach into the denied path
            assert not (g.action == d.action and path_covers(d.path, g.path))  # type: ignore[arg-type]
