"""The matcher, resource tags, the status table, productions and the director: pure logic."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onegrid.errors import Conflict, InvalidInput
from onegrid.wms.director import pilots_to_submit, waiting_for
from onegrid.wms.matcher import (
    TaskQueueSpec,
    cpu_bucket,
    matches,
    order_groups,
    processors_for,
    spec_for,
    why_not,
)
from onegrid.wms.models import ComputeQueue, JobDescription, Resource
from onegrid.wms.production import parse_definition, split
from onegrid.wms.resource_tag import parse_resource_tag
from onegrid.wms.status import FINAL, TRANSITIONS, JobStatus, check_transition


def test_belle_resource_tag_means_multicore_and_el7_or_el8() -> None:
    tag = parse_resource_tag("MultiCore,EL7orEL8")
    assert tag.tags == ("MultiCore",) and tag.platforms == ("EL7", "EL8")
    d = JobDescription.model_validate({"Executable": "x", "ResourceTag": "MultiCore,EL7orEL8"})
    spec = spec_for(d, "/belle")
    assert spec.min_processors == 2 and spec.platforms == ("EL7", "EL8") and spec.tags == ("MultiCore",)
    with pytest.raises(InvalidInput, match="ResourceTag"):
        parse_resource_tag("Multi Core")


def test_why_not_names_the_first_unmet_requirement() -> None:
    spec = TaskQueueSpec(owner_group="/belle", cpu_time=3600, sites=("KEK",), platforms=("EL8",), tags=("GPU",),
                         min_processors=4, ram_mb=4000)
    ok = Resource(site="KEK", queue="q", platform="EL8", tags=["GPU"], cores=4, ram_mb=8000, cpu_time=7200)
    assert why_not(spec, ok) is None
    assert "site" in str(why_not(spec, ok.model_copy(update={"site": "BNL"})))
    assert "platform" in str(why_not(spec, ok.model_copy(update={"platform": "EL9"})))
    assert why_not(spec, ok.model_copy(update={"platform": "EL9", "container_platforms": ["EL8"]})) is None
    assert "tags" in str(why_not(spec, ok.model_copy(update={"tags": []})))
    assert "processors" in str(why_not(spec, ok.model_copy(update={"cores": 2})))
    assert "RAM" in str(why_not(spec, ok.model_copy(update={"ram_mb": 1000})))
    assert "CPU" in str(why_not(spec, ok.model_copy(update={"cpu_time": 600})))


specs = st.builds(
    TaskQueueSpec, owner_group=st.sampled_from(["/a", "/b"]), cpu_time=st.sampled_from([600, 3600, 86400]),
    sites=st.lists(st.sampled_from(["A", "B", "C"]), max_size=2, unique=True).map(tuple),
    banned_sites=st.lists(st.sampled_from(["A", "B"]), max_size=1).map(tuple),
    platforms=st.lists(st.sampled_from(["EL7", "EL8", "EL9"]), max_size=2, unique=True).map(tuple),
    tags=st.lists(st.sampled_from(["GPU", "MultiCore"]), max_size=2, unique=True).map(tuple),
    min_processors=st.integers(1, 8), max_processors=st.integers(1, 16), ram_mb=st.sampled_from([0, 2000, 8000]))
resources = st.builds(
    Resource, site=st.sampled_from(["A", "B", "C"]), queue=st.just("q"), platform=st.sampled_from(["EL7", "EL9"]),
    container_platforms=st.lists(st.sampled_from(["EL8"]), max_size=1),
    tags=st.lists(st.sampled_from(["GPU", "MultiCore"]), max_size=2), cores=st.integers(1, 16),
    ram_mb=st.sampled_from([0, 4000]), cpu_time=st.sampled_from([1000, 100000]))


@given(specs, resources)
def test_a_match_satisfies_every_requirement_and_never_exceeds_the_cores(spec: TaskQueueSpec, res: Resource) -> None:
    if matches(spec, res):
        assert not spec.sites or res.site in spec.sites
        assert res.site not in spec.banned_sites
        assert set(spec.tags) <= set(res.tags)
        assert spec.cpu_time <= res.cpu_time
        assert not spec.platforms or {res.platform, *res.container_platforms} & set(spec.platforms)
        assert spec.min_processors <= processors_for(spec, res) <= res.cores


@given(st.lists(st.sampled_from(["/a", "/b", "/c"]), min_size=1, unique=True), st.integers(0, 10**6))
def test_group_order_is_a_permutation(groups: list[str], seed: int) -> None:
    assert sorted(order_groups(groups, {"/a": 3}, random.Random(seed))) == sorted(groups)


def test_fair_shares_decide_which_group_goes_first() -> None:
    rng = random.Random(7)
    first = Counter(order_groups(["/prod", "/user"], {"/prod": 3, "/user": 1}, rng)[0] for _ in range(4000))
    assert 0.70 < first["/prod"] / 4000 < 0.80


def test_cpu_time_buckets() -> None:
    assert [cpu_bucket(t) for t in (1, 600, 601, 3600, 10**9)] == [600, 600, 3600, 3600, 384 * 3600]


def test_status_table_refuses_illegal_moves_and_final_states_only_delete_or_reschedule() -> None:
    check_transition(1, JobStatus.WAITING, JobStatus.MATCHED)
    with pytest.raises(Conflict, match="cannot go from Done to Running"):
        check_transition(1, JobStatus.DONE, JobStatus.RUNNING)
    for final in FINAL - {JobStatus.DELETED}:
        assert TRANSITIONS[final] == {JobStatus.DELETED, JobStatus.RESCHEDULED}
    assert TRANSITIONS[JobStatus.DELETED] == frozenset()
    assert set(TRANSITIONS) == set(JobStatus)


def test_seed_definition_with_ellipsis_splits_into_five_jobs_of_200_events() -> None:
    defn = parse_definition("""{
      "ProductionName": "MCTest_charged_BGx0",
      "ProductionGroup": "charged",
      ...
      "RunEvents": {"1003": {"0": 1000}},
      "MaxJobEvents": 200,
      "Stream": 0,
      "ResourceTag": "MultiCore,EL7orEL8"
    }""")
    jobs = split(defn, release="release-08", production_id=9)
    assert len(jobs) == 5
    assert [j.environment["ONEGRID_FIRST_EVENT"] for j in jobs] == ["0", "200", "400", "600", "800"]
    assert len({j.arguments for j in jobs}) == 5
    assert all(j.output_path == "/belle/MC/release-08/MCTest_charged_BGx0/s0/r1003" for j in jobs)
    # The pilot registers each output in the run's dataset with the production's metadata.
    assert {j.output_dataset for j in jobs} == {"belle:/belle/MC/release-08/MCTest_charged_BGx0/s0/r1003"}
    meta = jobs[2].output_metadata
    assert (meta["datatype"], meta["project"], meta["run_number"], meta["stream_name"], meta["events"]) == (
        "mdst", "MCTest_charged_BGx0", 1003, "0", 200)
    assert meta["first_event"] == 400 and meta["task_id"] == 9 and meta["version"] == "release-08"
    odd = parse_definition({"ProductionName": "p", "ProductionGroup": "g", "RunEvents": {"1": {"0": 450, "1": 10}},
                            "MaxJobEvents": 200})
    assert [j.environment["ONEGRID_EVENTS"] for j in split(odd, release="r", production_id=1)] == [
        "200", "200", "50", "10"]
    with pytest.raises(InvalidInput, match="MaxJobEvents"):
        parse_definition('{"ProductionName": "p", "ProductionGroup": "g", "RunEvents": {"1": {"0": 5}}}')


def test_director_keeps_pilots_in_proportion_to_matching_waiting_jobs() -> None:
    q = ComputeQueue(name="q", site="KEK", platform="EL8", tags=["MultiCore"], cores=8, max_pilots=5)
    specs = {1: TaskQueueSpec("/b", 3600, platforms=("EL8",), tags=("MultiCore",), min_processors=2),
             2: TaskQueueSpec("/b", 3600, platforms=("EL9",)),
             3: TaskQueueSpec("/b", 3600, sites=("DESY",))}
    waiting = waiting_for(q, specs, {1: 25, 2: 100, 3: 100})
    assert waiting == 25
    assert pilots_to_submit(q, waiting=waiting, alive=1, jobs_per_pilot=10, banned=False) == 2
    assert pilots_to_submit(q, waiting=1000, alive=1, jobs_per_pilot=10, banned=False) == 4
    assert pilots_to_submit(q, waiting=1000, alive=1, jobs_per_pilot=10, banned=True) == 0
    assert pilots_to_submit(q, waiting=0, alive=0, jobs_per_pilot=10, banned=False) == 0
