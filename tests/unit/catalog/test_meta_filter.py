"""The DID metadata filter language of `rucio list-dids --filter`, text and wire forms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.catalog.meta_filter import (
    Condition,
    InvalidFilter,
    parse_text,
    parse_wire,
    to_wire,
    wildcard_to_like,
)


def test_commas_are_and_semicolons_are_or() -> None:
    assert parse_text("datatype=RAW,run_number>=1000;project=belle2") == [
        [Condition("datatype", "eq", "RAW"), Condition("run_number", "gte", "1000")],
        [Condition("project", "eq", "belle2")],
    ]


@pytest.mark.parametrize(("text", "op"), [("k=v", "eq"), ("k==v", "eq"), ("k!=v", "ne"), ("k<v", "lt"),
                                          ("k<=v", "lte"), ("k>v", "gt"), ("k>=v", "gte")])
def test_every_operator_is_understood(text: str, op: str) -> None:
    assert parse_text(text) == [[Condition("k", op, "v")]]


def test_a_range_becomes_two_bounds() -> None:
    assert parse_text("1000 <= run_number < 2000") == [[Condition("run_number", "gte", "1000"),
                                                        Condition("run_number", "lt", "2000")]]


def test_wildcards_and_the_stock_clients_wire_form() -> None:
    assert parse_text("name=data_*")[0][0].has_wildcard
    assert parse_wire([{"run_number.gte": 5, "name": "*"}, {"type": "dataset"}]) == [
        [Condition("run_number", "gte", "5"), Condition("name", "eq", "*")], [Condition("type", "eq", "dataset")]]
    assert parse_wire({"open": True}) == [[Condition("open", "eq", "true")]]
    assert wildcard_to_like("a_b%c*") == "a\\_b\\%c%"


@pytest.mark.parametrize("text", ["run_number", "=5", "run_number>=", "a<b<c<d", "1000 > x > 10", "9x=1", "a b=c"])
def test_malformed_filters_are_refused(text: str) -> None:
    with pytest.raises(InvalidFilter, match="invalid filter"):
        parse_text(text)


def test_bad_wire_operator_is_refused() -> None:
    with pytest.raises(InvalidFilter, match="operator"):
        parse_wire([{"run_number.approx": 3}])


def test_duplicate_condition_cannot_go_on_the_wire() -> None:
    with pytest.raises(InvalidFilter, match="duplicate"):
        to_wire(parse_text("a>1,a>2"))


keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
values = st.from_regex(r"[A-Za-z0-9_.*:-]{1,12}", fullmatch=True)
ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
conditions = st.tuples(keys, ops, values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(conditions, min_size=1, max_size=4, unique_by=lambda c: (c[0], c[1])), min_size=1, max_size=3))
def test_text_and_wire_forms_round_trip(groups: list[list[tuple[str, str, str]]]) -> None:
    text = ";".join(",".join(f"{k}{op}{v}" for k, op, v in g) for g in groups)
    parsed = parse_text(text)
    assert len(parsed) == len(groups) and [len(g) for g in parsed] == [len(g) for g in groups]
    assert parse_wire(to_wire(parsed)) == parsed
    assert ";".join(",".join(str(c) for c in g) for g in parsed) == text.replace("==", "=")
