"""Source selection: only usable replicas, disk before tape, nearest first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from onegrid.transfers.sources import ELSEWHERE, SAME_COUNTRY, SAME_SITE, Place, SourceReplica, choose_sources

DEST = Place(rse_id=0, name="DESY-DISK", site="DESY", country="DE")


def test_down_draining_bad_and_excluded_sources_are_never_chosen() -> None:
    reps = [SourceReplica(Place(1, "A", readable=False), "AVAILABLE"),
            SourceReplica(Place(2, "B", draining=True), "AVAILABLE"),
            SourceReplica(Place(3, "C"), "BAD"),
            SourceReplica(Place(4, "D"), "AVAILABLE"),
            SourceReplica(Place(5, "E"), "AVAILABLE")]
    assert [s.name for s in choose_sources(reps, DEST, {}, excluded={4})] == ["E"]
    assert [s.name for s in choose_sources(reps, DEST, {}, allowed={4})] == ["D"]


def test_default_distance_by_site_then_country_and_table_wins() -> None:
    reps = [SourceReplica(Place(1, "FAR", site="KEK", country="JP"), "AVAILABLE"),
            SourceReplica(Place(2, "NEAR", site="GridKa", country="DE"), "AVAILABLE"),
            SourceReplica(Place(3, "HOME", site="DESY", country="DE"), "AVAILABLE")]
    got = choose_sources(reps, DEST, {})
    assert [(s.name, s.distance) for s in got] == [("HOME", SAME_SITE), ("NEAR", SAME_COUNTRY), ("FAR", ELSEWHERE)]
    got = choose_sources(reps, DEST, {(1, 0): 0})
    assert got[0].name == "FAR"


def test_tape_only_needs_staging_and_disk_comes_first() -> None:
    reps = [SourceReplica(Place(1, "TAPE", site="DESY", country="DE", is_tape=True), "AVAILABLE"),
            SourceReplica(Place(2, "FARDISK", site="KEK", country="JP"), "AVAILABLE")]
    got = choose_sources(reps, DEST, {})
    assert [(s.name, s.needs_staging) for s in got] == [("FARDISK", False), ("TAPE", True)]


places = st.builds(Place, rse_id=st.integers(0, 20), name=st.text("ABC", min_size=1, max_size=3),
                   site=st.sampled_from([None, "DESY", "KEK"]), country=st.sampled_from([None, "DE", "JP"]),
                   readable=st.booleans(), draining=st.booleans(), is_tape=st.booleans())


@given(reps=st.lists(st.builds(SourceReplica, place=places, state=st.sampled_from(["AVAILABLE", "BAD", "COPYING"]))),
       excluded=st.sets(st.integers(0, 20)))
def test_every_chosen_source_is_usable_and_sorted(reps, excluded) -> None:  # type: ignore[no-untyped-def]
    got = choose_sources(reps, DEST, {}, excluded=excluded)
    by_id = {r.place.rse_id: r for r in reps}
    for s in got:
        assert s.rse_id not in excluded and s.rse_id != DEST.rse_id
        assert any(r.place.rse_id == s.rse_id and r.state == "AVAILABLE" and r.place.readable
                   and not r.place.draining for r in reps)
    keys = [(s.needs_staging, s.distance, s.name) for s in got]
    assert keys == sorted(keys)
    assert by_id is not None


def test_the_source_of_a_failed_attempt_goes_last_unless_it_is_the_only_one() -> None:
    from onegrid.transfers.sources import Source, after_failure

    a, b, c = Source(1, "A", 1, False), Source(2, "B", 2, False), Source(3, "C", 3, True)
    assert after_failure([a, b, c], 1) == [b, c, a]
    assert after_failure([a, b, c], 2) == [a, c, b]
    assert after_failure([a, b, c], None) == [a, b, c]
    assert after_failure([a], 1) == [a]
