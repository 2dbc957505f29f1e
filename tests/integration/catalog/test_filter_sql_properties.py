"""Metadata filters compiled to SQL select exactly what a plain Python evaluation selects,
on SQLite and PostgreSQL (typed columns, JSON metadata, wildcards, OR of ANDs, NULLs)."""

from __future__ import annotations

import fnmatch
import operator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onegrid.catalog import did_query, dids, scopes
from onegrid.catalog.meta_filter import Condition
from onegrid.iam import service as iam
from onegrid.runtime import Runtime

DATATYPES = ["raw", "mdst", "udst", None]
FILES = [{"scope": "s", "name": f"{DATATYPES[i % 4] or 'x'}_{i:03d}.root", "bytes": i,
          "meta": {"run_number": i // 3, "datatype": DATATYPES[i % 4], "events": None if i % 5 == 0 else i * 10,
                   "beam": "cosmic" if i % 2 else "hadron", "energy": i % 7}} for i in range(60)]
OPS = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


def value_of(f: dict[str, Any], key: str) -> Any:
    return f["name"] if key == "name" else f["meta"].get(key)


def matches(f: dict[str, Any], c: Condition) -> bool:
    v = value_of(f, c.key)
    if v is None:
        return False
    if c.has_wildcard:
        hit = fnmatch.fnmatchcase(v, c.value)
        return hit if c.op == "eq" else not hit
    if isinstance(v, int):
        return bool(OPS[c.op](v, int(c.value)))
    return bool(OPS[c.op](v, c.value))


int_conditions = st.builds(Condition, st.sampled_from(["run_number", "events", "energy"]), st.sampled_from(list(OPS)),
                           st.integers(0, 25).map(str))
text_conditions = st.builds(Condition, st.sampled_from(["datatype", "beam"]), st.sampled_from(["eq", "ne"]),
                            st.sampled_from(["raw", "mdst", "udst", "cosmic", "hadron"]))
name_conditions = st.builds(Condition, st.just("name"), st.sampled_from(["eq", "ne"]),
                            st.sampled_from(["raw_*", "*_01*", "x_*.root", "mdst_005.root", "*"]))
conditions = st.one_of(int_conditions, text_conditions, name_conditions)
filters = st.lists(st.lists(conditions, min_size=1, max_size=3), min_size=1, max_size=3)


def test_compiled_filters_agree_with_python(runtime: Runtime) -> None:
    with runtime.transaction() as s:
        iam.create_account(s, runtime.clock, "alice")
        scopes.add_scope(s, runtime.clock, "s", "alice")
        dids.ensure_files(s, runtime.clock, "alice", FILES)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(filters)
    def check(groups: list[list[Condition]]) -> None:
        with runtime.reading() as s:
            got = list(did_query.search(s, "s", groups, did_type="file"))
        expected = sorted(f["name"] for f in FILES if any(all(matches(f, c) for c in g) for g in groups))
        assert got == expected, groups

    check()
